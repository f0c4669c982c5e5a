"""Progress bars for long work (copy, sweep, info_complete, consolidate).

``progress=None`` (the default of every function taking it) shows a bar only when the
work runs in a terminal or a notebook: standard error is a TTY (or an IPython kernel is
running), no test is running (``PYTEST_CURRENT_TEST`` unset) and tqdm is installed.
``progress=True`` asks for a bar wherever the output goes (a warning when tqdm is missing),
``progress=False`` never shows one.
"""
from __future__ import annotations

import os
import sys
import warnings
from typing import Any

__all__ = ["progress_bar", "wants_progress"]


class _NoBar:
    """Stands in for a tqdm bar when none is shown."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> "_NoBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def _interactive() -> bool:
    if os.environ.get("PYTEST_CURRENT_TEST"):
        return False
    try:
        if sys.stderr is not None and sys.stderr.isatty():
            return True
    except (AttributeError, ValueError):  # replaced or closed stderr
        pass
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def wants_progress(progress: bool | None) -> bool:
    """Whether a bar is wanted: ``progress`` itself, or, when None, an interactive session."""
    if progress is None:
        return _interactive()
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None, got {progress!r}")
    return progress


def progress_bar(progress: bool | None, total: int, desc: str, unit: str = "chunk") -> Any:
    """A tqdm bar of ``total`` steps (``update(n)``, ``close()``, context manager), or an
    object with the same methods doing nothing when no bar is wanted or tqdm is missing
    (a warning then if the bar was asked for explicitly)."""
    if not wants_progress(progress):
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            warnings.warn(f"progress=True needs tqdm (pip install 'chunkzip[progress]'); {desc} runs "
                          "without a progress bar", RuntimeWarning, stacklevel=3)
        return _NoBar()
    return tqdm(total=total, unit=unit, desc=desc)
