"""Retrievers (dense, bm25, hybrid, rerank), the BM25 index on disk and stored token vectors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from qa import Assistant
from qa.index import open_index
from qa.index.bm25 import BM25Index, tokenize
from qa.retrieval import DEFAULT_RETRIEVER, RETRIEVERS, make_retriever

QUESTION = "Which militia group holds the city according to the article?"


def test_every_retriever_is_selectable_and_the_default_is_registered():
    assert {"dense", "bm25", "hybrid", "rerank"} <= set(RETRIEVERS)
    assert DEFAULT_RETRIEVER in RETRIEVERS
    with pytest.raises(ValueError, match="unknown retriever"):
        make_retriever("nope", None)


@pytest.mark.parametrize("name", sorted(RETRIEVERS))
def test_retrievers_rank_best_first_without_duplicates(seeds_index, name):
    with Assistant.open(seeds_index, retriever=name) as a:
        r = a.ask("What did the Red Cross official describe in Mariupol?", top_k=8)
        assert len(r.citations) == 8
        scores = [c.score for c in r.citations]
        assert scores == sorted(scores, reverse=True)
        assert len({(c.doc, c.start) for c in r.citations}) == 8
        assert any("Volkov" in c.text for c in r.citations[:3])


@pytest.mark.parametrize("name", sorted(RETRIEVERS))
def test_excluded_documents_never_come_back(seeds_index, name):
    with Assistant.open(seeds_index, retriever=name) as a:
        docs = {d.id for d in a.store.documents()}
        drop = sorted(docs)[0]
        r = a.ask(QUESTION, top_k=10, exclude_docs={drop})
        assert r.citations and all(c.doc != drop for c in r.citations)


def test_hybrid_and_rerank_find_the_sentence_dense_misses_on_wording(seeds_index):
    """A question that shares rare words with its sentence: BM25 fusion must bring it to the top 3."""
    q = "Which ultranationalist forces are affiliated with the Azov Battalion?"
    for name in ("hybrid", "rerank"):
        with Assistant.open(seeds_index, retriever=name) as a:
            r = a.ask(q, top_k=3)
            assert any("Azov Battalion" in c.text for c in r.citations), name


def test_index_stores_bm25_and_token_vectors_without_pickle(seeds_index):
    manifest = json.loads((seeds_index / "manifest.json").read_text())
    files = manifest["files"]
    assert {"bm25", "tokens", "tokidx"} <= set(files)
    store = open_index(seeds_index)
    tokens = store.token_vectors
    assert tokens is not None and len(tokens) == len(store)
    for name in (files["tokens"], files["tokidx"]):
        np.load(seeds_index / name, allow_pickle=False)  # plain arrays
    sent = next(store.iter_sentences())
    vecs = tokens.get(sent.id)
    assert vecs.dtype == np.float16 and vecs.shape[1] == 384 and len(vecs) >= 3
    assert np.allclose(np.linalg.norm(vecs.astype(np.float32), axis=1), 1.0, atol=1e-2)
    for p in (seeds_index / files["bm25"]).iterdir():
        if p.suffix == ".npy":
            np.load(p, allow_pickle=False)
    store.close()


def test_bm25_saved_scores_equal_a_fresh_build(seeds_index, tmp_path):
    store = open_index(seeds_index)
    sents = list(store.iter_sentences())
    fresh = BM25Index.build([s.text for s in sents], [s.id for s in sents])
    fresh.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25")
    q = "humanitarian corridor for Mariupol"
    assert np.allclose(fresh.scores(q), loaded.scores(q))
    assert np.allclose(store.bm25.scores(q), fresh.scores(q))
    ids, scores = loaded.top(loaded.scores(q), 3)
    best = store.sentences([int(ids[0])])[0].text.lower()
    assert "corridor" in best and list(scores) == sorted(scores, reverse=True)
    store.close()


def test_bm25_stems_and_drops_stopwords():
    assert tokenize(["The talks are collapsing"])[0] == ["talk", "collaps"]


def test_incremental_update_keeps_and_adds_token_vectors(seeds_copy, tmp_path):
    from qa.indexing import index_paths

    index = tmp_path / "idx"
    index_paths([seeds_copy], index, warn=lambda m: None)
    before = open_index(index)
    kept = {s.id: before.token_vectors.get(s.id).copy() for s in before.iter_sentences()}
    before.close()
    (seeds_copy / "extra.txt").write_text("The river Dnipro flows through Kyiv. It is wide.", encoding="utf-8")
    index_paths([seeds_copy], index, warn=lambda m: None)
    after = open_index(index)
    assert len(after.token_vectors) == len(after)
    for sid, vecs in kept.items():
        assert np.array_equal(after.token_vectors.get(sid), vecs)
    new = [s for s in after.iter_sentences() if s.doc == "extra.txt"]
    assert new and all(after.token_vectors.get(s.id) is not None for s in new)
    r = Assistant(after).ask("Which river flows through Kyiv?")
    assert r.citations[0].doc == "extra.txt"
    names = {p.name for p in index.iterdir()}
    assert sum(n.startswith("bm25-") for n in names) == 1 and sum(n.startswith("tokens-") for n in names) == 1
    after.close()


def test_index_without_retrieval_files_still_works(seeds_index, tmp_path):
    """Older indexes (no bm25 folder, no token vectors): BM25 is built in memory, MaxSim is skipped."""
    copy = tmp_path / "old"
    shutil.copytree(seeds_index, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    for key in ("bm25", "tokens", "tokidx"):
        manifest["files"].pop(key)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with Assistant.open(copy) as a:
        assert a.store.token_vectors is None
        r = a.ask(QUESTION, top_k=3)
        assert len(r.citations) == 3


def test_query_path_does_not_import_scipy_numba_or_torch():
    code = (
        "import sys; import qa.index.bm25 as l; l.bm25s_module(); "
        "import qa.retrieval, qa.rerank, qa.confidence, qa.reader, qa.assistant, qa.corroboration; "
        "print(sorted(m for m in ('scipy', 'numba', 'torch', 'sentence_transformers', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_retriever_option(seeds_index):
    def qa(*args):
        return subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True, cwd=ROOT)

    ok = qa("ask", "Who leads the Red Cross delegation?", "--index", str(seeds_index), "--retriever", "bm25", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["citations"]
    bad = qa("ask", "Who?", "--index", str(seeds_index), "--retriever", "nope")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and "Traceback" not in bad.stderr


def test_passage_prior_weighs_short_documents_only(seeds_index, tmp_path):
    """Short passages get the document-mean prior (weight PASSAGE_PRIOR / sentences);
    documents over PASSAGE_MAX sentences get none."""
    from qa.retrieval import PASSAGE_MAX, PASSAGE_PRIOR, RerankRetriever

    store = open_index(seeds_index)
    r = RerankRetriever(store)
    docs = [d.id for d in store.documents()]
    ids = [store.sentence_ids(d)[0] for d in docs]
    counts = [len(store.sentence_ids(d)) for d in docs]
    assert all(0 < n <= PASSAGE_MAX for n in counts)  # the seeds are short enough
    query = Assistant(store).encode_question("Who is Ukraine's foreign minister?")[0]
    prior = r.passage_prior(ids, query)
    assert np.allclose(np.abs(prior), [PASSAGE_PRIOR / n for n in counts], rtol=1e-4)  # z-scores of 2 are +-1
    import qa.retrieval

    old, qa.retrieval.PASSAGE_MAX = qa.retrieval.PASSAGE_MAX, 1
    try:
        assert not RerankRetriever(store).passage_prior(ids, query).any()
    finally:
        qa.retrieval.PASSAGE_MAX = old
    assert store.sentence_ids(docs[0]) == [s.id for s in store.document_sentences(docs[0])]


def test_token_roles_weigh_words_not_pieces_and_mark_names():
    """A name cut into several word pieces weighs as much as one whole word; capitalised words
    other than the first are names; a lower-case question has none."""
    from qa.rerank import content_token_mask, token_roles

    def pieces(question, words):
        strings, offsets, at = ["[CLS]"], [(0, 0)], 0
        for w in words:
            s = question.lower().index(w.removeprefix("##"), at)
            strings.append(w)
            offsets.append((s, s + len(w.removeprefix("##"))))
            at = s + len(w.removeprefix("##"))
        return strings + ["[SEP]"], offsets + [(0, 0)]

    q = "Which army has surrounded Mariupol?"
    strings, offsets = pieces(q, ["which", "army", "has", "surrounded", "mari", "##up", "##ol", "?"])
    keep = content_token_mask(strings)
    roles = token_roles(q, strings, offsets, keep)
    kept = [s for s, k in zip(strings, keep, strict=True) if k]
    assert kept == ["army", "surrounded", "mari", "##up", "##ol"]
    assert np.allclose(roles.weights, [1, 1, 1 / 3, 1 / 3, 1 / 3])
    assert roles.names.tolist() == [False, False, True, True, True]
    # the first word is capitalised because it starts the question, not because it is a name
    q2 = "Soldiers surrounded which city?"
    s2, o2 = pieces(q2, ["soldiers", "surrounded", "which", "city", "?"])
    assert not token_roles(q2, s2, o2, content_token_mask(s2)).names.any()
    q3 = "who surrounded mariupol"
    s3, o3 = pieces(q3, ["who", "surrounded", "mari", "##up", "##ol"])
    assert not token_roles(q3, s3, o3, content_token_mask(s3)).names.any()


def test_weighted_maxsim_matches_plain_maxsim_and_skips_missing():
    from qa.rerank import context_best, weighted_maxsim

    rng = np.random.default_rng(0)

    class Tokens:
        def __init__(self):
            self.v = {i: rng.normal(size=(4 + i, 8)).astype(np.float32) for i in range(5)}

        def float32(self, i):
            return self.v.get(i)

        def prefetch(self, ids):
            pass

    store, q = Tokens(), rng.normal(size=(3, 8)).astype(np.float32)
    ids, rings = [1, 2, 9], [([0, 1, None], [2, 3, None])]
    centre, (win,) = context_best(q, store, ids, rings)

    def plain_maxsim(sentences):
        """Mean over question tokens of the best cosine with any token of ``sentences``; 0 if none."""
        mats = [store.float32(i) for i in sentences if i is not None and store.float32(i) is not None]
        return float((q @ np.concatenate(mats).T).max(axis=1).mean()) if mats else 0.0

    plain = np.array([plain_maxsim([i]) for i in ids], np.float32)
    prev, nxt = rings[0]
    plain_win = np.array([plain_maxsim([p, i, n]) for p, i, n in zip(prev, ids, nxt)], np.float32)
    ones = np.ones(3, np.float32)
    assert np.allclose(weighted_maxsim(centre, ones), plain) and np.allclose(weighted_maxsim(win, ones), plain_win)
    assert weighted_maxsim(centre, ones)[2] == 0.0  # no token vectors for sentence 9
    w = np.array([2.0, 0.0, 1.0], np.float32)  # a weight of 0 leaves the token out
    assert np.allclose(weighted_maxsim(centre, w)[:2], (2 * centre[0, :2] + centre[2, :2]) / 3)
    assert not weighted_maxsim(centre, np.zeros(3, np.float32)).any()


def test_rerank_matches_names_in_the_context_of_a_sentence_that_describes_them(tmp_path):
    """The sentence that answers a question about a place may call it "the town" while its
    neighbour names it: the rerank matches names in the window, the other words in the sentence."""
    from qa.indexing import index_paths

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "veldmoor.txt").write_text(
        "Veldmoor is a small port on the northern coast of Brennland. "
        "Visitors to Veldmoor come for its old harbour and its fish market. "
        "The town is famous for its smoked herring. "
        "Fishing boats leave the harbour before dawn. "
        "In winter, storms close the harbour for weeks.",
        encoding="utf-8",
    )
    (docs / "other.txt").write_text(
        "Ostrava is an industrial city. Coal was mined there for two centuries. The mines closed in 1994.",
        encoding="utf-8",
    )
    index = tmp_path / "idx"
    index_paths([docs], index, warn=lambda m: None)
    with Assistant.open(index) as a:
        retrieved = a.retrieve("What is Veldmoor known for?", 3)
        top = retrieved.sentences[retrieved.hits[0].sentence_id]
        assert top.text == "The town is famous for its smoked herring."


@pytest.mark.parametrize("name", ["hybrid", "rerank"])
def test_a_deeper_ranking_starts_with_the_normal_one(seeds_index, name):
    """An evaluation asks for 100 sentences to rank; their first ranks must be the ones a normal
    question gets, not those of a larger pool fused and reranked differently."""
    q = "What did the Red Cross official describe in Mariupol?"
    with Assistant.open(seeds_index, retriever=name) as a:
        normal = [(c.doc, c.start) for c in a.ask(q, top_k=5).citations]
        deep = [(c.doc, c.start) for c in a.ask(q, top_k=45).citations]
        assert deep[:5] == normal
        small_pool = RETRIEVERS[name](a.store, pool=4)
        vector, tokens, roles = a.encode_question(q)
        kw = {"query_tokens": tokens, "token_roles": roles}
        pooled = len(small_pool.candidates(q, vector))  # what a pool of 4 per list holds
        first = small_pool.search(q, vector, pooled, **kw)
        longer = small_pool.search(q, vector, 30, **kw)
        assert pooled < 30
        ids = [h.sentence_id for h in longer]
        assert len(ids) == len(set(ids)) == 30  # goes on past the pool, without repeats
        assert [h.sentence_id for h in longer[: len(first)]] == [h.sentence_id for h in first]
        scores = [h.score for h in longer]
        assert scores == sorted(scores, reverse=True)
