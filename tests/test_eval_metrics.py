"""Retrieval and answer measures: the library agrees with trec_eval values worked out by hand."""

from __future__ import annotations

import math

import pytest

from qa.evaluation.answers import contains, exact_match, f1, normalize, score_answer
from qa.evaluation.metrics import aggregate, per_query, trec_order
from qa.evaluation.significance import paired_tests
from qa.evaluation.trec import monotone, read_run, write_run

# Hand-checked case. Gains are relevance grades; the discount is log2(rank + 1).
QRELS = {
    # three relevant, one never retrieved
    "q1": {"s1": 1, "s3": 1, "s5": 1, "s2": 0},
    # graded; d1 and d2 tie in the run: trec_eval puts the larger docno first (d2)
    "q2": {"d2": 2, "d4": 1},
    # the only relevant unit sits at rank 11: outside every cutoff, inside MAP
    "q3": {"x": 1},
    # judged, but the run retrieved nothing for it (trec_eval -c: it scores 0)
    "q4": {"y": 1},
    # nothing relevant: not scored at all
    "q5": {"z": 0},
}
RUN = {
    "q1": {"s1": 0.9, "s2": 0.8, "s3": 0.7, "s4": 0.6},
    "q2": {"d1": 0.5, "d2": 0.5, "d3": 0.4, "d4": 0.3},
    "q3": {**{f"n{i:02d}": 1.0 - i / 100 for i in range(10)}, "x": 0.5},
    "q5": {"z": 1.0},
}
LOG2_3 = math.log2(3)
EXPECTED = {
    "q1": {"R@1": 1, "R@3": 1, "R@5": 1, "R@10": 1, "MRR@10": 1,
           "nDCG@10": (1 + 1 / 2) / (1 + 1 / LOG2_3 + 1 / 2),
           "MAP": (1 / 1 + 2 / 3) / 3},
    "q2": {"R@1": 1, "R@3": 1, "R@5": 1, "R@10": 1, "MRR@10": 1,
           "nDCG@10": (2 + 1 / math.log2(5)) / (2 + 1 / LOG2_3),
           "MAP": (1 / 1 + 2 / 4) / 2},
    "q3": {"R@1": 0, "R@3": 0, "R@5": 0, "R@10": 0, "MRR@10": 0, "nDCG@10": 0, "MAP": 1 / 11},
    "q4": {"R@1": 0, "R@3": 0, "R@5": 0, "R@10": 0, "MRR@10": 0, "nDCG@10": 0, "MAP": 0},
}


def test_library_measures_match_hand_computed_trec_eval_values():
    got = per_query(QRELS, RUN)
    assert set(got) == {"q1", "q2", "q3", "q4"}
    for qid, measures in EXPECTED.items():
        for name, value in measures.items():
            assert got[qid][name] == pytest.approx(value, abs=1e-4), (qid, name)
    means = aggregate(got)
    assert means["MAP"] == pytest.approx(((1 + 2 / 3) / 3 + 0.75 + 1 / 11 + 0) / 4, abs=1e-4)
    assert means["R@1"] == pytest.approx(0.5)


def test_hand_values_are_the_textbook_numbers():
    # guard against a typo in EXPECTED: the same numbers written out
    assert EXPECTED["q1"]["nDCG@10"] == pytest.approx(0.7039, abs=1e-4)
    assert EXPECTED["q2"]["nDCG@10"] == pytest.approx(0.9239, abs=1e-4)
    assert EXPECTED["q1"]["MAP"] == pytest.approx(0.5556, abs=1e-4)


def test_reciprocal_rank_is_cut_at_ten():
    run = {"q": {f"n{i}": 1.0 - i / 100 for i in range(10)} | {"hit": 0.01}}
    assert per_query({"q": {"hit": 1}}, run)["q"]["MRR@10"] == 0.0
    run["q"]["hit"] = 0.955  # now at rank 6
    assert per_query({"q": {"hit": 1}}, run)["q"]["MRR@10"] == pytest.approx(1 / 6)


def test_trec_order_breaks_ties_by_docno_descending():
    assert trec_order({"a": 1.0, "b": 1.0, "c": 2.0}) == ["c", "b", "a"]


def test_monotone_scores_keep_the_pipeline_order():
    scores = monotone([0.5, 0.7, 0.7, 0.2])
    assert all(x > y for x, y in zip(scores, scores[1:]))
    assert scores[0] == 0.5 and scores[-1] == 0.2


def test_run_file_round_trip(tmp_path):
    path = tmp_path / "run.trec"
    write_run(path, {"q1": [("doc%20a.txt@0-10", 0.9), ("b@3-7", 0.1)]}, tag="dense hybrid")
    lines = path.read_text().splitlines()
    assert lines[0].split() == ["q1", "Q0", "doc%20a.txt@0-10", "1", "0.90000000", "densehybrid"]
    assert read_run(path) == {"q1": {"doc%20a.txt@0-10": 0.9, "b@3-7": 0.1}}


def test_squad_normalisation_and_scores():
    assert normalize("The  Azov, Battalion!") == "azov battalion"
    assert normalize("city’s “BBC”") == normalize("citys BBC")
    assert exact_match("the Azov Battalion", "Azov Battalion") == 1.0
    assert f1("Azov", "Azov Battalion") == pytest.approx(2 / 3)
    assert f1("", "x") == 0.0
    assert contains("officials say 1,200 bodies", "1,200") == 1.0
    assert contains("Red Cross’s delegation", "Red Cross") == 1.0  # was 0: "crosss" is not the word "cross"
    s = score_answer(None, ["47"])
    assert s == {"contains": 0.0, "em": 0.0, "f1": 0.0}


def test_answer_normalisation_matches_the_shared_checker():
    """qa eval and ../shared/eval/score.py agree on every answer (issue 16)."""
    import importlib.util

    from conftest import shared_path

    spec = importlib.util.spec_from_file_location("score", shared_path("eval", "score.py"))
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    cases = [
        ("Sasha Volkov, deputy head of the Red Cross’s delegation", "Red Cross"),
        ("the city’s deputy mayor", "city's deputy mayor"),
        ("1,470 bodies", "47"),
        ("“We will not surrender,”", "We will not surrender"),
        ("a ceasefire—24-hour ceasefire", "24 hour ceasefire"),
        ("¿Qué? «Nada»", "que nada"),
        ("The Azov Battalion", "azov battalion"),
    ]
    for answer, gold in cases:
        assert normalize(answer) == score.norm(answer)
        assert contains(answer, gold) == float(bool(score.norm(gold)) and score.norm(gold) in score.norm(answer))
        assert f1(answer, gold) == pytest.approx(score.f1(answer, gold))


def test_paired_tests():
    a = [1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1]
    assert paired_tests(a, a) == {"t_test": 1.0, "randomisation": 1.0}
    b = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    p = paired_tests(a, b)
    assert p["t_test"] < 0.01 and p["randomisation"] < 0.01
    c = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1]
    assert paired_tests(a, c)["randomisation"] > 0.2
