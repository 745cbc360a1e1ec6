"""Shared fixtures: a seeds index built once per test session, and an isolated cache.

Tests never touch the user's cache or data: ``CITEQA_CACHE`` and ``CITEQA_DATA`` (the personal
library) point into a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data"
#: ../shared beside the repository (absent on a bare clone: tests using it skip)
SHARED = ROOT.parent / "shared"

_CACHE = tempfile.mkdtemp(prefix="citeqa-test-cache-")
os.environ["CITEQA_CACHE"] = _CACHE
os.environ["CITEQA_DATA"] = os.path.join(_CACHE, "data")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_CACHE, ignore_errors=True)


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available (../shared is absent)")
    return path


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory) -> Path:
    """An index of the bundled seeds, built once with the real model. Do not modify it."""
    from qa.indexing import index_paths

    index_dir = tmp_path_factory.mktemp("seeds-index")
    index_paths([SEEDS], index_dir, warn=lambda m: None)
    return index_dir


@pytest.fixture(scope="session")
def assistant(seeds_index):
    from qa import Assistant

    with Assistant.open(seeds_index) as a:
        yield a


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    """A writable copy of the bundled seed articles."""
    dest = tmp_path / "docs"
    shutil.copytree(SEEDS, dest)
    return dest
