"""A deterministic, instant stand-in for the model in store tests (not the real model!)."""

from __future__ import annotations

import hashlib

import numpy as np

from embeddings.model import DIM, Encoder


class HashEncoder(Encoder):
    """Maps each text to a fixed pseudo-random unit vector; counts what it encodes."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        self.encoded.extend(texts)
        out = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
            out.append(v / np.linalg.norm(v))
        return np.vstack(out)
