"""Build the Cython/C extensions of chunkzip.

The codec extensions link against c-blosc2 as shipped inside the python-blosc2 wheel
(``blosc2/include`` and ``blosc2/lib``), so no system package is needed.
"""
from __future__ import annotations

import importlib.util
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Distribution, Extension, setup
from setuptools.command.build_ext import build_ext


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
    ext("_blosc", ["chunkzip/_ext/_blosc.pyx", "csrc/blosc1.c", "csrc/blosc1_decode.c", "csrc/blosclz_enc.c", "csrc/shuffle.c"], blosc2=True),
    ext("_compress", ["chunkzip/_ext/_compress.pyx"], blosc2=True),
    ext("_filters", ["chunkzip/_ext/_filters.pyx", "csrc/checksum.c"]),
    ext("_vlen", ["chunkzip/_ext/_vlen.pyx"]),
    ext("_plan", ["chunkzip/_ext/_plan.pyx"]),
    ext("_copy", ["chunkzip/_ext/_copy.pyx", "csrc/blosc1_decode.c", "csrc/checksum.c"], blosc2=True),
    ext("_write", ["chunkzip/_ext/_write.pyx", "csrc/blosc1.c", "csrc/blosclz_enc.c", "csrc/shuffle.c",
                    "csrc/checksum.c"], blosc2=True),
]
# Developers may build a subset in place: CHUNKZIP_BUILD_ONLY=_blosc,_shuffle
_only = [n for n in os.environ.get("CHUNKZIP_BUILD_ONLY", "").split(",") if n]
if _only:
    EXTENSIONS = [e for e in EXTENSIONS if e.name.rsplit(".", 1)[1] in _only]

# The C library (csrc/chunkzip.h): one shared object installed as chunkzip/lib/libchunkzip.so
# with its headers in chunkzip/include.  The codec kernels (blosc1.c, shuffle.c, checksum.c, ...)
# are compiled into it from the same sources the Python extensions compile, so both run the
# same code; the extensions do not link the library, which keeps partial in-place builds and
# their RPATH independent of it.
LIB_SOURCES = [f"csrc/{n}.c" for n in (
    "cz_error", "cz_blosc", "cz_codecs", "cz_metadata", "cz_array", "cz_io", "ndcopy", "json",
    "blosc1", "blosc1_decode", "blosclz_enc", "shuffle", "checksum")]
PUBLIC_HEADER = "csrc/chunkzip.h"
KERNEL_HEADERS = ["csrc/blosc1.h", "csrc/shuffle.h", "csrc/checksum.h"]  # installed as chunkzip/*.h


class build_ext_with_library(build_ext):
    """build_ext that also builds ``libchunkzip.so`` and installs the C headers."""

    def run(self) -> None:
        super().run()
        if not _only or "libchunkzip" in _only:
            self.build_c_library()

    def build_c_library(self) -> None:
        import shutil

        root = "chunkzip" if self.inplace else os.path.join(self.build_lib, "chunkzip")
        libdir, incdir = os.path.join(root, "lib"), os.path.join(root, "include")
        os.makedirs(libdir, exist_ok=True)
        os.makedirs(os.path.join(incdir, "chunkzip"), exist_ok=True)
        shutil.copy(PUBLIC_HEADER, incdir)
        for h in KERNEL_HEADERS:
            shutil.copy(h, os.path.join(incdir, "chunkzip"))
        compiler = self.compiler
        if compiler is None:  # build_ext creates none when it has no extension to build
            from setuptools._distutils.ccompiler import new_compiler
            from setuptools._distutils.sysconfig import customize_compiler

            compiler = new_compiler()
            customize_compiler(compiler)
        objects = compiler.compile(
            LIB_SOURCES, output_dir=self.build_temp, include_dirs=["csrc", BLOSC2_INC],
            extra_postargs=CFLAGS + ["-fPIC", "-pthread"])
        compiler.link_shared_object(
            objects, os.path.join(libdir, "libchunkzip.so"),
            libraries=["blosc2", "m"], library_dirs=[BLOSC2_LIB],
            # installed: site-packages/chunkzip/lib -> site-packages/blosc2/lib; the absolute
            # directory found at build time is the fallback for installs outside site-packages
            runtime_library_dirs=["$ORIGIN/../../blosc2/lib", BLOSC2_LIB],
            extra_postargs=["-pthread", "-Wl,-soname,libchunkzip.so"])


class BinaryDistribution(Distribution):
    """Always run build_ext, even when CHUNKZIP_BUILD_ONLY leaves only the C library to build."""

    def has_ext_modules(self) -> bool:
        return True


setup(
    distclass=BinaryDistribution,
    cmdclass={"build_ext": build_ext_with_library},
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
