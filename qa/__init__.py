"""citeqa: extractive question answering over your documents, with exact citations."""

from __future__ import annotations

from qa.assistant import Answer, Assistant, Citation, Result
from qa.errors import BadInputError, CiteQAError, IndexProblem

__all__ = ["Answer", "Assistant", "BadInputError", "Citation", "CiteQAError", "IndexProblem", "Result"]
__version__ = "0.1.0"
