"""Answer quality: baseline vs each retriever vs the final pipeline, on the dev sets.

Prints one table: for each question set (seeds-dev, NarrativeQA, BoolQ) and each
retriever in ``qa.retrieval.RETRIEVERS`` (``dense`` is the baseline), then the
default pipeline ("final"), the measures of ``qa eval``: R@1/5/10, MRR@10,
nDCG@10, answer contains gold / EM / F1, abstention, and p50 latency.

    python benchmarks/quality.py                   # all three sets (BoolQ takes a while)
    python benchmarks/quality.py --sets seeds      # only the cheap one
    python benchmarks/quality.py --sets nqa --retrievers dense,hybrid --abstention

NarrativeQA and BoolQ are indexed once into the cache (as ``qa eval --corpus``
does) and reused; ``--index-nqa`` / ``--index-boolq`` point at existing indexes.
The data is read from ``../shared/eval`` beside the repository (or ``--data``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETS = {
    # name: (questions, corpus or None for the bundled seeds, label)
    "seeds": ("seeds-dev.jsonl", None, "seeds-dev"),
    "nqa": ("narrativeqa/questions.jsonl", "narrativeqa/corpus.jsonl", "NarrativeQA"),
    "boolq": ("boolq/questions.jsonl", "boolq/corpus.jsonl", "BoolQ"),
}

COLUMNS = [
    ("R@1", lambda s: s["retrieval"]["R@1"]),
    ("R@5", lambda s: s["retrieval"]["R@5"]),
    ("R@10", lambda s: s["retrieval"]["R@10"]),
    ("MRR@10", lambda s: s["retrieval"]["MRR@10"]),
    ("nDCG@10", lambda s: s["retrieval"]["nDCG@10"]),
    ("contains", lambda s: s["answers"]["contains"]),
    ("EM", lambda s: s["answers"]["em"]),
    ("F1", lambda s: s["answers"]["f1"]),
    ("abst.unans", lambda s: s["abstention"]["abstained_when_unanswerable"]),
    ("abst.ans", lambda s: s["abstention"]["abstained_when_answerable"]),
    ("abst.w/o gold", lambda s: s["abstention"].get("abstained_without_gold_docs")),
    ("p50 ms", lambda s: s["latency_ms"]["p50"]),
]


def default_retriever() -> str:
    from qa import Assistant

    return inspect.signature(Assistant.__init__).parameters["retriever"].default


def fmt(v, name: str) -> str:
    if v is None:
        return "-"
    return f"{v:.1f}" if name == "p50 ms" else f"{v:.3f}"


def print_table(rows: list[dict]) -> None:
    header = ["set", "retriever", *[c for c, _ in COLUMNS]]
    body = [[r["set"], r["label"], *[fmt(r["summary_cells"][c], c) for c, _ in COLUMNS]] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(header, *body, strict=True)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in body:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def main(argv: list[str] | None = None) -> int:
    from qa.retrieval import RETRIEVERS

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", default="seeds,nqa,boolq", help="comma-separated: seeds, nqa, boolq")
    p.add_argument("--retrievers", default=None, help=f"comma-separated (default: all of {', '.join(RETRIEVERS)})")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval", help="the eval data folder")
    p.add_argument("--index-nqa", type=Path, help="an existing index of narrativeqa/corpus.jsonl")
    p.add_argument("--index-boolq", type=Path, help="an existing index of boolq/corpus.jsonl")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--depth", type=int, default=100, help="ranking depth for nDCG/MAP (default 100)")
    p.add_argument("--abstention", action="store_true",
                   help="also ask each answerable question without its gold documents (doubles the time)")
    p.add_argument("--limit", type=int, help="only the first N questions of each set (quick checks)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = p.parse_args(argv)

    from qa import Assistant
    from qa.assistant import ensure_default_index
    from qa.evaluation import evaluate, load_question_set
    from qa.evaluation.corpus import ensure_corpus_index

    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in sets if s not in SETS]
    if unknown:
        p.error(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")
    names = [r.strip() for r in args.retrievers.split(",")] if args.retrievers else list(RETRIEVERS)
    bad = [n for n in names if n not in RETRIEVERS]
    if bad:
        p.error(f"unknown retriever(s) {', '.join(bad)}; choose from {', '.join(RETRIEVERS)}")
    final = default_retriever()
    if not args.data.is_dir():
        p.error(f"{args.data} not found (give --data)")

    encoder = None
    rows = []
    for set_name in sets:
        qfile, corpus, label = SETS[set_name]
        override = {"nqa": args.index_nqa, "boolq": args.index_boolq}.get(set_name)
        if override is not None:
            index = override
        elif corpus is None:
            index = ensure_default_index()
        else:
            index = ensure_corpus_index(args.data / corpus)
        questions = load_question_set(args.data / qfile).questions[: args.limit]
        plan = [(n, "baseline" if n == "dense" else "step") for n in names if n != final]
        plan.append((final, "final"))
        for name, role in plan:
            print(f"[{label}] {name} ({role}): {len(questions)} questions...", file=sys.stderr)
            t0 = time.perf_counter()
            with Assistant.open(index, retriever=name, top_k=args.top_k, encoder=encoder) as assistant:
                ev = evaluate(assistant, questions, top_k=args.top_k, depth=args.depth,
                              exclude_gold=args.abstention, settings={"retriever": name, "index": str(index)})
                encoder = assistant.encoder
            summary = ev.summary()
            tag = {"baseline": " (baseline)", "final": " (final)", "step": ""}[role]
            if role == "final" and name == "dense":
                tag = " (baseline = final)"
            rows.append({"set": label, "retriever": name, "role": role, "label": name + tag,
                         "summary_cells": {c: f(summary) for c, f in COLUMNS},
                         "citations_wrong": summary["citations"]["wrong"],
                         "seconds": round(time.perf_counter() - t0, 1)})
            print(f"[{label}] {name}: done in {rows[-1]['seconds']} s", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print_table(rows)
        wrong = sum(r["citations_wrong"] for r in rows)
        print(f"\nR@k: share of answerable questions with a relevant sentence in the top k (trec_eval success@k); "
              f"BoolQ: sentence units, a sentence of the gold passage is relevant. Citations failing to reproduce "
              f"their text: {wrong}. top-k {args.top_k}, depth {args.depth}.\nIndexes come from the current "
              f"indexer (JSONL titles such as BoolQ's are embedded with each sentence), so 'dense' is plain "
              f"cosine search over those vectors; answers and abstention use the pipeline's own span and "
              f"confidence models with each retriever.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
