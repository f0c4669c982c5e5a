"""``import chunkzip`` stays light: modules that only some features need (asyncio and
sockets for URL stores, zipfile, tempfile, html, hashlib) are imported when used, and the
names that bring them in are still there."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chunkzip as cz

PKG_PARENT = Path(cz.__file__).resolve().parent.parent

#: imported by ``import chunkzip`` before this change, and needed only by some features
LAZY_MODULES = ["asyncio", "ssl", "socket", "zipfile", "tempfile", "html", "hashlib", "uuid", "pathlib",
                "chunkzip.storage.fsspec", "chunkzip.storage.zip"]

_PROBE = """
import json, sys
import numpy
before = set(sys.modules)
import chunkzip
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _new_modules(code: str) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(PKG_PARENT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=PKG_PARENT,
                         timeout=120, check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_import_leaves_optional_modules_unloaded():
    new = _new_modules(_PROBE)
    assert "chunkzip.array" in new  # the probe did see chunkzip's own modules
    assert sorted(set(LAZY_MODULES) & set(new)) == []


def test_local_array_round_trip_loads_no_url_store(tmp_path):
    code = _PROBE.replace("print(", f"""
z = chunkzip.open({str(tmp_path / 'a.zarr')!r}, mode="w", shape=(100,), chunks=(10,), dtype="i4")
z[:] = numpy.arange(100)
assert (chunkzip.open({str(tmp_path / 'a.zarr')!r}, mode="r")[:] == numpy.arange(100)).all()
print(""")
    new = _new_modules(code)
    assert "chunkzip._ext._copy" in new  # the read went through the kernel
    assert "chunkzip.storage.fsspec" not in new and "asyncio" not in new


def test_lazy_names_resolve():
    from chunkzip.storage import FsspecStore, StoreIOError, ZipStore
    from chunkzip.storage.fsspec import FsspecStore as F2
    from chunkzip.storage.zip import ZipStore as Z2

    assert FsspecStore is F2 and ZipStore is Z2 and issubclass(StoreIOError, OSError)
    assert cz.storage.FsspecStore is F2
    for name in cz.storage.__all__:
        assert getattr(cz.storage, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        cz.storage.nope


def test_url_and_path_dispatch_unchanged(tmp_path):
    pytest.importorskip("fsspec")
    from chunkzip.storage import FsspecStore, LocalStore, normalize_store_like

    assert isinstance(normalize_store_like("memory://lazy-import-test"), FsspecStore)
    assert isinstance(normalize_store_like("file://" + str(tmp_path)), LocalStore)
    assert isinstance(normalize_store_like(str(tmp_path / "a:b")), LocalStore)  # ':' alone is no URL
    with pytest.raises(ValueError, match="storage_options is only used with a URL"):
        normalize_store_like(str(tmp_path), storage_options={"anon": True})
    z = cz.open("memory://lazy-import-test/a", mode="w", shape=(4,), chunks=(2,), dtype="i2")
    z[:] = np.arange(4)
    np.testing.assert_array_equal(cz.open("memory://lazy-import-test/a", mode="r")[:], np.arange(4))


def test_digest_and_html_tree_still_work(tmp_path):
    z = cz.open(str(tmp_path / "d.zarr"), mode="w", shape=(8,), chunks=(4,), dtype="u1", zarr_format=2)
    z[:] = 7
    assert z.hexdigest() == z.digest().hex() and len(z.digest("md5")) == 16
    g = cz.open_group(str(tmp_path / "g.zarr"), mode="w")
    g.create_group("a<b>")
    assert "a&lt;b&gt;" in g.tree()._repr_html_()
