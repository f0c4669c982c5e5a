"""The command line (python -m chunkzip sweep|info|copy), in a subprocess and in-process,
on arrays written by chunkzip and by zarr-python (v2 and v3); copies read back with
zarr-python; bad arguments give one line on stderr and a non-zero exit."""
from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chunkzip as cz
from chunkzip.cli import main
from chunkzip.sweep import build_chain

ROOT = Path(__file__).resolve().parent.parent
SMALL_GRID = json.dumps([{"id": "lz4"}, {"id": "zstd", "level": 1},
                         [{"id": "delta", "dtype": "<i4"}, {"id": "zstd", "level": 1}]])


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "chunkzip", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def _data(shape=(60, 80), dtype="i4"):
    return (np.arange(np.prod(shape), dtype=dtype).reshape(shape) // 3) % 1000


@pytest.fixture
def v2(tmp_path):
    path = tmp_path / "v2.zarr"
    cz.array(_data(), chunks=(20, 40), store=str(path), zarr_format=2)
    return path


@pytest.fixture
def v3(tmp_path):
    path = tmp_path / "v3.zarr"
    cz.array(_data(), chunks=(20, 40), store=str(path), zarr_format=3)
    return path


# ----------------------------------------------------------------------------- subprocess
def test_subprocess_sweep_info_copy_v2(v2, tmp_path):
    out = tmp_path / "rows.json"
    r = _run("sweep", str(v2), "--codecs", SMALL_GRID, "--json", str(out), "--top", "2", "--threads", "1")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "codec" in lines[0] and len(lines) == 2 + 2 + 1
    assert lines[2].startswith("*") and "delta+zstd:1" in lines[2]  # best ratio, marked on the front
    rows = json.loads(out.read_text())
    assert len(rows) == 3 and all(build_chain(row["codec"]) for row in rows)

    r = _run("info", str(v2))
    assert r.returncode == 0, r.stderr
    assert "Zarr format        : 2" in r.stdout and "Chunks initialized : 6/6" in r.stdout

    dst = tmp_path / "copy.zarr"
    r = _run("copy", str(v2), str(dst), "--chunks", "30,80", "--compressor", '{"id": "zstd", "level": 5}')
    assert r.returncode == 0, r.stderr
    z = cz.open(str(dst), mode="r")
    assert z.chunks == (30, 80) and z.compressor.get_config() == {"id": "zstd", "level": 5, "checksum": False}
    np.testing.assert_array_equal(z[:], _data())


def test_subprocess_bad_arguments_are_one_line(v3, tmp_path):
    for args, status in [(("info", str(tmp_path / "missing")), 1),
                         (("copy", str(v3), str(tmp_path / "d"), "--compressor", "{bad"), 2)]:
        r = _run(*args)
        assert r.returncode == status, (args, r.stderr)
        assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
        assert "error" in r.stderr


# ----------------------------------------------------------------------------- in-process
def test_sweep_v3_with_plot(v3, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "front.png"
    assert main(["sweep", str(v3), "--codecs", SMALL_GRID, "--plot", str(png), "--sample", "all",
                 "--chunks", "10,10", "--repeat", "2", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "3 configurations on 19200 sampled bytes" in text  # every 10x10 chunk of the 60x80 int32
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_sweep_plot_without_matplotlib_fails_before_sweeping(v3, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["sweep", str(v3), "--plot", str(tmp_path / "x.png")]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "chunkzip[plot]" in captured.err and len(captured.err.splitlines()) == 1


def test_info_complete(v3, capsys):
    assert main(["info", str(v3), "--complete"]) == 0
    out = capsys.readouterr().out
    assert "Chunk ratio min/median/max" in out and "Bytes after blosc" in out


@pytest.mark.filterwarnings("ignore:Numcodecs codecs are not in the Zarr version 3:UserWarning")
def test_copy_recompress_with_chain_and_filters_read_by_zarr_python(v3, v2, tmp_path, capsys):
    zarr = pytest.importorskip("zarr")
    dst = tmp_path / "c3"
    assert main(["copy", str(v3), str(dst), "--compressor", '[{"id": "zstd", "level": 3}, {"id": "crc32c"}]',
                 "--filters", '[{"id": "delta", "dtype": "<i4"}]']) == 0
    assert "copied (60, 80) int32" in capsys.readouterr().out
    np.testing.assert_array_equal(zarr.open_array(str(dst), mode="r")[:], _data())
    dst2 = tmp_path / "c2"
    assert main(["copy", str(v2), str(dst2), "--chunks", "60,1", "--compressor", "null", "--dst-path", "inner",
                 "--zarr-format", "2"]) == 0
    z = zarr.open_array(str(dst2), path="inner", mode="r")
    assert z.metadata.zarr_format == 2 and z.chunks == (60, 1) and z.metadata.compressor is None
    np.testing.assert_array_equal(z[:], _data())


def test_cli_on_arrays_written_by_zarr_python(tmp_path, capsys):
    zarr = pytest.importorskip("zarr")
    data = _data((40, 50), "i4")
    for fmt in (2, 3):
        path = tmp_path / f"zp{fmt}"
        zarr.create_array(str(path), shape=data.shape, chunks=(20, 25), dtype="i4", zarr_format=fmt)[:] = data
        assert main(["info", str(path)]) == 0
        assert f"Zarr format        : {fmt}" in capsys.readouterr().out
        assert main(["sweep", str(path), "--codecs", SMALL_GRID, "--threads", "2"]) == 0
        assert "delta+zstd:1" in capsys.readouterr().out
        dst = tmp_path / f"copy{fmt}"
        assert main(["copy", str(path), str(dst), "--chunks", "40,10"]) == 0
        np.testing.assert_array_equal(zarr.open_array(str(dst), mode="r")[:], data)


def test_copy_into_shards(v3, tmp_path, capsys):
    dst = tmp_path / "sharded"
    status = main(["copy", str(v3), str(dst), "--chunks", "10,20", "--shards", "20,40"])
    captured = capsys.readouterr()
    if "shards" not in inspect.signature(cz.create).parameters:
        assert status == 1 and "sharding is not available" in captured.err
        return
    assert status == 0, captured.err
    zarr = pytest.importorskip("zarr")
    z = zarr.open_array(str(dst), mode="r")
    assert z.shards == (20, 40) and z.chunks == (10, 20)
    np.testing.assert_array_equal(z[:], _data())


def test_info_on_a_group(tmp_path, capsys):
    zarr = pytest.importorskip("zarr")
    g = zarr.open_group(str(tmp_path / "g"), mode="w")
    g.create_array("x", shape=(10,), chunks=(5,), dtype="i4")
    status = main(["info", str(tmp_path / "g")])
    captured = capsys.readouterr()
    if hasattr(cz, "open_group"):
        assert status == 0 and "x" in captured.out
    else:
        assert status == 1 and "groups are not available" in captured.err
    assert main(["info", str(tmp_path / "g"), "--path", "x"]) == 0
    assert "Name               : /x" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["copy", "{v3}", "{v3}"], "same array"),
    (["copy", "{v3}", "{v2}"], "--overwrite"),
    (["copy", "{v3}", "{tmp}/s", "--shards", "30,40"], "shard"),  # not a multiple of the chunks (20, 40)
    (["copy", "{v3}", "{tmp}/s", "--shards", "a"], "--shards"),
    (["copy", "{v3}", "{tmp}/s", "--storage-options", "[1]"], "JSON object"),
    (["info", "{v3}", "--storage-options", '{"anon": true}'], "URLs only"),
    (["copy", "{v3}", "{tmp}/s", "--chunks", "a,b"], "--chunks"),
    (["copy", "{v3}", "{tmp}/s", "--chunks", "0"], "--chunks"),
    (["copy", "{v3}", "{tmp}/s", "--compressor", '{"id": "nope"}'], "unknown codec"),
    (["copy", "{v3}", "{tmp}/s", "--filters", '{"id": "delta"}'], "--filters"),
    (["copy", "{v3}", "{tmp}/s", "--zarr-format", "4"], "--zarr-format"),
    (["sweep", "{v3}", "--codecs", '{"id": "lz4"}'], "JSON list"),
    (["sweep", "{v3}", "--sample", "-1"], "--sample"),
    (["sweep", "{tmp}/nowhere"], "no such file"),
    (["info", "{tmp}"], "no array"),
    (["info"], "required"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_bad_arguments_in_process(args, message, v2, v3, tmp_path, capsys):
    argv = [a.replace("{v2}", str(v2)).replace("{v3}", str(v3)).replace("{tmp}", str(tmp_path)) for a in args]
    before = sorted(p.name for p in Path(v2).rglob("*"))
    try:
        status = main(argv)
    except SystemExit as e:  # argparse usage errors
        status = e.code
    captured = capsys.readouterr()
    assert status in (1, 2) and captured.out == ""
    assert len(captured.err.splitlines()) == 1 and message in captured.err, captured.err
    assert sorted(p.name for p in Path(v2).rglob("*")) == before  # nothing lost
    np.testing.assert_array_equal(cz.open(str(v3), mode="r")[:], _data())


# ----------------------------------------------------------------------------- remote
@pytest.fixture
def http_root(tmp_path):
    """A directory served over HTTP on 127.0.0.1 (a real remote store for fsspec)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_cli_on_an_array_served_over_http(http_root, capsys):
    if "storage_options" not in inspect.signature(cz.open_array).parameters:
        status = main(["info", "http://127.0.0.1:1/x.zarr"])
        assert status == 1 and "remote URLs are not available" in capsys.readouterr().err
        pytest.skip("remote stores (issue 12) are not in this build")
    pytest.importorskip("fsspec")
    pytest.importorskip("aiohttp")
    root, url = http_root
    cz.array(_data(), chunks=(20, 40), store=str(root / "r.zarr"), zarr_format=2)
    assert main(["info", f"{url}/r.zarr"]) == 0
    assert "Shape              : (60, 80)" in capsys.readouterr().out
    assert main(["sweep", f"{url}/r.zarr", "--codecs", SMALL_GRID, "--chunks", "20,40", "--sample", "3"]) == 0
    assert "3 configurations on 9600 sampled bytes" in capsys.readouterr().out
    dst = root / "copy.zarr"
    assert main(["copy", f"{url}/r.zarr", str(dst), "--chunks", "60,10"]) == 0
    np.testing.assert_array_equal(cz.open(str(dst), mode="r")[:], _data())
