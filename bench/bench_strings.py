"""Variable-length string arrays (the spec's 120,000 greetings), chunkzip vs zarr-python.

Run: ``pytest bench/bench_strings.py --benchmark-json=bench/strings.json`` then
``python bench/report.py bench/strings.json``.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

GREETINGS = ["¡Hola mundo!", "Hej Världen!", "Servus Woid!", "Hei maailma!", "Xin chào thế giới",
             "Njatjeta Botë!", "Γεια σου κόσμε!", "こんにちは世界", "世界，你好！", "Helló, világ!",
             "Zdravo svete!", "เฮลโลเวิลด์"]
TEXT = np.array(GREETINGS * 10000, dtype=object)


def _chunkzip(path):
    import chunkzip as cz

    z = cz.open(path, mode="w", shape=TEXT.shape, chunks=(10000,), dtype=str, zarr_format=3)
    z[...] = TEXT
    return z[...]


def _zarr(path):
    import zarr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = zarr.create_array(store=path, shape=TEXT.shape, chunks=(10000,), dtype=str, zarr_format=3,
                              overwrite=True)
        z[...] = TEXT
        return z[...]


@pytest.mark.parametrize("lib", ["chunkzip", "zarr-python"])
def test_string_roundtrip(benchmark, lib, tmp_path):
    benchmark.group = "120,000 vlen strings write + read (dtype=str, v3)"
    fn = _chunkzip if lib == "chunkzip" else _zarr
    out = benchmark(fn, str(tmp_path / "s.zarr"))
    assert list(np.asarray(out)[:12]) == GREETINGS and len(out) == len(TEXT)
