"""When progress bars show (chunkzip.progress): asked, refused, or automatic in a terminal."""
from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import chunkzip as cz
from chunkzip.progress import progress_bar, wants_progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_automatic_only_in_a_terminal_outside_tests(monkeypatch):
    assert wants_progress(True) and not wants_progress(False)
    assert not wants_progress(None)  # inside pytest
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not wants_progress(None)  # not a terminal
    monkeypatch.setattr(sys, "stderr", _Tty())
    assert wants_progress(None)
    monkeypatch.setattr(sys, "stderr", None)
    assert not wants_progress(None)
    with pytest.raises(TypeError, match="progress"):
        wants_progress("yes")


def test_bar_in_a_terminal_and_quiet_elsewhere(monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    src = cz.array(np.arange(400).reshape(20, 20), chunks=(5, 5))
    cz.copy(src, chunks=(10, 10))
    assert "4/4" in tty.getvalue()
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    cz.copy(src, chunks=(10, 10))
    assert piped.getvalue() == ""


def test_missing_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.warns(RuntimeWarning, match="tqdm"):
        bar = progress_bar(True, 3, "x")
    with bar:
        bar.update(3)
    bar = progress_bar(None, 3, "x")  # automatic: silently none
    bar.update(1)
    bar.close()
