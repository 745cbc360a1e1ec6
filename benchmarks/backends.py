"""Same answers through both index backends: ``qa eval`` on a question set through the local
index and through Milvus Lite, side by side.

    pip install -e '.[milvus]'
    python benchmarks/backends.py                      # seeds-dev, NarrativeQA dev, SQuAD dev split
    python benchmarks/backends.py --sets seeds --limit 50

Each corpus is indexed once per backend (the local index in the evaluation cache, as
``qa eval --corpus`` does; the Milvus Lite file under ``~/.cache/citeqa/eval-milvus/``), with
the same documents and model. Prints one row per set and backend, and the differences.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared"
SETS = {
    "seeds": (ROOT / "tests" / "data" / "seeds-dev.jsonl", ROOT / "seeds"),
    "narrativeqa": (SHARED / "eval/narrativeqa/questions.jsonl", SHARED / "eval/narrativeqa/corpus.jsonl"),
    "squad": (SHARED / "squad" / "dev" / "questions.jsonl", SHARED / "squad" / "dev" / "corpus.jsonl"),
}
MEASURES = ("R@1", "R@5", "MRR@10", "F1", "wrong citations", "seconds")


def milvus_location(name: str) -> str:
    from platformdirs import user_cache_dir

    folder = Path(user_cache_dir("citeqa")) / "eval-milvus"
    folder.mkdir(parents=True, exist_ok=True)
    return f"milvus:{folder / name}.db"


def local_index(name: str, corpus: Path):
    if name == "seeds":
        from qa.assistant import ensure_default_index

        return ensure_default_index()
    from qa.evaluation.corpus import ensure_corpus_index

    return ensure_corpus_index(corpus, quiet=True)


def evaluate_on(where, questions) -> dict:
    from qa.assistant import Assistant
    from qa.evaluation import evaluate

    t0 = time.perf_counter()
    with Assistant.open(where) as assistant:
        ev = evaluate(assistant, questions, progress=True)
    s = ev.summary()
    return {
        "R@1": s["retrieval"]["R@1"],
        "R@5": s["retrieval"]["R@5"],
        "MRR@10": s["retrieval"]["MRR@10"],
        "F1": s["answers"]["f1"],
        "wrong citations": s["citations"]["wrong"],
        "seconds": time.perf_counter() - t0,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(SETS)}")
    p.add_argument("--limit", type=int, default=0, help="questions per set, an even stride sample (0: all)")
    args = p.parse_args()
    from qa.evaluation import load_question_set
    from qa.indexing import index_paths

    rows = []
    for name in args.sets.split(","):
        questions_file, corpus = SETS[name]
        if not questions_file.exists():
            print(f"{name}: {questions_file} not found, skipped", file=sys.stderr)
            continue
        questions = load_question_set(questions_file).questions
        if args.limit and len(questions) > args.limit:
            questions = questions[:: -(-len(questions) // args.limit)]
        where = milvus_location(name)
        t0 = time.perf_counter()
        index_paths([corpus], where)
        print(f"{name}: Milvus Lite index up to date in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        local = evaluate_on(local_index(name, corpus), questions)
        milvus = evaluate_on(where, questions)
        rows.append((name, len(questions), local, milvus))

    print("| set | questions | backend | " + " | ".join(MEASURES) + " |")
    print("|---|---|---|" + "---|" * len(MEASURES))
    for name, n, local, milvus in rows:
        for backend, r in (("local", local), ("Milvus Lite", milvus)):
            cells = [f"{r[m]:.3f}" if m not in ("wrong citations", "seconds") else f"{r[m]:.0f}" for m in MEASURES]
            print(f"| {name} | {n} | {backend} | " + " | ".join(cells) + " |")
        diff = [f"{milvus[m] - local[m]:+.3f}" for m in MEASURES[:4]]
        print(f"| {name} | | difference | " + " | ".join(diff) + " | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
