"""Where the C library of chunkzip (``libchunkzip.so``) and its headers are installed.

C programs compile against the installed package::

    INC=$(python -c 'import chunkzip; print(chunkzip.get_include())')
    LIB=$(python -c 'import chunkzip; print(chunkzip.get_library_dir())')
    cc prog.c -I"$INC" -L"$LIB" -lchunkzip -Wl,-rpath,"$LIB"

Cython extensions ``cimport chunkzip._ext.libchunkzip`` and add the same include
directory, library directory and library (see ``examples/cython``).
"""
from __future__ import annotations

import os

_ROOT = os.path.dirname(os.path.abspath(__file__))


def get_include() -> str:
    """Return the directory holding ``chunkzip.h`` (and the kernel headers in ``chunkzip/``).

    Returns
    -------
    str
        Absolute path, to pass to the C compiler with ``-I``.

    Raises
    ------
    FileNotFoundError
        If the package was built without the C library (e.g. a partial in-place build).
    """
    return _existing(os.path.join(_ROOT, "include"), "chunkzip.h")


def get_library_dir() -> str:
    """Return the directory holding ``libchunkzip.so``.

    Returns
    -------
    str
        Absolute path, to pass to the linker with ``-L`` and ``-Wl,-rpath``.

    Raises
    ------
    FileNotFoundError
        If the package was built without the C library.
    """
    return _existing(os.path.join(_ROOT, "lib"), "libchunkzip.so")


def get_library() -> str:
    """Return the full path of ``libchunkzip.so`` (for ``ctypes.CDLL`` and the like)."""
    return os.path.join(get_library_dir(), "libchunkzip.so")


def _existing(directory: str, name: str) -> str:
    if not os.path.isfile(os.path.join(directory, name)):
        raise FileNotFoundError(
            f"{name} is not in {directory}: build the C library with "
            "`python setup.py build_ext --inplace` (without CHUNKZIP_BUILD_ONLY) or reinstall chunkzip")
    return directory
