"""The index on disk: layout, exact spans, incremental updates, generations, incompatible indexes."""

from __future__ import annotations

import json

import pytest
from helpers_robust import HashEncoder

from qa.documents import read_documents
from qa.errors import IndexProblem
from qa.index import open_index, update_index
from qa.index.layout import FORMAT_VERSION


def build(folder, index_dir, encoder=None, **kw):
    encoder = encoder or HashEncoder()
    report = update_index(index_dir, read_documents([folder]), lambda: encoder, notify=lambda m: None, **kw)
    return report, encoder


def never_load():
    raise AssertionError("the encoder must not be loaded when nothing changed")


def test_layout_manifest_and_exact_spans(seeds_copy, tmp_path):
    index_dir = tmp_path / "idx"
    report, encoder = build(seeds_copy, index_dir)
    assert report.committed and report.added == 2
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model"] == "sentence-transformers/all-MiniLM-L6-v2" and manifest["dim"] == 384
    assert manifest["documents"] == 2 and manifest["sentences"] == report.sentences_total == len(encoder.encoded)
    assert (index_dir / manifest["files"]["db"]).is_file() and (index_dir / manifest["files"]["vectors"]).is_file()


def test_sentences_reproduce_source_text(seeds_copy, tmp_path):
    build(seeds_copy, tmp_path / "idx")
    store = open_index(tmp_path / "idx")
    for s in store.iter_sentences():
        source = (seeds_copy / s.doc).read_text(encoding="utf-8")
        assert source[s.start : s.end] == s.text
        assert s.line == source.count("\n", 0, s.start) + 1
    assert len(store) == store.manifest["sentences"]
    store.close()


def test_rerun_unchanged_embeds_nothing(seeds_copy, tmp_path):
    build(seeds_copy, tmp_path / "idx")
    before = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    report = update_index(tmp_path / "idx", read_documents([seeds_copy]), never_load, notify=lambda m: None)
    assert not report.committed and report.unchanged == 2 and report.sentences_embedded == 0
    assert json.loads((tmp_path / "idx" / "manifest.json").read_text()) == before


def test_incremental_add_change_remove(seeds_copy, tmp_path):
    index_dir = tmp_path / "idx"
    build(seeds_copy, index_dir)
    first = json.loads((index_dir / "manifest.json").read_text())
    docs = sorted(p.name for p in seeds_copy.iterdir())
    (seeds_copy / docs[0]).unlink()
    changed = seeds_copy / docs[1]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nA brand new closing sentence.\n", encoding="utf-8")
    (seeds_copy / "new.md").write_text("Fresh notes. Two sentences.", encoding="utf-8")
    report, encoder = build(seeds_copy, index_dir)
    assert (report.added, report.changed, report.removed, report.unchanged) == (1, 1, 1, 0)
    store = open_index(index_dir)
    assert {d.id for d in store.documents()} == {docs[1], "new.md"}
    assert report.sentences_embedded == len(encoder.encoded) == len(store)
    assert "A brand new closing sentence." in encoder.encoded
    # the old generation's files are gone, the new ones are named by the manifest
    second = store.manifest
    assert second["generation"] == first["generation"] + 1
    assert not (index_dir / first["files"]["db"]).exists()
    assert sorted(p.name for p in index_dir.glob("docs-*")) == [second["files"]["db"]]
    # vectors and rows line up: every FAISS id is a sentence id
    ids = set(store.vector_index.ids().tolist())
    assert ids == {s.id for s in store.iter_sentences()}
    store.close()


def test_only_new_documents_are_embedded(seeds_copy, tmp_path):
    build(seeds_copy, tmp_path / "idx")
    (seeds_copy / "extra.txt").write_text("One more document here.", encoding="utf-8")
    report, encoder = build(seeds_copy, tmp_path / "idx")
    assert report.added == 1 and report.unchanged == 2
    assert encoder.encoded == ["One more document here."]


def test_other_model_or_format_version_needs_rebuild(seeds_copy, tmp_path):
    index_dir = tmp_path / "idx"
    build(seeds_copy, index_dir)
    manifest_path = index_dir / "manifest.json"
    good = manifest_path.read_text()
    for key, value in [("model", "some/other-model"), ("format_version", FORMAT_VERSION + 1), ("dim", 768)]:
        manifest = json.loads(good)
        manifest[key] = value
        manifest_path.write_text(json.dumps(manifest))
        with pytest.raises(IndexProblem, match="--rebuild"):
            open_index(index_dir)
    # --rebuild starts from scratch and works over the incompatible index
    report, _ = build(seeds_copy, index_dir, rebuild=True)
    assert report.committed and open_index(index_dir).manifest["model"] == "sentence-transformers/all-MiniLM-L6-v2"


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexProblem, match="qa index"):
        open_index(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexProblem, match="manifest.json"):
        open_index(tmp_path / "empty")


def test_neighbours_are_from_the_same_document_in_order(seeds_copy, tmp_path):
    build(seeds_copy, tmp_path / "idx")
    store = open_index(tmp_path / "idx")
    doc = store.documents()[0].id
    sentences = store.document_sentences(doc)
    middle = sentences[5]
    around = store.neighbours(middle, before=2, after=2)
    assert [s.id for s in around] == [s.id for s in sentences[3:8]]
    store.close()


def test_new_manifest_extras_are_committed_without_embedding(seeds_copy, tmp_path):
    build(seeds_copy, tmp_path / "idx", extra={"source_fingerprint": "one"})
    encoder = HashEncoder()
    report = update_index(
        tmp_path / "idx", read_documents([seeds_copy]), lambda: encoder, notify=lambda m: None,
        extra={"source_fingerprint": "two"},
    )
    assert report.committed and report.sentences_embedded == 0 and encoder.encoded == []
    assert open_index(tmp_path / "idx").manifest["source_fingerprint"] == "two"


def test_token_vectors_are_bounded_by_text_size(tmp_path, monkeypatch):
    """A few huge documents must not produce a token-vector file of gigabytes."""
    import qa.index.token_vectors

    monkeypatch.setattr(qa.index.token_vectors, "TOKEN_VECTORS_MAX", 50)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "small.txt").write_text("A short sentence. Another one.", encoding="utf-8")
    update_index(tmp_path / "a", read_documents([docs]), HashEncoder, notify=lambda m: None)
    assert "tokens" in json.dumps(open_index(tmp_path / "a").manifest["files"])
    (docs / "huge.txt").write_text("word " * 4000, encoding="utf-8")  # few sentences, much text
    update_index(tmp_path / "b", read_documents([docs]), HashEncoder, notify=lambda m: None)
    store = open_index(tmp_path / "b")
    assert len(store) < 50 and "tokens" not in json.dumps(store.manifest["files"])


class _InterruptedEncoder(HashEncoder):
    """Raises KeyboardInterrupt (Ctrl-C) once it has encoded more than ``limit`` texts."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def _hidden_batch(self, texts):
        if len(self.encoded) + len(texts) > self.limit:
            raise KeyboardInterrupt
        return super()._hidden_batch(texts)


def _contents(index_dir) -> dict[str, str]:
    from helpers_robust import index_contents

    return index_contents(index_dir)


def test_an_interrupted_run_keeps_the_parts_it_committed_and_the_next_embeds_only_the_rest(tmp_path):
    from helpers_robust import write_corpus

    from qa.index import check_index

    docs = tmp_path / "docs"
    texts = write_corpus(docs, n_docs=40)  # 520 sentences, 13 a document
    clean, _ = build(docs, tmp_path / "clean")
    index_dir = tmp_path / "idx"
    with pytest.raises(KeyboardInterrupt):
        build(docs, index_dir, _InterruptedEncoder(limit=350), commit_sentences=100)
    assert check_index(index_dir).sound
    kept = _contents(index_dir)
    assert 200 <= 13 * len(kept) <= 350  # the parts of >= 100 sentences committed before the interruption
    assert kept.items() <= _contents(tmp_path / "clean").items()

    report, encoder = build(docs, index_dir, commit_sentences=100)
    assert report.unchanged == len(kept) and report.added == 40 - len(kept)
    assert len(encoder.encoded) == report.sentences_embedded == 13 * (40 - len(kept))  # only the rest
    assert not {t for name in kept for t in texts[name].splitlines()} & set(encoder.encoded)
    assert _contents(index_dir) == _contents(tmp_path / "clean") and check_index(index_dir).sound
    assert len(open_index(index_dir)) == clean.sentences_total == 520


def test_a_large_change_is_committed_in_parts_and_a_rebuild_whole(tmp_path):
    from helpers_robust import write_corpus

    docs = tmp_path / "docs"
    write_corpus(docs, n_docs=40)
    generations = []
    for rebuild in (False, True):
        report, _ = build(docs, tmp_path / "idx", commit_sentences=100, rebuild=rebuild)
        generations.append(open_index(tmp_path / "idx").manifest["generation"])
        assert report.committed and report.sentences_total == 520
    assert generations[0] >= 4  # parts of >= 100 sentences (or a quarter of the index so far)
    assert generations[1] == generations[0] + 1


class _UncachedEncoder(HashEncoder):
    """``HashEncoder`` without its cache of word vectors (which grows with the words seen)."""

    _word_vector = staticmethod(HashEncoder._word_vector.__wrapped__)


def test_memory_stays_flat_as_the_change_grows(tmp_path):
    """Sentences, vectors and token vectors are embedded and written a chunk at a time: Python's
    (and numpy's) peak memory while indexing four times as many sentences grows far less than 4x."""
    import tracemalloc

    from helpers_robust import write_corpus

    peaks = []
    for n_docs in (5, 40, 160):  # (the first run imports what indexing needs)
        docs = tmp_path / f"docs{n_docs}"
        write_corpus(docs, n_docs=n_docs)
        documents = list(read_documents([docs]))
        tracemalloc.start()
        update_index(tmp_path / f"idx{n_docs}", iter(documents), _UncachedEncoder, notify=lambda m: None)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[2] < 1.5 * peaks[1], peaks


def test_a_small_update_is_embedded_with_the_quick_encoder(seeds_copy, tmp_path):
    from qa.index.ingest import QUICK_ENCODER_SENTENCES

    index_dir = tmp_path / "idx"
    quick = HashEncoder()
    update_index(index_dir, read_documents([seeds_copy]), HashEncoder, load_quick_encoder=never_load,
                 notify=lambda m: None)  # a first build: the reference encoder
    (seeds_copy / "note.txt").write_text("A small new note. It has two sentences.", encoding="utf-8")
    report = update_index(index_dir, read_documents([seeds_copy]), never_load, load_quick_encoder=lambda: quick,
                          notify=lambda m: None)
    assert report.sentences_embedded == 2 and sorted(quick.encoded) == ["A small new note.", "It has two sentences."]
    (seeds_copy / "long.txt").write_text("One more sentence. " * (QUICK_ENCODER_SENTENCES + 1), encoding="utf-8")
    reference = HashEncoder()
    report = update_index(index_dir, read_documents([seeds_copy]), lambda: reference,
                          load_quick_encoder=never_load, notify=lambda m: None)
    assert report.sentences_embedded == len(reference.encoded) > QUICK_ENCODER_SENTENCES


def test_a_scope_of_a_few_documents_searches_their_sentences_alone(tmp_path, monkeypatch):
    """Searching only the scope's sentences gives what searching everything and dropping the rest gave."""
    import numpy as np

    import qa.index.local as local

    folder = tmp_path / "docs"
    folder.mkdir()
    words = "harbour keeper light ship storm island gate tower river bridge".split()
    for d in range(12):
        lines = [f"The {words[(d + i) % 10]} met the {words[d * i % 10]} {d} in {1800 + 7 * i + d}." for i in range(15)]
        (folder / f"doc{d:02d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build(folder, tmp_path / "idx")
    late = "The harbour keeper rang the storm bell.\nThe ferry left at noon.\n"
    (folder / "late.txt").write_text(late, encoding="utf-8")
    build(folder, tmp_path / "idx")  # a second generation: the new document may sit in a delta
    store = open_index(tmp_path / "idx")
    documents = [d.id for d in store.documents()]
    query = HashEncoder().encode(["Who met the storm keeper in the harbour?"])
    for doc in ("doc03.txt", "late.txt"):
        scope_out = {d for d in documents if d != doc}
        assert store._kept_sentences(scope_out) is not None
        fast_dense = store.search_dense(query, 5, scope_out)
        fast_lexical = store.search_lexical("storm keeper harbour", 5, scope_out)
        monkeypatch.setattr(local, "SCOPE_FEW_DOCUMENTS", 0)  # the whole index searched, the rest dropped
        slow_dense = store.search_dense(query, 5, scope_out)
        slow_lexical = store.search_lexical("storm keeper harbour", 5, scope_out)
        monkeypatch.undo()
        assert np.allclose([s for _, s in fast_dense], [s for _, s in slow_dense], atol=1e-5)  # the same top 5
        slow = dict(slow_dense)
        assert all(abs(slow[i] - s) < 1e-5 for i, s in fast_dense if i in slow)  # (ties may swap places)
        assert np.allclose([s for _, s in fast_lexical], [s for _, s in slow_lexical], atol=1e-5)
        slow = dict(slow_lexical)
        assert all(abs(slow[i] - s) < 1e-5 for i, s in fast_lexical if i in slow)
        assert set(store.documents_of(i for i, _ in fast_dense + fast_lexical).values()) == {doc}
    a_third = {"doc01.txt", "doc02.txt", "doc03.txt", "doc04.txt", "doc05.txt"}
    assert store._kept_sentences({d for d in documents if d not in a_third}) is None  # searched as before
