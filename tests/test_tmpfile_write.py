"""New chunk and shard files written anonymous (``O_TMPFILE`` + ``linkat``, ``_ext._write._store``)
against the portable named temporary file + ``rename``: the same bytes and file modes
for new files and rewrites in every mode of ``_write._set_tmpfile`` (0 forces the
portable path, as on a file system without ``O_TMPFILE``), batches mixing new and
existing files, concurrent writers of one key seen by a reader loop (never a partial or
foreign file), a chunk whose target is a directory, and no temporary file left behind."""
from __future__ import annotations

import os
import stat
import threading

import numpy as np
import pytest

import chunkzip as cz
from chunkzip import chunk_writer
from chunkzip._ext import _write
from chunkzip.codecs import Blosc

BLOSC = Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE)
MODES = (0, 1, 2)


@pytest.fixture
def tmpfile_mode(request):
    old = _write._set_tmpfile(request.param)
    yield request.param
    _write._set_tmpfile(old)


@pytest.fixture
def kernel_calls(monkeypatch):
    """How many chunk/shard kernel calls a test made (to be sure the kernel wrote)."""
    calls = []
    for name in ("write_chunks", "write_shards"):
        real = getattr(_write, name)
        monkeypatch.setattr(_write, name, lambda *args, f=real: calls.append(1) or f(*args))
    return calls


def files(root: str) -> dict:
    """Every file under ``root`` (hidden ones too) by relative path: (bytes, permission bits)."""
    out = {}
    for d, _, fs in os.walk(root):
        for f in fs:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = (fh.read(), stat.S_IMODE(os.stat(p).st_mode))
    return out


def make(path: str, kind: str, shape=(37, 23)):
    if kind == "chunks-v2":
        return cz.open(path, mode="w", shape=shape, chunks=(8, 5), dtype="i4", zarr_format=2,
                       compressor=BLOSC, dimension_separator="/")
    if kind == "chunks-v3":
        return cz.open(path, mode="w", shape=shape, chunks=(8, 5), dtype="i4", zarr_format=3)
    return cz.create(shape, chunks=(4, 5), shards=(8, 10), dtype="i4", store=path, compressor=BLOSC)


def values(shape=(37, 23)):
    rng = np.random.default_rng(3)
    return [rng.integers(-500, 500, shape).astype("i4"), (np.arange(np.prod(shape)) % 7).astype("i4").reshape(shape)]


@pytest.mark.parametrize("kind", ["chunks-v2", "chunks-v3", "shards"])
def test_same_files_in_every_mode(tmp_path, kind, kernel_calls):
    """Fresh writes and rewrites give byte-identical files with identical permission
    bits in every mode, and the same as the generic per-chunk path; nothing else is
    left in the directory (no temporary file)."""
    a, b = values()
    got = {}
    old = _write._set_tmpfile(2)
    try:
        for mode in MODES:
            _write._set_tmpfile(mode)
            path = str(tmp_path / f"m{mode}")
            z = make(path, kind)
            z[...] = a
            fresh = files(path)
            z[...] = b  # every file exists now
            z[3:20, 4:17] = a[3:20, 4:17]  # partly covered chunks: read-modify-write, then the kernel
            got[mode] = (fresh, files(path))
            expect = b.copy()
            expect[3:20, 4:17] = a[3:20, 4:17]
            np.testing.assert_array_equal(cz.open(path, mode="r")[...], expect)
    finally:
        _write._set_tmpfile(old)
    assert kernel_calls
    assert got[0] == got[1] == got[2]
    for snapshot in got[0]:
        assert not [k for k in snapshot if ".cztmp" in k]
        assert len(snapshot) > 4


@pytest.mark.parametrize("tmpfile_mode", MODES, indirect=True)
def test_same_bytes_as_generic_path(tmp_path, monkeypatch, tmpfile_mode, kernel_calls):
    a, _ = values()
    z1 = make(str(tmp_path / "k"), "chunks-v2")
    z1[...] = a
    assert kernel_calls
    monkeypatch.setattr(chunk_writer, "write_whole_chunks", lambda *args: None)
    z2 = make(str(tmp_path / "g"), "chunks-v2")
    z2[...] = a
    assert files(str(tmp_path / "k")) == files(str(tmp_path / "g"))


@pytest.mark.parametrize("tmpfile_mode", MODES, indirect=True)
@pytest.mark.parametrize("kind", ["chunks-v2", "shards"])
def test_batch_mixing_new_and_existing_files(tmp_path, tmpfile_mode, kind, kernel_calls):
    """Half the files exist, half are new, interleaved in one call: all written right,
    whichever comes first (in mode 2 the first existing one switches the call over)."""
    a, b = values()
    path = str(tmp_path / "a")
    z = make(path, kind)
    z[8:16] = b[8:16]
    z[24:32] = b[24:32]
    z[...] = a
    np.testing.assert_array_equal(cz.open(path, mode="r")[...], a)
    assert not [k for k in files(path) if ".cztmp" in k]
    assert kernel_calls


@pytest.mark.parametrize("tmpfile_mode", MODES, indirect=True)
def test_target_that_is_a_directory(tmp_path, tmpfile_mode):
    """A chunk whose file name is taken by a directory: the kernel gives it back, the
    generic path raises; the other chunks are written, the directory is untouched and
    no temporary file is left."""
    path = str(tmp_path / "a")
    z = cz.open(path, mode="w", shape=(40,), chunks=(10,), dtype="i4", zarr_format=2, compressor=BLOSC)
    os.makedirs(os.path.join(path, "2", "x"))
    with pytest.raises(OSError):
        z[...] = np.arange(40, dtype="i4")
    assert sorted(os.listdir(path)) == [".zarray", "0", "1", "2", "3"]
    assert os.listdir(os.path.join(path, "2")) == ["x"]
    np.testing.assert_array_equal(z[:20], np.arange(20))


@pytest.mark.parametrize("tmpfile_mode", MODES, indirect=True)
def test_concurrent_writers_never_expose_a_partial_file(tmp_path, tmpfile_mode, kernel_calls):
    """Two threads write every chunk of a new array at once (both race to create each
    file, then overwrite it), while a reader loop reads the raw chunk files: each file
    is either not there yet or wholly one writer's encoding, never partial or empty."""
    n, c = 64_000, 8_000
    vals = [np.arange(n, dtype="i4"), np.random.default_rng(1).integers(0, 1 << 30, n).astype("i4")]
    encoded = []
    for i, v in enumerate(vals):  # the two writers' files, for comparison
        ref = str(tmp_path / f"ref{i}")
        cz.open(ref, mode="w", shape=(n,), chunks=(c,), dtype="i4", zarr_format=2, compressor=BLOSC)[...] = v
        encoded.append({k: data for k, (data, _) in files(ref).items() if k != ".zarray"})
    assert all(len(e) == n // c for e in encoded)
    seen, errors = set(), []
    for trial in range(4):
        path = str(tmp_path / f"a{trial}")
        cz.open(path, mode="w", shape=(n,), chunks=(c,), dtype="i4", zarr_format=2, compressor=BLOSC)
        go = threading.Barrier(3)

        def writer(v):
            try:
                z = cz.open(path, mode="r+")
                go.wait()
                for _ in range(3):
                    z[...] = v
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=writer, args=(v,)) for v in vals]
        for t in threads:
            t.start()
        go.wait()
        while any(t.is_alive() for t in threads):
            for k in encoded[0]:
                try:
                    with open(os.path.join(path, k), "rb") as fh:
                        got = fh.read()
                except FileNotFoundError:
                    continue
                which = [i for i in (0, 1) if got == encoded[i][k]]
                assert which, f"chunk {k}: {len(got)} bytes, neither writer's file"
                seen.add(which[0])
        for t in threads:
            t.join()
        assert not errors
        final = files(path)
        assert not [k for k in final if ".cztmp" in k]
        for k in encoded[0]:
            assert final[k][0] in (encoded[0][k], encoded[1][k])
    assert kernel_calls


@pytest.mark.parametrize("tmpfile_mode", [1, 2], indirect=True)
@pytest.mark.parametrize("kind", ["chunks-v2", "shards"])
def test_linked_through_proc(tmp_path, tmpfile_mode, kind, kernel_calls):
    """Where ``linkat(AT_EMPTY_PATH)`` is refused (no CAP_DAC_READ_SEARCH before Linux
    6.10), the anonymous file is linked through ``/proc/self/fd/N``: the same files."""
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("no /proc here")
    a, b = values()
    old = _write._set_link_empty(False)
    try:
        z = make(str(tmp_path / "p"), kind)
        z[...] = a
        fresh = files(str(tmp_path / "p"))
        z[...] = b
        rewritten = files(str(tmp_path / "p"))
    finally:
        _write._set_link_empty(old)
    _write._set_tmpfile(0)
    try:
        r = make(str(tmp_path / "r"), kind)
        r[...] = a
        assert files(str(tmp_path / "r")) == fresh
        r[...] = b
        assert files(str(tmp_path / "r")) == rewritten
    finally:
        _write._set_tmpfile(tmpfile_mode)
    assert kernel_calls


def test_switch_rejects_unknown_mode():
    with pytest.raises(ValueError):
        _write._set_tmpfile(7)
    assert _write._set_tmpfile(2) == _write._set_tmpfile(2)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to drop privileges")
def test_without_privileges():
    """As an unprivileged user (no CAP_DAC_READ_SEARCH: ``linkat(AT_EMPTY_PATH)`` may be
    refused, then ``/proc/self/fd`` is linked) new files and rewrites are still right."""
    import pathlib
    import shutil
    import subprocess
    import sys
    import tempfile
    import textwrap

    tmp_path = pathlib.Path(tempfile.mkdtemp())  # pytest's own is private to root
    os.chmod(tmp_path, 0o777)
    if any(not os.stat(p).st_mode & 0o001 for p in tmp_path.parents):
        shutil.rmtree(tmp_path)
        pytest.skip(f"{tmp_path.parent} is not reachable for an unprivileged user")
    code = textwrap.dedent(f"""
        import os, numpy as np
        import chunkzip as cz
        a = np.arange(5000, dtype="i4")
        cz.open({str(tmp_path / "root")!r}, mode="w", shape=a.shape, chunks=(500,), dtype="i4", zarr_format=2)[...] = a
        assert (cz.open({str(tmp_path / "root")!r}, mode="r")[...] == a).all()
        os.setgid(65534); os.setuid(65534)  # modules loaded (the interpreter's may be unreadable to nobody)
        z = cz.open({str(tmp_path / "u")!r}, mode="w", shape=a.shape, chunks=(500,), dtype="i4", zarr_format=2)
        z[...] = a
        z[...] = a[::-1]
        assert (cz.open({str(tmp_path / "u")!r}, mode="r")[...] == a[::-1]).all()
        print("ok")
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(cz.__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                           cwd=str(tmp_path), timeout=120)
        assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]
        assert sorted(os.listdir(tmp_path / "u")) == [".zarray"] + [str(i) for i in range(10)]
    finally:
        shutil.rmtree(tmp_path)
