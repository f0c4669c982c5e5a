"""Array.info_complete(): per-chunk ratio spread and bytes after each codec stage, checked
against the sizes of the stored chunks and the codecs applied by hand."""
from __future__ import annotations

import numpy as np
import pytest

import chunkzip as cz
from chunkzip.codecs import Blosc, Delta, Quantize, Zstd
from chunkzip.storage import MemoryStore


def _value(info, key: str) -> str:
    return info[key].split(" (")[0]


def test_ratio_spread_and_stage_bytes_by_hand():
    rng = np.random.default_rng(3)
    data = np.concatenate([np.zeros((20, 40)), rng.normal(size=(20, 40))]).astype("f4")
    store = MemoryStore()
    z = cz.array(data, chunks=(10, 20), store=store, zarr_format=2,
                 filters=[Quantize(digits=2, dtype="<f4", astype="<f2")], compressor=Zstd(level=1))
    info = z.info_complete(progress=False)
    keys = z._pipeline.chunk_keys()
    sizes = np.array([store.getsize(k) for k in keys], dtype=np.float64)
    ratios = 10 * 20 * 4 / sizes
    assert info["Chunks stored"] == "8"
    assert info["Chunk ratio min/median/max"] == \
        f"{ratios.min():.2f} / {np.median(ratios):.2f} / {ratios.max():.2f}"
    assert _value(info, "Bytes before codecs") == str(8 * 10 * 20 * 4)
    assert _value(info, "Bytes after quantize") == str(8 * 10 * 20 * 2)  # float32 -> float16
    assert _value(info, "Bytes after zstd") == str(int(sizes.sum()))
    # everything .info has is still there, in the same order
    assert [k for k, _ in z.info_complete(progress=False).rows][:len(z.info.rows)] == [k for k, _ in z.info.rows]
    assert "Chunk ratio min/median/max" in repr(info) and "<table" in info._repr_html_()


def test_v3_chain_repeated_codecs_and_missing_chunks():
    z = cz.zeros((100,), chunks=(10,), dtype="i4", zarr_format=3, filters=[Delta("<i4")],
                 compressors=[Blosc(cname="lz4", clevel=1), Blosc(cname="zstd", clevel=1)])
    z[:35] = np.arange(35)
    info = z.info_complete(progress=False)
    assert info["Chunks stored"] == "4"
    assert _value(info, "Bytes after delta") == str(4 * 40)
    assert "Bytes after blosc #2" in dict(info.rows) and "Bytes after blosc #3" in dict(info.rows)
    stored = sum(z.store.getsize(k) for k in z._pipeline.chunk_keys())
    assert _value(info, "Bytes after blosc #3") == str(stored)


def test_empty_and_object_arrays():
    z = cz.zeros((10, 10), chunks=5)
    info = z.info_complete(progress=False)
    assert info["Chunks stored"] == "0" and "Chunk ratio min/median/max" not in dict(info.rows)
    s = cz.array(np.array(["a", "bb", "ccc"] * 10, dtype=object), dtype=str, chunks=7)
    rows = dict(s.info_complete(progress=False).rows)
    assert rows["Chunks stored"] == "5" and "Chunk ratio min/median/max" not in rows
    assert "Bytes after blosc" in rows


def test_progress_bar_over_chunks(capsys):
    pytest.importorskip("tqdm")
    z = cz.array(np.arange(100), chunks=10)
    z.info_complete(progress=True)
    assert "10/10" in capsys.readouterr().err
    z.info_complete()
    assert capsys.readouterr().err == ""
