"""Compiled kernels (Cython over C). Import the submodules, not this package's names.

Some extensions link ``libblosc2.so.N`` from the installed python-blosc2 wheel. The
extension's RPATH finds it in an installed tree; for in-place and editable builds we load
it here first (by path, without importing python-blosc2 itself, which is slow to import).
"""
from __future__ import annotations

import ctypes
import glob
import importlib.util
import os


def _preload_libblosc2() -> None:
    spec = importlib.util.find_spec("blosc2")
    if spec is None or not spec.submodule_search_locations:
        return  # the extension's own RPATH/ImportError will then say what is missing
    libdir = os.path.join(list(spec.submodule_search_locations)[0], "lib")
    for candidate in sorted(glob.glob(os.path.join(libdir, "libblosc2.so.*"))):
        try:
            ctypes.CDLL(candidate, mode=ctypes.RTLD_GLOBAL)
            return
        except OSError:
            continue


_preload_libblosc2()
