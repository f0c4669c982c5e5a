"""Build the Cython/C extensions of chunkzip.

The codec extensions link against c-blosc2 as shipped inside the python-blosc2 wheel
(``blosc2/include`` and ``blosc2/lib``), so no system package is needed.
"""
from __future__ import annotations

import importlib.util
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup


def _blosc2_dirs() -> tuple[str, str]:
    spec = importlib.util.find_spec("blosc2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("python-blosc2 must be installed to build chunkzip")
    root = list(spec.submodule_search_locations)[0]
    return os.path.join(root, "include"), os.path.join(root, "lib")


BLOSC2_INC, BLOSC2_LIB = _blosc2_dirs()
CFLAGS = ["-O3", "-std=c99", "-fno-strict-aliasing"]
MACROS = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]


def ext(name: str, sources: list[str], blosc2: bool = False) -> Extension:
    kw: dict = dict(
        include_dirs=["csrc", np.get_include()],
        extra_compile_args=CFLAGS,
        define_macros=MACROS,
    )
    if blosc2:
        kw["include_dirs"].append(BLOSC2_INC)
        kw["library_dirs"] = [BLOSC2_LIB]
        kw["libraries"] = ["blosc2"]
        # installed layout: site-packages/chunkzip/_ext/X.so -> site-packages/blosc2/lib
        kw["runtime_library_dirs"] = ["$ORIGIN/../../blosc2/lib"]
    return Extension(f"chunkzip._ext.{name}", sources, **kw)


EXTENSIONS = [
    ext("_shuffle", ["chunkzip/_ext/_shuffle.pyx", "csrc/shuffle.c"]),
    ext("_blosc", ["chunkzip/_ext/_blosc.pyx", "csrc/blosc1.c", "csrc/blosclz_enc.c", "csrc/shuffle.c"], blosc2=True),
    ext("_compress", ["chunkzip/_ext/_compress.pyx"], blosc2=True),
    ext("_filters", ["chunkzip/_ext/_filters.pyx", "csrc/checksum.c"]),
    ext("_vlen", ["chunkzip/_ext/_vlen.pyx"]),
    ext("_copy", ["chunkzip/_ext/_copy.pyx"], blosc2=True),
    ext("_write", ["chunkzip/_ext/_write.pyx", "csrc/blosc1.c", "csrc/blosclz_enc.c", "csrc/shuffle.c"], blosc2=True),
]
# Developers may build a subset in place: CHUNKZIP_BUILD_ONLY=_blosc,_shuffle
_only = [n for n in os.environ.get("CHUNKZIP_BUILD_ONLY", "").split(",") if n]
if _only:
    EXTENSIONS = [e for e in EXTENSIONS if e.name.rsplit(".", 1)[1] in _only]

setup(
    ext_modules=cythonize(
        EXTENSIONS,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "embedsignature": True,
        },
    ),
)
