"""The resolver's training losses (training/train_resolver.py), on small made-up tensors."""

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")  # training's stopwords (the benchmarks extra)

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "training"), str(ROOT / "benchmarks")]

import train_resolver  # noqa: E402


def _outputs(seed: int, batch: int = 2, tokens: int = 7):
    g = torch.Generator().manual_seed(seed)
    tags = torch.randn(batch, tokens, len(train_resolver.TAGS), generator=g)
    starts = torch.randn(batch, tokens, tokens, generator=g)
    ends = torch.randn(batch, tokens, tokens, generator=g)
    needs = torch.randn(batch, generator=g)
    return tags, starts, ends, needs


def _taught(item: dict, outputs, row: int) -> dict:
    """What a teacher whose logits are ``outputs`` would have stored for ``item``."""
    tags, starts, ends, needs = outputs
    where = torch.tensor([0, *item["h_tokens"]])
    places = [place for place, _, _ in item["spans"]]
    return {
        "tags": torch.softmax(tags[row, item["q_tokens"]], -1),
        "starts": [torch.softmax(starts[row, p, where], -1) for p in places],
        "ends": [torch.softmax(ends[row, p, where], -1) for p in places],
        "needs": torch.sigmoid(needs[row]),
    }


ITEMS = [
    {"q_tokens": [1, 2, 3], "h_tokens": [4, 5, 6], "spans": [[2, 1, 2]]},
    {"q_tokens": [1, 2], "h_tokens": [3, 4, 5, 6], "spans": [[1, -1, -1], [3, 0, 0]]},
]


def test_distillation_costs_nothing_when_the_model_agrees_with_its_teacher():
    outputs = _outputs(1)
    taught = [_taught(x, outputs, i) for i, x in enumerate(ITEMS)]
    tags, spans, _ = train_resolver.distill_losses(ITEMS, taught, *outputs)
    assert abs(float(tags)) < 1e-5 and abs(float(spans)) < 1e-5


def test_distillation_pulls_a_model_that_disagrees_and_skips_items_the_teacher_did_not_read():
    teacher, model = _outputs(1), _outputs(2)
    taught = [_taught(x, teacher, i) for i, x in enumerate(ITEMS)]
    tags, spans, _ = train_resolver.distill_losses(ITEMS, taught, *model)
    assert float(tags) > 0.01 and float(spans) > 0.01
    # an unlabelled span (start -1) is still taught: the teacher's distribution is all it has
    only_second = train_resolver.distill_losses(ITEMS, [None, taught[1]], *model)
    assert float(only_second[1]) > 0.01
    nothing = train_resolver.distill_losses(ITEMS, [None, None], *model)
    assert all(float(x) == 0.0 for x in nothing)
