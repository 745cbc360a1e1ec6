"""The bundled seed corpus and the default index built from it in the user's cache."""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from pathlib import Path

from qa.confidence_weights import THRESHOLD

#: Abstain when the confidence is below this. The confidence is the probability, from a
#: logistic model (``qa.confidence``), that the index answers the question; the threshold is
#: the one fitted with it (``benchmarks/fit_confidence.py``): on held-out NarrativeQA stories it
#: abstains on ~83% of questions whose story is missing, and wrongly on ~5% of answerable ones.
DEFAULT_THRESHOLD = THRESHOLD
DEFAULT_TOP_K = 5
#: Questions longer than this are truncated (with a note) before embedding.
MAX_QUESTION_CHARS = 2000


def seeds_dir() -> Path:
    """Folder holding the bundled seed articles: ``seeds/`` in a source checkout,
    installed as the package data ``qa.seeds`` in a wheel."""
    source_tree = Path(__file__).resolve().parent.parent / "seeds"
    if source_tree.is_dir():
        return source_tree
    return Path(str(resources.files("qa.seeds")))


def cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("CITEQA_CACHE") or user_cache_dir("citeqa"))


def default_index_dir() -> Path:
    return cache_dir() / "seeds-index"


def data_dir() -> Path:
    """Where the personal library lives: the user data directory (XDG data, not cache: it holds
    the user's work), or ``$CITEQA_DATA``."""
    from platformdirs import user_data_dir

    return Path(os.environ.get("CITEQA_DATA") or user_data_dir("citeqa"))


def library_dir() -> Path:
    return data_dir() / "library"


#: ``--index seeds`` names the bundled seeds demo index (a folder of that name: ``--index ./seeds``).
SEEDS_INDEX_NAME = "seeds"


#: Bumped when what an index stores for retrieval changes (BM25 folder, token vectors,
#: titled embeddings), so that the default seeds index is rebuilt once with it.
_INDEX_LAYOUT = "layout-blocks-2"


def seeds_fingerprint(folder: Path | None = None) -> str:
    """Hash of the seed files' names and contents: the default index is rebuilt when it changes."""
    folder = folder or seeds_dir()
    h = hashlib.sha256()
    h.update(_INDEX_LAYOUT.encode() + b"\0")
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix in {".txt", ".md"}:
            h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def default_index_is_current(index_dir: Path | None = None) -> bool:
    index_dir = index_dir or default_index_dir()
    try:
        manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(manifest, dict) and manifest.get("source_fingerprint") == seeds_fingerprint()
