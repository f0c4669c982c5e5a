"""Codec sweep (chunkzip.sweep): the candidate grid, ratios checked against arrays written
with each reported configuration, sampling, the Pareto front, JSON, table and plot."""
from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chunkzip as cz
from chunkzip.codecs.registry import get_codec
from chunkzip.storage import MemoryStore
from chunkzip.sweep import build_chain, candidates, describe, pareto_front, sample_regions
from chunkzip.sweep_report import PlotUnavailableError, format_table, plot, to_json

from test_copying import CountingStore

sweep_module = sys.modules["chunkzip.sweep"]  # the attribute chunkzip.sweep is the function


def _smooth(shape, dtype="f4", seed=0):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(size=shape), axis=-1).astype(dtype)


def _stored_ratio(data: np.ndarray, chunks, config) -> tuple[float, np.ndarray]:
    """Write ``data`` into a v2 array whose codecs are ``config`` (filters, then the
    compressor); return (bytes / bytes of the chunk files, the data read back)."""
    chain = build_chain(json.loads(json.dumps(config)))  # through JSON, as the CLI writes it
    store = MemoryStore()
    z = cz.array(data, chunks=chunks, store=store, zarr_format=2, compressor=chain[-1],
                 filters=chain[:-1] or None)
    stored = sum(store.getsize(k) for k in z._pipeline.chunk_keys())
    return data.nbytes / stored, z[...]


# ----------------------------------------------------------------------------- the grid
def test_candidates_cover_the_grid_and_rebuild():
    grid = candidates("f4")
    blosc = {(c["cname"], c["shuffle"], c["clevel"]) for c in grid if isinstance(c, dict) and c["id"] == "blosc"}
    assert blosc == {(n, s, lv) for n in ("lz4", "lz4hc", "zstd", "zlib", "blosclz") for s in (0, 1, 2)
                     for lv in ((1, 5, 7) if n == "zstd" else (1, 5, 9))}
    ids = {c["id"] for c in grid if isinstance(c, dict)}
    assert {"zstd", "lz4", "zlib", "gzip", "bz2", "lzma"} <= ids
    chains = [c for c in grid if isinstance(c, list)]
    assert {c[0]["id"] for c in chains} == {"bitround", "quantize"}
    assert {c[0]["id"] for c in candidates("i2") if isinstance(c, list)} == {"delta"}
    assert not [c for c in candidates("c16") if isinstance(c, list)]
    for dt in ("f4", "f8", "f2", "u1", "i8", "c8", "?"):
        for cfg in candidates(dt):
            again = json.loads(json.dumps(cfg))
            codecs = build_chain(again)
            assert [c.get_config() for c in codecs] == (again if isinstance(again, list) else [again])
    with pytest.raises(ValueError, match="object"):
        candidates(object)


def test_describe_labels():
    assert describe({"id": "blosc", "cname": "zstd", "clevel": 5, "shuffle": 2, "blocksize": 0}) == \
        "blosc:zstd:5:bitshuffle"
    assert describe([{"id": "bitround", "keepbits": 10}, {"id": "zstd", "level": 3}]) == "bitround:10+zstd:3"
    assert describe({"id": "crc32"}) == "crc32"


# ----------------------------------------------------------------------------- ratios
@pytest.mark.parametrize("dtype", ["f4", "i4"])
def test_every_ratio_equals_an_array_written_with_that_configuration(dtype):
    data = _smooth((48, 64), dtype=dtype) if dtype == "f4" else np.arange(48 * 64, dtype=dtype).reshape(48, 64) // 7
    rows = cz.sweep(data, chunks=(16, 32), sample=None, threads=2, progress=False)
    assert len(rows) == len(candidates(dtype))
    for row in rows:
        ratio, back = _stored_ratio(data, (16, 32), row["codec"])
        assert row["ratio"] == pytest.approx(ratio, rel=1e-12), row["name"]
        assert row["nbytes"] == data.nbytes
        if row["lossless"]:
            np.testing.assert_array_equal(back, data)
            assert row["precision"] is None and row["max_abs_error"] == 0
        else:
            assert row["codec"][0]["id"] in ("bitround", "quantize")
            assert row["precision"]
            err = float(np.max(np.abs(back.astype("f8") - data.astype("f8"))))
            assert row["max_abs_error"] == pytest.approx(err)
        assert row["encode_mbps"] > 0 and row["decode_mbps"] > 0
    assert [r["ratio"] for r in rows] == sorted((r["ratio"] for r in rows), reverse=True)


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 30), min_size=1, max_size=3), data=st.data())
def test_sampled_ratio_equals_the_sampled_chunks_by_hand(shape, data):
    shape = tuple(shape)
    chunks = tuple(data.draw(st.integers(1, s)) for s in shape)
    sample = data.draw(st.integers(1, 5))
    arr = (np.arange(math.prod(shape), dtype="u2").reshape(shape) % 11)
    cfg = {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 1, "blocksize": 0}
    [row] = cz.sweep(arr, codecs=[cfg], chunks=chunks, sample=sample, threads=1, progress=False)
    codec = get_codec(cfg)
    regions = sample_regions(shape, chunks, sample)
    assert len(regions) == min(sample, math.prod(-(-s // c) for s, c in zip(shape, chunks)))
    parts = [np.ascontiguousarray(arr[r]) for r in regions]
    assert row["nbytes"] == sum(p.nbytes for p in parts)
    assert row["nbytes_encoded"] == sum(len(codec.encode(p.reshape(-1))) for p in parts)
    assert row["lossless"]


def test_sample_regions_are_distinct_reproducible_and_within_bounds():
    regions = sample_regions((100, 70), (10, 7), 12)
    assert len({tuple((s.start, s.stop) for s in r) for r in regions}) == 12
    assert regions == sample_regions((100, 70), (10, 7), 12)
    assert len(sample_regions((100, 70), (10, 7), None)) == 100
    assert sample_regions((), (), 3) == [()]


# ----------------------------------------------------------------------------- arrays
def test_sweep_of_an_array_reads_only_sampled_stored_chunks():
    store = CountingStore()
    z = cz.zeros((80, 80), chunks=(10, 10), dtype="f4", store=store, zarr_format=3)
    z[:40, :] = _smooth((40, 80))  # 32 of 64 chunks stored
    store.reads.clear()
    rows = cz.sweep(z, codecs=[{"id": "zstd", "level": 1}], sample=5, threads=2, progress=False)
    read = store.chunk_reads()
    assert len(read) == 5 and all(n == 1 for n in read.values())
    stored = set(z._pipeline.chunk_keys())
    assert set(read) <= stored
    assert rows[0]["nbytes"] == 5 * 10 * 10 * 4


def test_sweep_of_a_v2_array_with_own_chunks_and_of_an_unwritten_one():
    data = _smooth((30, 40), dtype="f8")
    z = cz.array(data, chunks=(10, 20), zarr_format=2)
    rows = cz.sweep(z, codecs=[{"id": "lz4"}, [{"id": "bitround", "keepbits": 20}, {"id": "zstd", "level": 1}]],
                    sample=None, threads=1, progress=False)
    by_name = {r["name"]: r for r in rows}
    assert by_name["lz4:1"]["lossless"] and not by_name["bitround:20+zstd:1"]["lossless"]
    assert by_name["bitround:20+zstd:1"]["precision"] == "20 of 52 mantissa bits"
    ratio, _ = _stored_ratio(data, (10, 20), by_name["lz4:1"]["codec"])
    assert by_name["lz4:1"]["ratio"] == pytest.approx(ratio)
    empty = cz.zeros((20, 20), chunks=(10, 10), dtype="i2")  # nothing stored: samples the fill value
    [row] = cz.sweep(empty, codecs=[{"id": "zlib", "level": 1}], sample=2, threads=1, progress=False)
    assert row["nbytes"] == 2 * 10 * 10 * 2 and row["ratio"] > 10


def test_automatic_sample_size():
    big = cz.zeros((2048, 1024), chunks=(256, 512), dtype="f4")  # 512 KiB chunks: 4 fit in 2 MiB
    [row] = cz.sweep(big, codecs=[{"id": "lz4"}], threads=1, progress=False)
    assert row["nbytes"] == 4 * 256 * 512 * 4
    tiny = cz.zeros((100_000,), chunks=10, dtype="u1")  # capped at MAX_AUTO_SAMPLE chunks
    [row] = cz.sweep(tiny, codecs=[{"id": "lz4"}], threads=1, progress=False)
    assert row["nbytes"] == sweep_module.MAX_AUTO_SAMPLE * 10
    [row] = cz.sweep(np.arange(10, dtype="i2"), codecs=[{"id": "lz4"}], threads=1, progress=False)
    assert row["nbytes"] == 20  # fewer chunks than the budget: all of them


def test_codec_objects_and_chains_are_accepted():
    from chunkzip.codecs import Delta, Zstd

    data = np.arange(1000, dtype="i8")
    rows = cz.sweep(data, codecs=[Zstd(level=2), [Delta("<i8"), Zstd(level=2)]], chunks=250, threads=1,
                    progress=False)
    assert {json.dumps(r["codec"], sort_keys=True) for r in rows} == {
        json.dumps(c, sort_keys=True) for c in ({"id": "zstd", "level": 2, "checksum": False},
                                                [{"id": "delta", "dtype": "<i8", "astype": "<i8"},
                                                 {"id": "zstd", "level": 2, "checksum": False}])}
    assert rows[0]["name"] == "delta+zstd:2"


@pytest.mark.parametrize("kwargs, match", [
    ({"sample": 0}, "sample"), ({"sample": 2.5}, "sample"), ({"sample": "most"}, "sample"), ({"threads": 0}, "threads"),
    ({"repeat": 0}, "repeat"), ({"codecs": []}, "no codec"), ({"codecs": [[]]}, "empty"),
    ({"codecs": [{"id": "nope"}]}, "unknown codec"), ({"chunks": (0,)}, "chunk"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        cz.sweep(np.arange(100, dtype="f4"), progress=False, **kwargs)


def test_bad_data():
    with pytest.raises(ValueError, match="object"):
        cz.sweep(np.array(["a", None], dtype=object))
    with pytest.raises(ValueError, match="nothing to sample"):
        cz.sweep(np.zeros((0, 3), "f4"))
    with pytest.raises(ValueError, match="failed on the sampled chunks"):
        cz.sweep(np.arange(10, dtype="i4"), codecs=[[{"id": "bitround", "keepbits": 3}, {"id": "zstd"}]])


# ----------------------------------------------------------------------------- front, table, JSON, plot
def test_pareto_front_by_hand():
    rows = [dict(ratio=r, encode_mbps=e, decode_mbps=d, lossless=ll) for r, e, d, ll in [
        (3, 10, 10, True), (2, 20, 10, True), (1, 5, 5, True), (2, 10, 10, True), (9, 1, 1, False), (1, 1, 1, False)]]
    assert pareto_front(rows) == [True, True, False, False, True, False]
    assert pareto_front(rows, ("ratio",)) == [True, False, False, False, True, False]
    assert pareto_front([]) == []


def _few_rows():
    return cz.sweep(_smooth((32, 32)), codecs=[{"id": "lz4"}, {"id": "zstd", "level": 1},
                                             [{"id": "bitround", "keepbits": 8}, {"id": "zstd", "level": 1}]],
                    chunks=16, threads=1, progress=False)


def test_table_json_round_trip():
    rows = _few_rows()
    text = format_table(rows, top=2)
    lines = text.splitlines()
    assert lines[0].split() == ["codec", "ratio", "enc", "MB/s", "dec", "MB/s", "lossless"]
    assert len(lines) == 2 + 2 + 1 and "3 configurations" in lines[-1]
    assert lines[2].split()[0] == "*"  # the best ratio is always on its kind's front
    assert "no (8 of 23 mantissa bits)" in format_table(rows)
    back = json.loads(to_json(rows))
    for row, loaded in zip(rows, back):
        assert [c.get_config() for c in build_chain(loaded["codec"])] == \
            [c.get_config() for c in build_chain(row["codec"])]
        assert loaded["ratio"] == row["ratio"]


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "sweep.png"
    plot(_few_rows(), str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(PlotUnavailableError, match=r"chunkzip\[plot\]"):
        plot(_few_rows(), str(tmp_path / "x.png"))


def test_progress_bar_over_configurations(capsys):
    pytest.importorskip("tqdm")
    cz.sweep(np.arange(100, dtype="i4"), codecs=[{"id": "lz4"}, {"id": "zlib"}], threads=1, progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err and "config" in err
    cz.sweep(np.arange(100, dtype="i4"), codecs=[{"id": "lz4"}], threads=1)  # auto: off in tests
    assert capsys.readouterr().err == ""
