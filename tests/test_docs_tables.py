"""Every Markdown table in the README and docs/ renders as a table (a divider row with as many
cells as the header, every row inside the table)."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _table_blocks(text: str) -> list[tuple[int, list[str]]]:
    """Runs of consecutive lines that start with ``|`` (outside fenced code), with their first line number."""
    blocks, current, start, fenced = [], [], 0, False
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and line.lstrip().startswith("|"):
            if not current:
                start = n
            current.append(line)
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_tables_render(doc: Path):
    md = MarkdownIt("commonmark").enable("table")
    for start, lines in _table_blocks(doc.read_text(encoding="utf-8")):
        tokens = md.parse("\n".join(lines))
        assert tokens and tokens[0].type == "table_open", f"{doc.name}:{start}: the table does not render"
        rows = sum(t.type == "tr_open" for t in tokens)
        assert rows == len(lines) - 1, f"{doc.name}:{start}: {len(lines) - 1} rows written, {rows} rendered"
