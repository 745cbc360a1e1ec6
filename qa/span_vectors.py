"""Answer-span features from the embedder's contextual token vectors.

The question and the supporting sentence each come as a ``TokenView``: their
L2-normalised token vectors with each token's character offsets. For a
candidate span, its tokens are compared with the question's:

* ``tok_qmax``: how much the span repeats the question (mean over its tokens of
  the best cosine with a question content token); answers add something new;
* ``tok_wh``: best cosine of a span token with the question's wh-word ("who",
  "which", ...), whose contextual vector carries what is asked;
* ``tok_head``: best cosine with the question's asked-about noun ("Which
  *alliance* ..." against "NATO"), 0 when the question has none;
* ``tok_pool``: cosine of the span's mean token vector with the question's.

The sentence's vectors are the ones stored for MaxSim at index time (no model
call); the question's come from the forward pass that encodes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEATURES = ("tok_qmax", "tok_wh", "tok_head", "tok_pool", "tok_has_head")

_WH = {"who", "what", "where", "when", "which", "why", "how", "whose", "whom"}
_STOP = set(
    "a an the of to in on at for by with from and or but is are was were be been being has have had do does did "
    "that this these those it its as into about than then there kind kinds type sort "
    "will would can could should may might must".split()
)
_SPECIAL = {"[CLS]", "[SEP]", "[PAD]"}
_HEAD_SKIP = {"kind", "kinds", "type", "types", "sort", "sorts", "of"}


@dataclass(frozen=True)
class TokenView:
    """Token vectors ``(n, DIM)`` (L2-normalised) of a text, with their word pieces and
    character offsets into that text."""

    vectors: np.ndarray
    strings: list[str]
    offsets: list[tuple[int, int]]

    def shifted(self, by: int) -> TokenView:
        """The same tokens with offsets moved by ``-by`` (to skip a ``"title: "`` prefix)."""
        return TokenView(self.vectors, self.strings, [(s - by, e - by) for s, e in self.offsets])


def view_of(encoder, text: str) -> TokenView | None:
    """``text``'s token view from one forward pass of ``encoder`` (None when it cannot give one)."""
    if not hasattr(encoder, "token_vectors") or not hasattr(encoder, "token_offsets"):
        return None
    hidden, mask = encoder.token_vectors([text])
    vectors = np.asarray(hidden[0, : int(mask[0].sum())], dtype=np.float32)
    return stored_view(encoder, text, vectors)


def stored_view(encoder, text: str, vectors: np.ndarray, prefix: int = 0) -> TokenView | None:
    """A view over token vectors computed earlier for ``text`` (e.g. stored at index time),
    aligned with the tokenizer's offsets; ``prefix`` characters of ``text`` (a title) are
    not part of the sentence. None if the token counts do not match."""
    if not hasattr(encoder, "token_offsets"):
        return None
    strings, offsets = encoder.token_offsets(text)
    if len(strings) != len(vectors):
        return None
    v = np.asarray(vectors, dtype=np.float32)
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
    view = TokenView(v, strings, [tuple(o) for o in offsets])
    return view.shifted(prefix) if prefix else view


def question_roles(view: TokenView) -> tuple[list[int], int | None, int | None]:
    """Indices of the question's content tokens, its wh-word token and its asked-about
    noun token (the first content token right after "which"/"what"/"whose")."""
    words = [t.lower() for t in view.strings]
    wh = next((i for i, w in enumerate(words) if w in _WH), None)
    content = [
        i
        for i, w in enumerate(words)
        if view.strings[i] not in _SPECIAL and w not in _WH and w not in _STOP and any(ch.isalnum() for ch in w)
    ]
    head = None
    if wh is not None and words[wh] in ("which", "what", "whose"):
        j = wh + 1
        while j < len(words) and words[j] in _HEAD_SKIP:  # "what kind of *store*"
            j += 1
        # "What *has* NATO ruled out?" asks about no noun: an auxiliary or function word comes first
        if j < len(words) and j in content and not view.strings[j].startswith("##"):
            head = j
    return content, wh, head


def span_token_features(
    question: TokenView, sentence: TokenView, spans: list[tuple[int, int]]
) -> list[dict[str, float]]:
    """Features (``FEATURES``) for each ``(start, end)`` span of the sentence."""
    content, wh, head = question_roles(question)
    q = np.asarray(question.vectors, dtype=np.float32)
    s = np.asarray(sentence.vectors, dtype=np.float32)
    # einsum, not BLAS: tiny products that a multi-threaded sgemm makes slow on a busy machine
    sims = np.einsum("sd,qd->sq", s, q)  # sentence tokens x question tokens
    keep = [i for i, t in enumerate(question.strings) if t not in _SPECIAL] or list(range(len(q)))
    pooled = q[keep].mean(axis=0)
    pooled /= max(float(np.linalg.norm(pooled)), 1e-9)
    # which sentence tokens each span covers: one (spans x tokens) mask, then everything at once
    starts = np.array([a for a, _ in sentence.offsets])
    ends = np.array([b for _, b in sentence.offsets])
    span_arr = np.array(spans, dtype=np.int64).reshape(-1, 2)
    member = (
        (ends[None, :] > starts[None, :]) & (starts[None, :] < span_arr[:, 1:2]) & (span_arr[:, 0:1] < ends[None, :])
    )
    count = member.sum(axis=1)
    weights = (member / np.maximum(count, 1)[:, None]).astype(np.float32)
    qmax = np.einsum("cs,s->c", weights, sims[:, content].max(axis=1)) if content else np.zeros(len(spans))
    wh_best = np.where(member, sims[:, wh][None, :], -1.0).max(axis=1) if wh is not None else np.zeros(len(spans))
    head_best = np.where(member, sims[:, head][None, :], -1.0).max(axis=1) if head is not None else None
    means = np.einsum("cs,sd->cd", weights, s)
    pool = np.einsum("cd,d->c", means, pooled) / np.maximum(np.linalg.norm(means, axis=1), 1e-9)
    out = []
    for i in range(len(spans)):
        if not count[i]:
            out.append({})
            continue
        f = {"tok_qmax": float(qmax[i]), "tok_wh": float(wh_best[i]), "tok_pool": float(pool[i])}
        if head_best is not None:
            f["tok_head"] = float(head_best[i])
            f["tok_has_head"] = 1.0
        out.append(f)
    return out
