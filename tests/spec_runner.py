"""Extract the runnable examples of the behaviour spec (an RST tutorial) as Python code.

Every example counts: ``.. ipython::`` blocks, the commented-out sections (lines behind
``..``, in ipython ``In [n]:`` or doctest ``>>>`` form), and ``None  # TODO: expr`` lines,
which become ``expr``. Imports are renamed ``zarr`` → ``chunkzip`` and ``numcodecs`` →
``chunkzip.codecs``. The result is a list of sections, each a list of example blocks, each
a list of statements (source strings).
"""
from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field

#: the spec lives beside the checkout (``../shared``); CHUNKZIP_SPEC points elsewhere (e.g. from a worktree)
SPEC = os.environ.get("CHUNKZIP_SPEC") or os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "spec", "working-with-arrays.rst")



def spec_available() -> bool:
    """Whether the spec file exists: a clone without ``../shared`` skips the spec tests."""
    return os.path.isfile(SPEC)


_TODO = re.compile(r"^(?P<lhs>\s*(?:[\w.\[\]'\"]+\s*=\s*)?)None\s*#\s*TODO:\s*(?P<code>.+)$")
_PROMPT = re.compile(r"^\s*In \[\d+\]:\s?(?P<code>.*)$")


@dataclass
class Section:
    title: str
    blocks: list[list[str]] = field(default_factory=list)


def _uncomment(line: str) -> tuple[str, int]:
    """Strip leading RST markers ('..', not '...'); return the text and how many."""
    s, n = line, 0
    while True:
        t = s.lstrip()
        if t.startswith("..") and not t.startswith("..."):
            s, n = t[2:], n + 1
        else:
            return s, n


def _translate(stmt: str) -> str | None:
    lines = []
    for line in stmt.splitlines():
        m = _TODO.match(line)
        if m:
            candidate = m.group("lhs") + m.group("code")
            try:
                ast.parse(candidate.strip())
            except SyntaxError:
                continue  # prose after TODO (covered by explicit tests)
            line = candidate
        line = re.sub(r"^(\s*)rm -r (\S+)\s*$", r"\1__import__('shutil').rmtree('\2', ignore_errors=True)", line)
        lines.append(line)
    code = "\n".join(lines)
    code = re.sub(r"^(\s*)import zarr\.storage\b", r"\1import chunkzip.storage", code, flags=re.M)
    code = re.sub(r"^(\s*)import zarr\s*$", r"\1import chunkzip as zarr", code, flags=re.M)
    code = re.sub(r"^(\s*)from numcodecs import ", r"\1from chunkzip.codecs import ", code, flags=re.M)
    code = re.sub(r"^(\s*)import numcodecs\s*$", r"\1import chunkzip.codecs as numcodecs", code, flags=re.M)
    code = code.replace("zarr.storage.default_compressor", "chunkzip.storage.default_compressor")
    if "chunkzip.storage" in code and "import chunkzip" not in code:
        code = "import chunkzip\n" + code
    if not code.strip():
        return None
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    return code if tree.body else None  # a comment alone is no statement


def parse_spec(path: str = SPEC) -> list[Section]:
    with open(path, encoding="utf-8") as f:
        raw_lines = f.read().splitlines()
    sections: list[Section] = [Section("(start)")]
    block: list[str] | None = None
    stmt: list[str] = []
    code_col = 0
    in_ipython = False  # inside an uncommented ".. ipython:: python" block

    def flush_stmt() -> None:
        nonlocal stmt
        if stmt and block is not None:
            code = _translate("\n".join(stmt))
            if code:
                block.append(code)
        stmt = []

    def new_block() -> None:
        nonlocal block
        flush_stmt()
        block = []
        sections[-1].blocks.append(block)

    prev_text = ""
    for i, raw in enumerate(raw_lines):
        text, commented = _uncomment(raw)
        stripped = text.strip()
        # section headings: a title line followed by a line of - or ~
        nxt = _uncomment(raw_lines[i + 1])[0].strip() if i + 1 < len(raw_lines) else ""
        if stripped and nxt and set(nxt) <= set("-~=") and len(nxt) >= 3 and not stripped.startswith((">>>", "In [")):
            flush_stmt()
            sections.append(Section(stripped))
            block, in_ipython = None, False
            continue
        if stripped.startswith("ipython::"):
            new_block()
            in_ipython = commented == 1 and "python" in stripped
            continue
        if in_ipython:
            if raw.startswith("   ") and not stripped.startswith(":"):
                m = _PROMPT.match(raw)
                line = m.group("code") if m else raw[3:]
                if raw.startswith("    ") and stmt and not m:
                    stmt.append(line)  # continuation inside an ipython block
                else:
                    flush_stmt()
                    stmt = [line]
                continue
            if stripped == "" or stripped.startswith(":"):
                continue
            flush_stmt()
            in_ipython = False
            continue
        m = _PROMPT.match(text)
        if m:
            if block is None:
                new_block()
            flush_stmt()
            code_col = text.index(m.group("code")) if m.group("code") else len(text)
            stmt = [m.group("code")]
            continue
        if stripped.startswith(">>>"):
            if block is None:
                new_block()
            flush_stmt()
            stmt = [stripped[4:]]
            continue
        if stripped.startswith("...") and stmt:
            stmt.append(stripped[4:])
            continue
        if stmt and code_col and text[:code_col].strip() == "" and len(text) > code_col and stripped:
            stmt.append(text[code_col:])  # indented continuation of an "In [n]:" statement
            continue
        if stripped == "":
            continue
        flush_stmt()
        code_col = 0
        prev_text = text
    flush_stmt()
    return [s for s in sections if any(b for b in s.blocks)]
