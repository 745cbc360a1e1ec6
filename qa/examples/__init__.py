"""Example files shipped with citeqa: ``seeds-questions.jsonl``, a small question set on the bundled seed
articles in the format of ``docs/eval-format.md`` (``qa eval --example`` runs it)."""

from __future__ import annotations

from pathlib import Path

#: The example question set (questions, an unanswerable one, a yes/no one, a conversation scoped to one document).
SEEDS_QUESTIONS = Path(__file__).resolve().parent / "seeds-questions.jsonl"
