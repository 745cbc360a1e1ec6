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
