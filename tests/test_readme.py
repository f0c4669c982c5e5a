"""The README's quick start runs as written."""
from __future__ import annotations

import os
import re

README = os.path.join(os.path.dirname(__file__), "..", "README.md")


def test_readme_quick_start_runs(tmp_path, monkeypatch, capsys):
    with open(README, encoding="utf-8") as f:
        text = f.read()
    code = re.search(r"## Quick start\n\n```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert "Storage ratio" in out and "Blosc(cname='zstd'" in out
