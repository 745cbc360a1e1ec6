"""qa eval end to end on the seeds: summary, report, run file, --compare, --corpus, bad input."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import DATA, SEEDS

from qa.cli import main
from qa.evaluation.relevance import parse_unit

QUESTIONS = DATA / "seeds-dev.jsonl"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def evaluated(seeds_index, tmp_path_factory):
    """One dense evaluation of the seeds set with a JSONL report and a run file."""
    from qa.cli import main as cli

    tmp = tmp_path_factory.mktemp("eval")
    report, trec, out = tmp / "report.jsonl", tmp / "dense.trec", tmp / "summary.json"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = cli(["eval", str(QUESTIONS), "--index", str(seeds_index), "--retriever", "dense", "--json",
                    "--report", str(report), "--run", str(trec), "--no-progress"])
    out.write_text(buf.getvalue())
    return code, json.loads(buf.getvalue()), [json.loads(x) for x in report.read_text().splitlines()], trec


def gold_spans(record):
    return [(g["doc"], g["start"], g["end"]) for g in record["gold"]]


def overlaps(c, spans):
    return any(c["doc"] == d and c["start"] < e and s < c["end"] for d, s, e in spans)


def test_summary_counts_and_ranges(evaluated):
    code, summary, records, _ = evaluated
    assert code == 0
    assert (summary["questions"], summary["answerable"], summary["unanswerable"]) == (33, 29, 4)
    assert summary["citations"]["wrong"] == 0 and summary["citations"]["checked"] > 33
    r = summary["retrieval"]
    assert 0 <= r["R@1"] <= r["R@3"] <= r["R@5"] <= r["R@10"] <= 1
    assert r["MRR@10"] >= r["R@1"]
    assert set(summary["by_kind"]) >= {"lexical", "unanswerable"}
    assert summary["by_kind"]["unanswerable"]["retrieval"]["R@1"] is None


def test_recall_agrees_with_ranks_recomputed_from_the_report(evaluated):
    _, summary, records, _ = evaluated
    answerable = [r for r in records if r["answerable"]]
    for k in (1, 3, 5, 10):
        share = sum(r["rank"] is not None and r["rank"] <= k for r in answerable) / len(answerable)
        assert summary["retrieval"][f"R@{k}"] == pytest.approx(share)
    mrr = sum(1 / r["rank"] for r in answerable if r["rank"] and r["rank"] <= 10) / len(answerable)
    assert summary["retrieval"]["MRR@10"] == pytest.approx(mrr)
    # the rank is the first cited sentence overlapping a gold quote (checked independently here)
    for r in answerable:
        first = next((i for i, c in enumerate(r["citations"], 1) if overlaps(c, gold_spans(r))), None)
        if r["rank"] is not None and r["rank"] <= len(r["citations"]):
            assert first == r["rank"], r["id"]
        else:
            assert first is None, r["id"]


def test_answer_and_abstention_rates_agree_with_the_report(evaluated):
    _, summary, records, _ = evaluated
    scored = [r for r in records if "answer_scores" in r]
    assert len(scored) == summary["with_gold_answers"]
    assert summary["answers"]["contains"] == pytest.approx(
        sum(r["answer_scores"]["contains"] for r in scored) / len(scored))
    unans = [r for r in records if not r["answerable"]]
    assert summary["abstention"]["abstained_when_unanswerable"] == pytest.approx(
        sum(r["abstained"] for r in unans) / len(unans))
    for r in records:  # answers are verbatim document text
        if r["answer"] is not None:
            assert any(r["answer"] in (SEEDS / c["doc"]).read_text(encoding="utf-8") for c in r["citations"])


def test_run_file_and_compare_with_itself(evaluated, seeds_index, capsys):
    _, summary, _, trec = evaluated
    lines = trec.read_text().splitlines()
    assert lines and all(len(x.split()) == 6 for x in lines)
    assert all(parse_unit(x.split()[2]) is not None for x in lines)
    code, out, _ = run(capsys, "eval", QUESTIONS, "--index", seeds_index, "--retriever", "dense",
                       "--compare", trec, "--json", "--no-progress")
    assert code == 0
    cmp = json.loads(out)["compare"]
    assert cmp["questions"] == 29 and cmp["missing_in_other"] == 0
    for m, row in cmp["measures"].items():
        assert row["delta"] == pytest.approx(0) and row["p_t_test"] == 1.0, m
        assert row["this"] == pytest.approx(summary["retrieval"][m])


def test_compare_detects_a_worse_run(evaluated, seeds_index, tmp_path, capsys):
    _, summary, _, trec = evaluated
    worse = tmp_path / "reversed.trec"
    by_q: dict[str, list[str]] = {}
    for line in trec.read_text().splitlines():
        q, _, unit, _, _, _ = line.split()
        by_q.setdefault(q, []).append(unit)
    worse.write_text("".join(f"{q} Q0 {u} {i} {float(i)} rev\n" for q, us in by_q.items() for i, u in enumerate(us, 1)))
    code, out, _ = run(capsys, "eval", QUESTIONS, "--index", seeds_index, "--retriever", "dense",
                       "--compare", worse, "--no-progress")
    assert code == 0
    assert "Compared with" in out and "p (t-test)" in out
    section = out.split("Compared with", 1)[1]
    row = next(x for x in section.splitlines() if x.strip().startswith("R@1 "))
    assert "+0." in row and "-0." not in row  # this run is better at R@1 than its own ranking reversed


def test_readable_table_and_text_report(seeds_index, tmp_path, capsys):
    report = tmp_path / "report.txt"
    subset = tmp_path / "q.jsonl"  # a few answerable and the unanswerable ones (the default pipeline is slower)
    lines = QUESTIONS.read_text().splitlines(keepends=True)
    subset.write_text("".join(lines[:5] + [x for x in lines if '"unanswerable"' in x]))
    code, out, _ = run(capsys, "eval", subset, "--index", seeds_index, "--report", report, "--no-progress")
    assert code == 0
    for heading in ("Retrieval", "Answers", "Abstention", "By kind", "Citations:", "MRR@10", "nDCG@10", "MAP"):
        assert heading in out
    text = report.read_text()
    assert "Retrieval misses" in text and "dev-001" in text


def test_conversations_are_scored_turn_by_turn(seeds_index, capsys):
    code, out, _ = run(capsys, "eval", DATA / "conversations-dev.jsonl", "--index", seeds_index, "--json")
    assert code == 0
    conv = json.loads(out)["conversations"]
    assert conv["conversations"] == 3 and conv["scored_turns"] == 7
    assert 0 <= conv["turn_accuracy"] <= 1


def test_report_is_written_for_a_conversations_file(seeds_index, tmp_path, capsys):
    report = tmp_path / "turns.jsonl"
    code, _, _ = run(capsys, "eval", DATA / "conversations-dev.jsonl", "--index", seeds_index, "--report", report)
    assert code == 0
    turns = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert len(turns) == 7 and all(t["type"] == "turn" and "answer" in t for t in turns)


def test_quac_format_conversations_are_asked_inside_their_document(tmp_path, capsys):
    """A conversation with a "doc" (QuAC's format) is asked inside it: every citation comes from
    it, the summary splits first turns from follow-ups, and unanswerable turns count apart."""
    report = tmp_path / "turns.jsonl"
    tiny = DATA / "quac-tiny"
    code, out, _ = run(capsys, "eval", tiny / "conversations.jsonl", "--corpus", tiny / "corpus.jsonl", "--json",
                       "--report", report)
    assert code == 0
    conv = json.loads(out)["conversations"]
    assert (conv["conversations"], conv["turns"], conv["scored_turns"], conv["unanswerable_turns"]) == (2, 5, 4, 1)
    for key in ("first_turn_f1", "follow_up_f1", "first_turn_overlap", "follow_up_overlap",
                "abstained_when_unanswerable", "abstained_when_answerable"):
        assert 0 <= conv[key] <= 1, key
    assert conv["overlap_turns"] == 4  # every reference is found in its document
    turns = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    docs = {"tiny-1": "gull-point", "tiny-2": "westby-harbour"}
    for t in turns:
        assert t["cited_docs"] in ([], [docs[t["conversation"]]]), t
    # the harbour question inside the lighthouse article: Westby's article is not asked
    assert not turns[2]["answerable"] and "answer_scores" not in turns[2]


def test_a_conversation_doc_not_in_the_index_is_skipped_with_a_warning(seeds_index, tmp_path, capsys):
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "c1", "doc": "nowhere.txt", "turns": [{"question": "Who?", "answers": ["x"]}]}\n'
                    '{"id": "c2", "doc": "", "turns": [{"question": "Who?", "answers": ["x"]}]}\n'
                    '{"id": "c3", "turns": [{"question": "Who is the deputy mayor of Mariupol?", '
                    '"answers": ["Serhiy Orlov"]}]}\n', encoding="utf-8")
    code, out, err = run(capsys, "eval", path, "--index", seeds_index, "--json")
    assert code == 2
    assert "conversation c1: skipped: its doc 'nowhere.txt' is not in the index" in err
    assert '"doc" must be a document id' in err
    assert json.loads(out)["conversations"]["conversations"] == 1


def test_limit_asks_an_even_stride_sample(seeds_index, capsys):
    code, out, _ = run(capsys, "eval", QUESTIONS, "--index", seeds_index, "--json", "--limit", "10", "--no-progress")
    assert code == 0
    assert json.loads(out)["questions"] == 9  # every 4th of 33


def test_json_citations_carry_line_and_page(seeds_index, capsys):
    code, out, _ = run(capsys, "ask", "Who is the deputy mayor of Mariupol?", "--index", seeds_index, "--json")
    assert code == 0
    for c in json.loads(out)["citations"]:
        assert {"doc", "start", "end", "text", "score"} <= set(c)  # the batch contract's fields stay
        assert isinstance(c["line"], int) and c["line"] >= 1 and c["page"] is None


def test_exclude_gold_reports_abstention_without_the_documents(seeds_index, tmp_path, capsys):
    subset = tmp_path / "q.jsonl"
    subset.write_text("".join(QUESTIONS.read_text().splitlines(keepends=True)[:6]))
    code, out, _ = run(capsys, "eval", subset, "--index", seeds_index, "--exclude-gold", "--json")
    assert code == 0
    rate = json.loads(out)["abstention"]["abstained_without_gold_docs"]
    assert 0 <= rate <= 1


def test_exclude_gold_counts_answers_still_right_from_another_document(tmp_path, monkeypatch, capsys):
    """The answer is written in two documents: asked without the gold one, the other still
    answers it, and the summary and the report say so."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    corpus = tmp_path / "corpus.jsonl"
    docs = [
        ("a", "The lighthouse at Cape Verrin was built in 1874 by the harbour board."),
        ("b", "Records of the harbour board show that the Cape Verrin lighthouse dates from 1874."),
        ("c", "The town's fish market opens every morning at five."),
    ]
    corpus.write_text("".join(json.dumps({"id": i, "title": "", "text": t}) + "\n" for i, t in docs))
    questions = tmp_path / "q.jsonl"
    question = {
        "id": "q1",
        "question": "When was the lighthouse at Cape Verrin built?",
        "answers": ["1874"],
        "evidence": [{"doc": "a", "quote": docs[0][1]}],
    }
    questions.write_text(json.dumps(question) + "\n")
    report = tmp_path / "report.jsonl"
    argv = ("eval", questions, "--corpus", corpus, "--exclude-gold", "--threshold", "0", "--no-progress")
    code, out, _ = run(capsys, *argv, "--json", "--report", report)
    assert code == 0
    abstention = json.loads(out)["abstention"]
    assert abstention["abstained_without_gold_docs"] == 0 and abstention["right_without_gold_docs"] == 1
    (line,) = [json.loads(x) for x in report.read_text(encoding="utf-8").splitlines()]
    assert line["right_without_gold"] is True
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "right without gold docs" in out


def test_bad_input_exits_2_with_one_line(seeds_index, tmp_path, capsys):
    code, out, err = run(capsys, "eval", tmp_path / "missing.jsonl", "--index", seeds_index)
    assert code == 2 and err.startswith("qa: error: cannot read") and len(err.splitlines()) == 1
    code, _, err = run(capsys, "eval", QUESTIONS, "--index", seeds_index, "--corpus", SEEDS)
    assert code == 2 and "not both" in err
    code, _, err = run(capsys, "eval", QUESTIONS, "--index", seeds_index, "--reindex")
    assert code == 2 and "--reindex goes with --corpus" in err
    code, _, err = run(capsys, "eval", QUESTIONS, "--index", seeds_index, "--retriever", "nope")
    assert code == 2 and "unknown retriever" in err


def test_unknown_documents_are_reported(seeds_index, tmp_path, capsys):
    q = tmp_path / "q.jsonl"
    good = QUESTIONS.read_text().splitlines()[0]
    q.write_text(good + "\n" + json.dumps({"id": "x", "question": "Who?", "evidence": [{"doc": "nowhere.txt"}]})
                 + "\n{oops\n")
    code, out, err = run(capsys, "eval", q, "--index", seeds_index, "--json")
    assert code == 2
    assert "question x: skipped: unknown document 'nowhere.txt'" in err and "line 3" in err
    assert json.loads(out)["questions"] == 1  # the good question is still scored
    q.write_text(json.dumps({"id": "x", "question": "Who?", "evidence": [{"doc": "nowhere.txt"}]}) + "\n")
    code, out, err = run(capsys, "eval", q, "--index", seeds_index)
    assert code == 2 and "right --index or --corpus" in err and out == ""


def test_corpus_is_indexed_once_then_reused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CITEQA_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "seeds"
    shutil.copytree(SEEDS, corpus)
    subset = tmp_path / "q.jsonl"
    subset.write_text("".join(QUESTIONS.read_text().splitlines(keepends=True)[:3]))
    code, out, _ = run(capsys, "eval", subset, "--corpus", corpus, "--json")
    assert code == 0 and json.loads(out)["retrieval"]["R@10"] is not None
    from qa.evaluation.corpus import corpus_index_dir

    index = corpus_index_dir(corpus)
    assert index.is_relative_to(tmp_path / "cache")
    manifest = (index / "manifest.json").read_text()
    code, out, err = run(capsys, "eval", subset, "--corpus", corpus, "--json")
    assert code == 0
    assert (index / "manifest.json").read_text() == manifest  # nothing re-indexed


def test_trec_qrels_and_queries_on_the_seeds(seeds_index, tmp_path, capsys):
    docs = sorted(p.name for p in SEEDS.glob("*.txt"))
    queries = tmp_path / "queries.tsv"
    queries.write_text("q1\tHow many bodies were buried in a mass grave?\nq2\tWho won the 1986 World Cup?\n")
    qrels = tmp_path / "qrels.txt"
    qrels.write_text(f"q1 0 {docs[0]} 1\nq1 0 {docs[1]} 0\nq2 0 {docs[0]} 0\n")
    code, out, _ = run(capsys, "eval", queries, "--qrels", qrels, "--index", seeds_index, "--json")
    assert code == 0
    s = json.loads(out)
    assert (s["answerable"], s["unanswerable"]) == (1, 1)
    # document-level evidence: any sentence of the judged document counts
    assert s["retrieval"]["R@10"] == 1.0


def test_document_units(seeds_index, tmp_path, capsys):
    # the seeds questions with document-level evidence only
    docq = tmp_path / "doc-level.jsonl"
    rows = [json.loads(x) for x in QUESTIONS.read_text().splitlines()]
    for r in rows:
        r["evidence"] = [{"doc": e["doc"]} for e in r["evidence"]]
    docq.write_text("".join(json.dumps(r) + "\n" for r in rows))
    trec = tmp_path / "docs.trec"
    common = ["--index", seeds_index, "--retriever", "dense", "--json", "--no-progress"]
    code, out, _ = run(capsys, "eval", docq, *common)
    assert code == 0
    sentences = json.loads(out)["retrieval"]
    code, out, _ = run(capsys, "eval", docq, *common, "--units", "doc", "--run", trec)
    assert code == 0
    docs = json.loads(out)["retrieval"]
    # the top sentence's document is the top document: R@1 is the same; deeper, documents can only do better
    assert docs["R@1"] == pytest.approx(sentences["R@1"])
    assert docs["R@3"] >= sentences["R@3"]
    names = {line.split()[2] for line in trec.read_text().splitlines()}
    assert names <= {p.name for p in SEEDS.glob("*.txt")}
    # a document run compared from a sentence evaluation: said plainly
    code, out, _ = run(capsys, "eval", docq, *common[:-2], "--compare", trec, "--no-progress")
    assert code == 0 and "use the same --units" in out


# -- the question-set format and the shipped example (issue 23) -------------------------------


def _eval_help() -> str:
    from qa.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._subparsers._group_actions if a.dest == "command").choices["eval"]
    return sub.format_help()


def test_eval_help_points_at_the_format_and_the_shipped_example():
    from conftest import ROOT

    from qa.examples import SEEDS_QUESTIONS

    text = _eval_help()
    assert "docs/eval-format.md" in text and (ROOT / "docs" / "eval-format.md").is_file()
    assert str(SEEDS_QUESTIONS) in text and SEEDS_QUESTIONS.is_file()
    assert "eval/README.md" not in text


def test_the_shipped_example_is_a_valid_question_set_on_the_seeds():
    """Every question loads, every quote is in its seed article once, every answer is in its evidence."""
    from qa.evaluation import load_question_set
    from qa.examples import SEEDS_QUESTIONS

    qset = load_question_set(SEEDS_QUESTIONS)
    assert not qset.problems and len(qset.questions) >= 5 and qset.conversations
    assert {q.kind for q in qset.questions} >= {"lexical", "paraphrase", "unanswerable", "yesno"}
    for q in qset.questions:
        for e in q.evidence:
            assert (SEEDS / e.doc).read_text(encoding="utf-8").count(e.quote) == 1
        for a in q.answers:
            assert any(a in (SEEDS / e.doc).read_text(encoding="utf-8") for e in q.evidence)
    assert all((SEEDS / c.doc).is_file() for c in qset.conversations if c.doc)
    dev = {json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines()}
    assert not dev & {q.question for q in qset.questions}  # written for the example, not the dev set


@pytest.mark.parametrize("library", [False, True])
def test_the_help_example_runs_with_and_without_a_library(tmp_path, capsys, monkeypatch, library):
    """The first example of `qa eval --help` works as printed, whether or not the user has a library."""
    from helpers_robust import run_qa

    data = tmp_path / "data"
    monkeypatch.setenv("CITEQA_DATA", str(data))
    if library:
        notes = tmp_path / "notes"
        notes.mkdir()
        (notes / "ferry.txt").write_text("The ferry to Visby leaves at noon.\n", encoding="utf-8")
        assert run_qa("index", notes, "-q", CITEQA_DATA=str(data)).returncode == 0
        assert (data / "library").is_dir()
    help_text = _eval_help()
    example = help_text[help_text.index("examples:"):].splitlines()[1].split("#")[0].split()
    assert example[:2] == ["qa", "eval"]
    code, out, err = run(capsys, *example[1:], "--json", "--no-progress")
    assert code == 0, err
    assert "answering from the bundled seeds demo" in err
    summary = json.loads(out)
    assert summary["questions"] >= 5 and summary["conversations"]["scored_turns"] >= 2
    assert summary["citations"]["wrong"] == 0


def test_example_and_questions_together_or_neither_are_one_line_errors(capsys):
    code, _, err = run(capsys, "eval", QUESTIONS, "--example")
    assert code == 2 and "--example is a question set of its own" in err and len(err.splitlines()) == 1
    code, _, err = run(capsys, "eval")
    assert code == 2 and "docs/eval-format.md" in err and "qa eval --example" in err


def test_a_conversation_with_a_doc_is_asked_inside_that_document(assistant, monkeypatch):
    from qa.evaluation.conversations import evaluate_conversations
    from qa.evaluation.questions import Conversation, Turn

    scopes = []
    real_ask = type(assistant).ask

    def spy(self, question, *a, **k):
        scopes.append(k["docs"] if k.get("docs") is not None else self.scope)  # a conversation's scope, or the own
        return real_ask(self, question, *a, **k)

    monkeypatch.setattr(type(assistant), "ask", spy)
    doc = "003_a8a4a27f9da3f9ac.txt"
    conversations = [
        Conversation("in-one", (Turn("What has NATO ruled out?", ("a no-fly zone",)),), doc),
        Conversation("anywhere", (Turn("Who is Sasha Volkov?"),)),
        Conversation("nowhere", (Turn("Who?"),), "missing.txt"),
    ]
    problems: list[str] = []
    result = evaluate_conversations(assistant, conversations, problems)
    assert scopes[0] == [doc] and scopes[-1] is None  # the next conversation, without a doc, on the whole index
    assert [t["conversation"] for t in result["turns"]] == ["in-one", "anywhere"]
    assert problems == ["conversation nowhere: skipped: its doc 'missing.txt' is not in the index"]
    assert assistant.scope is None  # the assistant's own scope is back
