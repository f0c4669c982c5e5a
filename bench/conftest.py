"""Shared fixtures for the side-by-side benchmarks (chunkzip vs zarr-python vs tensorstore)."""
from __future__ import annotations

import numpy as np
import pytest

SHAPE = (4096, 4096)  # 64 MiB of int32
CHUNKS = (256, 256)
SMALL_SHAPE, SMALL_CHUNKS = (32000, 32), (32, 32)  # 1000 chunks of 4 KiB


def blosc_config() -> dict:
    return {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}


@pytest.fixture(scope="session")
def data() -> np.ndarray:
    rng = np.random.default_rng(0)
    # smooth-ish data: compresses like real measurements, not like zeros
    base = np.arange(SHAPE[0] * SHAPE[1], dtype=np.int32).reshape(SHAPE)
    return base + rng.integers(0, 64, SHAPE, dtype=np.int32)


@pytest.fixture(scope="session")
def small_data() -> np.ndarray:
    return np.arange(SMALL_SHAPE[0] * SMALL_SHAPE[1], dtype=np.int32).reshape(SMALL_SHAPE)


def _write_chunkzip(path: str, arr: np.ndarray, chunks: tuple) -> None:
    import chunkzip as cz
    from chunkzip.codecs import Blosc

    z = cz.open(path, mode="w", shape=arr.shape, chunks=chunks, dtype=arr.dtype, zarr_format=2,
                compressor=Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE))
    z[...] = arr


@pytest.fixture(scope="session")
def big_path(tmp_path_factory, data) -> str:
    path = str(tmp_path_factory.mktemp("bench") / "big.zarr")
    _write_chunkzip(path, data, CHUNKS)
    return path


@pytest.fixture(scope="session")
def small_path(tmp_path_factory, small_data) -> str:
    path = str(tmp_path_factory.mktemp("bench") / "small.zarr")
    _write_chunkzip(path, small_data, SMALL_CHUNKS)
    return path


class Lib:
    """One library's way to open, read and write a Zarr v2 array on local disk."""

    name = ""

    def open(self, path: str):
        raise NotImplementedError

    def create(self, path: str, shape, chunks, dtype):
        raise NotImplementedError

    def read(self, arr, sel):
        return arr[sel]

    def write(self, arr, sel, value) -> None:
        arr[sel] = value

    def vindex(self, arr, coords):
        return arr.vindex[coords]

    def oindex(self, arr, sel):
        return arr.oindex[sel]


class ChunkzipLib(Lib):
    name = "chunkzip"

    def open(self, path):
        import chunkzip as cz

        return cz.open(path, mode="r+")

    def create(self, path, shape, chunks, dtype):
        import chunkzip as cz
        from chunkzip.codecs import Blosc

        return cz.open(path, mode="w", shape=shape, chunks=chunks, dtype=dtype, zarr_format=2,
                       compressor=Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE))


class ZarrLib(Lib):
    name = "zarr-python"

    def open(self, path):
        import zarr

        return zarr.open_array(path, mode="r+")

    def create(self, path, shape, chunks, dtype):
        import numcodecs
        import zarr

        return zarr.create_array(store=path, shape=shape, chunks=chunks, dtype=dtype, zarr_format=2,
                                 compressors=numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1), overwrite=True)


class TensorstoreLib(Lib):
    name = "tensorstore"

    def _spec(self, path):
        return {"driver": "zarr", "kvstore": {"driver": "file", "path": path}}

    def open(self, path):
        import tensorstore as ts

        return ts.open(self._spec(path)).result()

    def create(self, path, shape, chunks, dtype):
        import tensorstore as ts

        spec = self._spec(path)
        spec["metadata"] = {"shape": list(shape), "chunks": list(chunks), "dtype": np.dtype(dtype).str,
                            "compressor": blosc_config(), "order": "C", "fill_value": 0, "filters": None}
        return ts.open(spec, create=True, delete_existing=True).result()

    def read(self, arr, sel):
        return arr[sel].read().result()

    def write(self, arr, sel, value):
        arr[sel].write(value).result()

    def vindex(self, arr, coords):
        return arr.vindex[coords].read().result()

    def oindex(self, arr, sel):
        return arr.oindex[sel].read().result()


class ZarrsLib(ZarrLib):
    """zarr-python 3 with the zarrs codec pipeline (Rust; needs Python >= 3.12)."""

    name = "zarrs"

    @staticmethod
    def available() -> bool:
        import importlib.util

        return importlib.util.find_spec("zarrs") is not None

    def open(self, path):
        import zarr

        with zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"}):
            return super().open(path)

    def create(self, path, shape, chunks, dtype):
        import zarr

        with zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"}):
            return super().create(path, shape, chunks, dtype)


LIBS = [ChunkzipLib(), ZarrLib(), TensorstoreLib()]
#: every library of the interleaved peer benchmark (bench_peers.py); zarrs only where installed
PEERS = LIBS + ([ZarrsLib()] if ZarrsLib.available() else [])


@pytest.fixture(params=LIBS, ids=[lib.name for lib in LIBS])
def lib(request) -> Lib:
    return request.param
