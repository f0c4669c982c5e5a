"""copy_store: raw keys from one store to another, as zarr-python 2 code calls it."""
from __future__ import annotations

import io

import numpy as np
import pytest
from zarr2_stores import STORES

import chunkzip
from chunkzip import copying
from chunkzip.storage import MemoryStore, normalize_store_like


@pytest.fixture(params=["dict", "local", "nested", "lru-local"])
def dest(request, tmp_path):
    return STORES[request.param](str(tmp_path / "dest"))


def _source() -> MemoryStore:
    src = MemoryStore()
    chunkzip.array(np.arange(40, dtype="i4").reshape(8, 5), chunks=(3, 2), store=src, path="g/a", zarr_format=2)
    chunkzip.array(np.ones(7), chunks=3, store=src, path="g/b", zarr_format=2)
    src["top"] = b"t"
    return src


def test_copy_whole_store(dest):
    src = _source()
    n, skipped, nbytes = chunkzip.copy_store(src, dest)
    d = normalize_store_like(dest)
    assert (n, skipped) == (len(src), 0)
    assert nbytes == sum(len(v) for v in src.values())
    assert {k: d[k] for k in d} == dict(src.items())
    np.testing.assert_array_equal(chunkzip.open_array(dest, path="g/a", mode="r")[...],
                                  np.arange(40).reshape(8, 5))


def test_copy_under_prefix_to_other_prefix(dest):
    src = _source()
    n, _, _ = chunkzip.copy_store(src, dest, source_path="g/a", dest_path="x/y")
    d = normalize_store_like(dest)
    assert n == sum(1 for k in src if k.startswith("g/a/"))
    assert all(k.startswith("x/y/") for k in d)
    np.testing.assert_array_equal(chunkzip.open_array(dest, path="x/y", mode="r")[...],
                                  np.arange(40).reshape(8, 5))


def test_excludes_includes():
    src = _source()
    dst = {}
    chunkzip.copy_store(src, dst, excludes=["^g/a/"], includes=[r"\.zarray$"])
    assert "g/a/.zarray" in dst and "g/a/0.0" not in dst
    assert "g/b/0" in dst and "top" in dst


def test_if_exists_modes():
    src = _source()
    dst = {"top": b"old"}
    with pytest.raises(chunkzip.CopyError):
        chunkzip.copy_store(src, dst)
    n, skipped, _ = chunkzip.copy_store(src, dst, if_exists="skip")
    assert skipped == 1 and dst["top"] == b"old" and n == len(src) - 1
    n, skipped, _ = chunkzip.copy_store(src, dst, if_exists="replace")
    assert (n, skipped) == (len(src), 0) and dst["top"] == b"t"
    with pytest.raises(ValueError):
        chunkzip.copy_store(src, dst, if_exists="merge")


def test_dry_run_and_log():
    src = _source()
    dst = {}
    lines = []
    n, _, nbytes = chunkzip.copy_store(src, dst, dry_run=True, log=lines.append)
    assert dst == {} and n == len(src) and nbytes > 0
    assert len(lines) == len(src) and all(line.startswith("copy ") for line in lines)
    buf = io.StringIO()
    chunkzip.copy_store(src, dst, log=buf)
    assert buf.getvalue().count("\n") == len(src)
    with pytest.raises(TypeError):
        chunkzip.copy_store(src, {}, log=42)


class CountingBatches(MemoryStore):
    """A real MemoryStore that records how many values each batch write carries."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def set_many(self, items):
        items = list(items)
        self.batches.append(sum(len(v) for _, v in items))
        super().set_many(items)


def test_batches_are_bounded_in_bytes(monkeypatch):
    src = MemoryStore()
    for i in range(50):
        src[f"k{i:02d}"] = bytes(1000)
    src["huge"] = bytes(5000)
    monkeypatch.setattr(copying, "COPY_STORE_BATCH_BYTES", 3000)
    dst = CountingBatches()
    n, _, nbytes = chunkzip.copy_store(src, dst)
    assert n == 51 and nbytes == 55000
    # keys in sorted order: "huge" (bigger than the budget) goes alone, then 3 values a batch
    assert dst.batches == [5000] + [3000] * 16 + [2000]
    assert dict(dst.items()) == dict(src.items())


def test_read_only_destination_refused(tmp_path):
    ro = chunkzip.storage.LocalStore(str(tmp_path), read_only=True)
    with pytest.raises(PermissionError):
        chunkzip.copy_store(_source(), ro)
