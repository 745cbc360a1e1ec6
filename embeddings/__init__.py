"""Embedding models and a vector index. Independent of ``qa``.

Heavy libraries (torch, onnxruntime, faiss) load on first use, not on import.
"""

from __future__ import annotations

from embeddings.model import DIM, MODEL_NAME, Encoder, load_encoder

__all__ = ["DIM", "MODEL_NAME", "Encoder", "VectorIndex", "load_encoder"]


def __getattr__(name: str):
    if name == "VectorIndex":
        from embeddings.index import VectorIndex

        return VectorIndex
    raise AttributeError(name)
