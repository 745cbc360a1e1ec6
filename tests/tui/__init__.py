"""Tests of the chat app (qa/tui)."""

from __future__ import annotations
