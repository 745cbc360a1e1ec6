"""citeqa: extractive question answering over your documents, with exact citations."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from qa.errors import BadInputError, CiteQAError, IndexProblem

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.results import Answer, Citation, Result

__all__ = ["Answer", "Assistant", "BadInputError", "Citation", "CiteQAError", "IndexProblem", "Result"]
__version__ = "0.1.0"

#: Imported on first use, so that ``qa --help`` and ``qa chat`` start without numpy and the model code.
_LAZY = {"Answer": "qa.results", "Assistant": "qa.assistant", "Citation": "qa.results", "Result": "qa.results"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
