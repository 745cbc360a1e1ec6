"""The trained models shipped with the package (ONNX files, each with its JSON training record),
and what their checks share: a file's SHA-256 and reading a record."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_record(path: Path) -> dict:
    """A model's JSON training record."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
