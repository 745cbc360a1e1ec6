"""``--corpus PATH``: index a corpus once into a cache, then reuse it.

The index lives under ``cache_dir()/eval-indexes/<hash of the absolute path>``
and is updated incrementally by ``qa.indexing.index_paths``: a second run only
re-reads the corpus and embeds nothing unless documents changed.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from qa.defaults import cache_dir
from qa.errors import BadInputError


def corpus_index_dir(corpus: str | Path) -> Path:
    key = hashlib.sha256(str(Path(corpus).resolve()).encode("utf-8")).hexdigest()[:16]
    return cache_dir() / "eval-indexes" / key


def ensure_corpus_index(corpus: str | Path, quiet: bool = False, rebuild: bool = False) -> Path:
    """Index (or bring up to date) the cached index of ``corpus``; returns its folder."""
    from qa.indexing import index_paths

    corpus = Path(corpus)
    if not corpus.exists():
        raise BadInputError(f"--corpus {corpus}: no such file or folder")
    index_dir = corpus_index_dir(corpus)
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    if not quiet:
        print(f"Using the cached index of {corpus} in {index_dir} (indexing what changed)...", file=sys.stderr)
    report, read = index_paths(
        [corpus], index_dir, rebuild=rebuild, warn=lambda m: print(f"qa: warning: {m}", file=sys.stderr)
    )
    if report.documents_total == 0:
        raise BadInputError(f"--corpus {corpus}: no readable documents")
    return index_dir
