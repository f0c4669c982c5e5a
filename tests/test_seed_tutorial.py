"""The behaviour spec, run as written (zarr → chunkzip, numcodecs → chunkzip.codecs).

Every example of ../shared/spec/working-with-arrays.rst runs, section by section, in one
namespace (later sections may use names from earlier ones, as a reader would). Each section
runs in a fresh working directory. Every expression is evaluated and its repr built (as the
tutorial prints it); an expression whose value is a Boolean must be True.

Examples that reuse the same store path for a *new* array in one section (the rechunking
section creates 'a.zarr' three times) run each example block in its own directory: creating
an array where one exists raises ContainsArrayError, as in zarr-python, rather than
silently deleting stored data.
"""
from __future__ import annotations

import ast
import os

import numpy as np
import pytest

import chunkzip
from spec_runner import SPEC, parse_spec, spec_available

if not spec_available():
    pytest.skip(f"behaviour spec not found at {os.path.normpath(SPEC)} (it lives in ../shared beside the "
                "checkout; set CHUNKZIP_SPEC to its path)", allow_module_level=True)
SECTIONS = parse_spec()
FRESH_DIR_PER_BLOCK = {"Changing chunk shapes (rechunking)"}


@pytest.fixture(scope="module")
def namespace():
    ns: dict = {"__name__": "spec"}
    blosc = chunkzip.codecs.blosc
    nthreads = blosc.get_nthreads()
    yield ns
    blosc.set_nthreads(nthreads)
    chunkzip.config.set(default_compressor=blosc.Blosc(cname="lz4", clevel=5, shuffle=blosc.Blosc.SHUFFLE))


def _run(code: str, ns: dict) -> None:
    tree = ast.parse(code)
    *body, last = tree.body
    if body:
        exec(compile(ast.Module(body=body, type_ignores=[]), "<spec>", "exec"), ns)
    if isinstance(last, ast.Expr):
        value = eval(compile(ast.Expression(last.value), "<spec>", "eval"), ns)
        repr(value)
        if hasattr(value, "_repr_html_"):
            value._repr_html_()
        if isinstance(value, (bool, np.bool_)):
            assert value, f"spec expression is False: {ast.unparse(last)}"
    else:
        exec(compile(ast.Module(body=[last], type_ignores=[]), "<spec>", "exec"), ns)


def test_spec_parsed_completely():
    titles = [s.title for s in SECTIONS]
    for expected in ["Creating an array", "Compressors", "Filters", "Block Indexing", "String arrays",
                     "Object arrays", "Ragged arrays", "Chunk memory layout", "Empty chunks",
                     "Changing chunk shapes (rechunking)", "Parallel computing and synchronization",
                     "Pickle support", "Datetimes and timedeltas", "Copying large arrays", "Configuring Blosc"]:
        assert expected in titles
    assert sum(len(b) for s in SECTIONS for b in s.blocks) > 150


@pytest.mark.parametrize("section", SECTIONS, ids=[s.title for s in SECTIONS])
def test_spec_section(section, namespace, tmp_path, monkeypatch):
    for i, block in enumerate(section.blocks):
        where = tmp_path / (f"block{i}" if section.title in FRESH_DIR_PER_BLOCK else "section")
        where.mkdir(exist_ok=True)
        monkeypatch.chdir(where)
        for stmt in block:
            try:
                _run(stmt, namespace)
            except Exception as e:  # name the spec line that failed
                raise AssertionError(f"spec example failed in {section.title!r}:\n{stmt}\n-> {type(e).__name__}: {e}") from e


def test_spec_outputs():
    """The printed values the spec shows for codecs and filters."""
    from chunkzip.codecs import JSON, Blosc, Categorize, VLenArray, VLenBytes, VLenUTF8, Zstd

    z = chunkzip.zeros(10, compressor=Blosc(cname="zstd", clevel=3, shuffle=Blosc.BITSHUFFLE), zarr_format=2)
    assert repr(z.compressor) == "Blosc(cname='zstd', clevel=3, shuffle=BITSHUFFLE, blocksize=0)"
    assert repr(chunkzip.zeros(10, compressor=Zstd(level=1)).compressor) == "Zstd(level=1)"
    with chunkzip.config.set(default_compressor=Zstd(level=1)):
        assert chunkzip.zeros(100, chunks=10).compressor == Zstd(level=1)
    chunkzip.storage.default_compressor = Zstd(level=1)
    try:
        assert chunkzip.zeros(100, chunks=10).compressor == Zstd(level=1)
    finally:
        chunkzip.storage.default_compressor = Blosc()
    assert chunkzip.zeros(100, chunks=10).compressor == Blosc()
    assert chunkzip.zeros(100, chunks=10, compressor=None).compressor is None
    assert chunkzip.codecs.blosc.list_compressors() == ["blosclz", "lz4", "lz4hc", "zlib", "zstd"]
    assert chunkzip.array(["a"], dtype=str).filters == [VLenUTF8()]
    assert chunkzip.array([b"a"], dtype=bytes).filters == [VLenBytes()]
    assert chunkzip.empty(4, dtype="array:i8").filters == [VLenArray("<i8")]
    assert chunkzip.empty(4, dtype=object, object_codec=JSON()).filters == [JSON()]
    cat = Categorize(["a", "b"], dtype=object)
    assert chunkzip.array(["a", "b"], dtype=object, object_codec=cat).filters == [cat]
