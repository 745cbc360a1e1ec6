"""Fixtures for the chat app's tests (async tests run on anyio's asyncio backend)."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
