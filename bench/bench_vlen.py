"""VLenUTF8 on the tutorial's 120,000 greetings: chunkzip vs numcodecs.

Run: ``python -m pytest bench/bench_vlen.py --benchmark-only``; compare the rows of a group.
"""
from __future__ import annotations

import numcodecs
import numpy as np
import pytest

from chunkzip.codecs.vlen import VLenUTF8

GREETINGS = [
    "¡Hola mundo!", "Hej Världen!", "Servus Woid!", "Hei maailma!", "Xin chào thế giới",
    "Njatjeta Botë!", "Γεια σου κόσμε!", "こんにちは世界", "世界，你好！", "Helló, világ!",
    "Zdravo svete!", "เฮลโลเวิลด์",
]
CODECS = {"chunkzip": VLenUTF8(), "numcodecs": numcodecs.VLenUTF8()}


def fresh_data() -> np.ndarray:
    """New str objects: no UTF-8 form cached inside them by an earlier encode."""
    return np.array([g.encode("utf-8").decode("utf-8") for g in GREETINGS * 10000], dtype=object)


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return np.array(GREETINGS * 10000, dtype=object)


@pytest.mark.benchmark(group="vlen-utf8 encode 120k")
@pytest.mark.parametrize("lib", list(CODECS))
def test_encode(benchmark, data: np.ndarray, lib: str) -> None:
    codec = CODECS[lib]
    enc = benchmark(codec.encode, data)
    assert len(enc) > 0


@pytest.mark.benchmark(group="vlen-utf8 encode 120k fresh strings")
@pytest.mark.parametrize("lib", list(CODECS))
def test_encode_fresh(benchmark, lib: str) -> None:
    codec = CODECS[lib]
    enc = benchmark.pedantic(codec.encode, setup=lambda: ((fresh_data(),), {}), rounds=20)
    assert len(enc) > 0


@pytest.mark.benchmark(group="vlen-utf8 decode 120k")
@pytest.mark.parametrize("lib", list(CODECS))
def test_decode(benchmark, data: np.ndarray, lib: str) -> None:
    codec = CODECS[lib]
    enc = bytes(CODECS["numcodecs"].encode(data))
    dec = benchmark(codec.decode, enc)
    assert dec.shape == data.shape


@pytest.mark.benchmark(group="vlen-utf8 decode into out 120k")
@pytest.mark.parametrize("lib", list(CODECS))
def test_decode_out(benchmark, data: np.ndarray, lib: str) -> None:
    codec = CODECS[lib]
    enc = bytes(CODECS["numcodecs"].encode(data))
    out = np.empty(data.shape, dtype=object)
    benchmark(codec.decode, enc, out)
    assert out[-1] == data[-1]
