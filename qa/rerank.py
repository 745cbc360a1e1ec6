"""Late interaction (ColBERT-style MaxSim) over the embedder's own token vectors.

For each question token, take its best cosine against the sentence's tokens,
and average over the question tokens. The question's token vectors come from
the same ONNX forward pass that makes its sentence vector; the sentences'
were stored at index time (``qa.index.token_vectors``), so reranking 30 candidates
costs about a millisecond and no model call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.text import content_piece


def content_token_mask(token_strings: list[str]) -> np.ndarray:
    """True for the question's word-piece tokens worth matching: not [CLS]/[SEP],
    punctuation or a function word."""
    mask = np.array([content_piece(t) for t in token_strings], dtype=bool)
    if not mask.any():
        mask = np.array([t not in ("[CLS]", "[SEP]", "[PAD]") for t in token_strings], dtype=bool)
    return mask


def query_token_matrix(tokens: np.ndarray) -> np.ndarray:
    """The question's token vectors as float32 (already filtered by ``content_token_mask``)."""
    return np.asarray(tokens, dtype=np.float32)


#: In the wide window (two sentences either side), a neighbour's match counts this much
#: of the sentence's own: context helps, but the sentence should hold the answer itself.
WIDE_DECAY = 0.9


def context_best(query_tokens: np.ndarray, store_tokens, ids, rings) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each question token's best cosine (question tokens x candidates) in each sentence
    ``ids[i]`` and in each of its windows: ``rings[0]`` is the ``(prev, next)`` id lists one
    sentence away, ``rings[1]`` (optional) two away. The one-sentence window takes the best
    match anywhere in it; the two-sentence window counts neighbours' matches at
    ``WIDE_DECAY``. -inf where a candidate has no token vectors at all; ``weighted_maxsim``
    averages over the question tokens."""
    q = np.asarray(query_tokens, dtype=np.float32)
    needed = list(
        dict.fromkeys(j for group in (ids, *(x for ring in rings for x in ring)) for j in group if j is not None)
    )
    arrays, cols = [], {}
    store_tokens.prefetch(needed)  # a remote backend fetches them in one round trip
    for j in needed:
        arr = store_tokens.float32(j)
        if arr is not None and len(arr):
            cols[j] = len(arrays)
            arrays.append(arr)
    n = len(ids)
    if not arrays or not len(q):
        empty = np.full((len(q), n), -np.inf, np.float32)
        return empty, [empty for _ in rings]
    # one einsum over all the sentences' tokens, then the best per sentence (not BLAS: a
    # multi-threaded sgemm this small spins its threads on a busy machine, 10x slower)
    sims = np.einsum("qd,td->qt", q, np.concatenate(arrays).astype(np.float32, copy=False))
    starts = np.cumsum([0] + [len(a) for a in arrays[:-1]])
    best = np.maximum.reduceat(sims, starts, axis=1)  # best cosine of each query token per sentence
    # gather per candidate: a padding column of -inf stands for a missing sentence
    pad = best.shape[1]
    padded = np.concatenate([best, np.full((len(q), 1), -np.inf, np.float32)], axis=1)

    def column(group) -> np.ndarray:
        return np.array([cols.get(j, pad) if j is not None else pad for j in group], dtype=np.int64)

    centre = padded[:, column(ids)]  # query tokens x candidates
    around = None
    windows = []
    for r, (prev, nxt) in enumerate(rings):
        ring = np.maximum(padded[:, column(prev)], padded[:, column(nxt)])
        around = ring if around is None else np.maximum(around, ring)
        windows.append(np.maximum(around, centre) if r == 0 else np.maximum(around * WIDE_DECAY, centre))
    return centre, windows


def weighted_maxsim(best: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean over question tokens of ``best`` (from ``context_best``): 0 for a
    candidate without token vectors, or when no token has weight."""
    keep = np.asarray(weights, dtype=np.float32) > 0
    if not keep.any() or not best.shape[1]:
        return np.zeros(best.shape[1], np.float32)
    w = np.asarray(weights, dtype=np.float32)[keep]
    with np.errstate(invalid="ignore"):
        m = (w[:, None] * best[keep]).sum(axis=0) / w.sum()
    return np.where(np.isfinite(m), m, 0.0).astype(np.float32)


def sentence_maxsim(centre: np.ndarray, window: np.ndarray, roles: TokenRoles) -> np.ndarray:
    """Each candidate's MaxSim as the confidence model reads it: the question's words matched
    in the sentence, its names in the sentence's one-sentence window (a sentence that says "the
    city" next to one naming Mariupol is not missing the name), weighed per word."""
    return weighted_maxsim(np.where(roles.names[:, None], window, centre), roles.weights)


@dataclass(frozen=True)
class TokenRoles:
    """What each of the question's content tokens (those ``content_token_mask`` keeps) counts for
    in the rerank: ``weights`` is 1 / the word pieces of its word, so that a name the tokenizer
    cuts into four pieces ("Mariupol") weighs as much as a word it keeps whole ("surrounded");
    ``names`` marks the pieces of capitalised words other than the question's first word
    (names of people, places, things). A text refers to what it is about by description or
    pronoun ("the city", "he"), so the rerank matches names in a sentence's context window,
    and the other words in the sentence itself."""

    weights: np.ndarray
    names: np.ndarray

    @classmethod
    def plain(cls, n: int) -> TokenRoles:
        """Every token weighs 1, none is a name (a question without token strings)."""
        return cls(np.ones(n, np.float32), np.zeros(n, bool))


def token_roles(
    question: str, token_strings: list[str], offsets: list[tuple[int, int]], keep: np.ndarray
) -> TokenRoles:
    """``TokenRoles`` of the tokens ``keep`` selects, from the tokenizer's word pieces of
    ``question`` and their character offsets (``(0, 0)`` for [CLS]/[SEP])."""
    word, words = [], -1
    first = None  # the first word holding a letter or digit
    for t, (s, e) in zip(token_strings, offsets, strict=True):
        if not t.startswith("##") or words < 0:
            words += 1
        word.append(words)
        if first is None and e > s and question[s:e].strip() and any(ch.isalnum() for ch in question[s:e]):
            first = words
    word_arr = np.asarray(word)
    starts: dict[int, int] = {}
    for w, (s, e) in zip(word, offsets, strict=True):
        if e > s and w not in starts:
            starts[w] = s
    pieces = np.bincount(word_arr, minlength=words + 1)
    kept = word_arr[np.asarray(keep, dtype=bool)]
    weights = (1.0 / pieces[kept]).astype(np.float32)
    names = np.array([w != first and w in starts and question[starts[w]].isupper() for w in kept.tolist()], dtype=bool)
    return TokenRoles(weights, names)


def token_coverage(query_tokens: np.ndarray, sentence_tokens: list[np.ndarray]) -> np.ndarray:
    """For each question token, its best cosine with any token of ``sentence_tokens``
    (several sentences' vectors, e.g. a window): low values are question words the
    text does not address ("Who *mediated* the talks?" against a sentence about the talks)."""
    parts = [np.asarray(t, dtype=np.float32) for t in sentence_tokens if t is not None and len(t)]
    if not len(query_tokens) or not parts:
        return np.zeros(len(query_tokens), np.float32)
    q = np.asarray(query_tokens, dtype=np.float32)
    return np.max([(q @ t.T).max(axis=1) for t in parts], axis=0)
