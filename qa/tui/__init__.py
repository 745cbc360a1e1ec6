"""The Textual chat app (``qa chat``). The only part of citeqa that imports Textual."""

from __future__ import annotations
