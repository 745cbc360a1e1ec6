"""Precision of corroboration ("Supported by 2 sources"): does each counted source state the same
answer to the same question?

Three steps:

1. ``collect`` asks questions from sets where several documents can state the same answer (the
   SQuAD dev split, whose documents are paragraphs of 44 articles that repeat facts, and
   NarrativeQA), each a fixed stride sample, and writes every (question, answer, top sentence,
   supporting sentence) triple that corroboration counts, with the reader's best span in the
   supporting sentence and its margin (``qa.reader.ReadSpan``), and the answers' counts of
   supports. Run it before and after a change to compare::

       python benchmarks/corroboration.py collect --squad 3000 --nqa 0 -o /tmp/triples-after.jsonl

2. ``sample`` draws a seeded random sample of triples into a labelling file (``label: null``),
   copying labels already given to the same triple (same question, answer and sentence) in
   ``--labels`` files, so a triple is judged once::

       python benchmarks/corroboration.py sample /tmp/triples-after.jsonl -n 150 --seed 23 \\
           -o benchmarks/labels/corroboration-after.jsonl --labels benchmarks/labels/corroboration-before.jsonl

   A person then sets each ``label`` by reading the pair: true when the supporting sentence
   states the same answer to the same question, false otherwise.

3. ``score`` prints the precision of the labelled triples with its 95% Wilson interval
   (``--half fit|check`` keeps one half of the SQuAD articles and NarrativeQA stories, split by a
   hash of the top document's title, as ``devsets.story_half`` splits ids; ``--min-margin`` and
   ``--max-gap`` keep the triples that stricter cuts would keep)::

       python benchmarks/corroboration.py score benchmarks/labels/corroboration-after.jsonl

``choose`` picks ``qa.corroboration``'s cuts (the reader's margin, and how much less of the
question's content words a supporting sentence may cover than the answer's) on the fit half of a
fully labelled file of the triples that looser cuts count: the pair that keeps the most true
supports with precision >= ``--target`` there; it prints the check half's precision with them::

    python benchmarks/corroboration.py choose benchmarks/labels/corroboration-cuts.jsonl

``cost`` times corroboration per answer and counts the sentences it reads beyond those that
reading already read::

    python benchmarks/corroboration.py cost --set squad -n 300

The labelling rule is in ``benchmarks/labels/README.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devsets import EVAL, SHARED, load_questions, story_half  # noqa: E402

SETS = {
    "squad": (SHARED / "squad" / "dev" / "questions.jsonl", SHARED / "squad" / "dev" / "corpus.jsonl"),
    "nqa": (EVAL / "narrativeqa" / "questions.jsonl", EVAL / "narrativeqa" / "corpus.jsonl"),
}
LABEL_FIELDS = ("question", "answer", "support")


def stride(items: list, n: int) -> list:
    """A fixed stride sample of ``n`` items (all of them when ``n`` is 0 or at least their count)."""
    if not n or len(items) <= n:
        return items
    return items[:: len(items) // n][:n]


def collect(name: str, n: int, out, counts: Counter) -> None:
    from qa.assistant import Assistant
    from qa.evaluation.corpus import ensure_corpus_index

    questions_path, corpus = SETS[name]
    with Assistant.open(ensure_corpus_index(corpus, quiet=True)) as assistant:
        questions = stride([q for q in load_questions(questions_path, assistant.store) if q.answerable], n)
        for i, q in enumerate(questions):
            result = assistant.ask(q.question)
            if result.answer is None:
                counts[f"{name} abstained"] += 1
                continue
            counts[f"{name} answered"] += 1
            support = result.corroboration[0].citations[1:] if result.corroboration else []
            counts[f"{name} supports"] += len(support)
            counts[f"{name} answers with support"] += bool(support)
            top = result.answer.citation
            for c in support:
                span = assistant.reader.read(q.question, [c.text])[0]
                row = {
                    "set": name,
                    "id": q.id,
                    "question": q.question,
                    "answer": result.answer.text,
                    "gold": q.answers,
                    "top": top.text,
                    "top_doc": top.doc,
                    "support": c.text,
                    "support_doc": c.doc,
                    "reader_span": c.text[span.start : span.end],
                    "reader_margin": round(span.margin, 4),
                    "half": story_half(assistant.store.document(top.doc).title or top.doc),
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            if (i + 1) % 100 == 0:
                print(f"  {name}: {i + 1}/{len(questions)}", file=sys.stderr)


def cmd_cost(args) -> int:
    """Time spent in corroboration per answered question, and the sentences it reads beyond the
    ones reading already read."""
    import time

    from qa.assistant import Assistant
    from qa.evaluation.corpus import ensure_corpus_index

    questions_path, corpus = SETS[args.set]
    with Assistant.open(ensure_corpus_index(corpus, quiet=True)) as assistant:
        questions = stride([q for q in load_questions(questions_path, assistant.store) if q.answerable], args.n)
        reader = assistant.reader
        reads = [0]
        read = reader.read

        def counted(question, sentences, context=None):
            reads[0] += len(sentences)
            return read(question, sentences, context)

        corroborate = assistant._corroborate
        spent: list[float] = []
        extra: list[int] = []

        def timed(*a):
            reader.read = counted
            reads[0] = 0
            t = time.perf_counter()
            try:
                return corroborate(*a)
            finally:
                spent.append(time.perf_counter() - t)
                extra.append(reads[0])
                reader.read = read

        assistant._corroborate = timed
        asked = []
        for q in questions:
            t = time.perf_counter()
            assistant.ask(q.question)
            asked.append(time.perf_counter() - t)
    ms = sorted(1000 * x for x in spent)
    print(
        f"{args.set}: {len(questions)} questions, {len(spent)} answered; corroboration "
        f"mean {sum(ms) / max(len(ms), 1):.2f} ms, p95 {ms[int(0.95 * (len(ms) - 1))] if ms else 0:.2f} ms; "
        f"extra sentences read per answer {sum(extra) / max(len(extra), 1):.3f} (max {max(extra, default=0)}); "
        f"whole ask mean {1000 * sum(asked) / max(len(asked), 1):.1f} ms"
    )
    return 0


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def key(row: dict) -> tuple:
    return tuple(row[f] for f in LABEL_FIELDS)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion ``k / n``."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def cmd_collect(args) -> int:
    counts: Counter = Counter()
    with open(args.output, "w", encoding="utf-8") as out:
        if args.squad >= 0:
            collect("squad", args.squad, out, counts)
        if args.nqa >= 0:
            collect("nqa", args.nqa, out, counts)
    for name in SETS:
        answered = counts[f"{name} answered"]
        if not answered and not counts[f"{name} abstained"]:
            continue
        print(
            f"{name}: {answered} answered, {counts[f'{name} abstained']} abstained; "
            f"{counts[f'{name} supports']} supports from other documents "
            f"({counts[f'{name} supports'] / max(answered, 1):.3f} per answer), "
            f"{counts[f'{name} answers with support']} answers with at least one"
        )
    print(f"triples written to {args.output}")
    return 0


def cmd_sample(args) -> int:
    rows = read_jsonl(args.triples)
    known = {}
    for path in args.labels or []:
        if path.exists():
            known.update({key(r): r["label"] for r in read_jsonl(path) if r.get("label") is not None})
    chosen = random.Random(args.seed).sample(rows, min(args.n, len(rows)))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    reused = 0
    with open(args.output, "w", encoding="utf-8") as out:
        for r in chosen:
            r = {**r, "label": known.get(key(r))}
            reused += r["label"] is not None
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(chosen)} of {len(rows)} triples sampled (seed {args.seed}) to {args.output}; {reused} labels reused")
    return 0


def cover_gap(row: dict) -> float:
    """How much smaller a share of the question's content words the supporting sentence covers
    than the top sentence (as ``qa.corroboration`` measures it)."""
    from qa.text import content_words

    words = content_words(row["question"])
    if not words:
        return 0.0
    return (len(words & content_words(row["top"])) - len(words & content_words(row["support"]))) / len(words)


def kept(rows: list[dict], min_margin: float | None, max_gap: float | None) -> list[dict]:
    return [
        r
        for r in rows
        if (min_margin is None or r["reader_margin"] >= min_margin)
        and (max_gap is None or cover_gap(r) <= max_gap + 1e-9)
    ]


def cmd_choose(args) -> int:
    rows = [r for r in read_jsonl(args.labels) if r.get("label") is not None]
    fit = [r for r in rows if r["half"] == 0]
    check = [r for r in rows if r["half"] == 1]
    true_fit = sum(bool(r["label"]) for r in fit)
    best = None
    for margin in MARGINS:
        for gap in GAPS:
            chosen = kept(fit, margin, gap)
            k = sum(bool(r["label"]) for r in chosen)
            if chosen and k / len(chosen) >= args.target:
                key = (k, -margin, gap)  # most true supports kept; then the lower margin, the looser gap
                if best is None or key > best[0]:
                    best = (key, margin, gap, k, len(chosen))
    if best is None:
        print(f"no cuts reach precision {args.target} on the fit half")
        return 1
    _, margin, gap, k, n = best
    ck = kept(check, margin, gap)
    kk = sum(bool(r["label"]) for r in ck)
    lo, hi = wilson(kk, len(ck))
    print(
        f"cuts: margin >= {margin}, coverage gap <= {gap}; fit half: precision {k / n:.3f} ({k}/{n}), "
        f"{k}/{true_fit} true supports kept; check half: precision {kk / max(len(ck), 1):.3f} ({kk}/{len(ck)}), "
        f"95% Wilson interval [{lo:.3f}, {hi:.3f}]"
    )
    return 0


#: The cuts ``choose`` tries.
MARGINS = (4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0)
GAPS = (0.2, 0.25, 0.3, 0.35)


def cmd_score(args) -> int:
    rows = [r for r in read_jsonl(args.labels) if r.get("label") is not None]
    if args.half is not None:
        rows = [r for r in rows if r.get("half") == {"fit": 0, "check": 1}[args.half]]
    rows = kept(rows, args.min_margin, args.max_gap)
    unlabelled = sum(r.get("label") is None for r in read_jsonl(args.labels))
    k, n = sum(bool(r["label"]) for r in rows), len(rows)
    lo, hi = wilson(k, n)
    print(
        f"{args.labels}: precision {k / n if n else float('nan'):.3f} ({k}/{n} labelled true), "
        f"95% Wilson interval [{lo:.3f}, {hi:.3f}]" + (f"; {unlabelled} unlabelled" if unlabelled else "")
    )
    for name in SETS:
        sub = [r for r in rows if r["set"] == name]
        if sub:
            kk = sum(bool(r["label"]) for r in sub)
            print(f"  {name}: {kk}/{len(sub)}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect", help="ask a stride sample and write every counted support")
    c.add_argument("--squad", type=int, default=800, help="SQuAD dev questions (0: all; -1: none)")
    c.add_argument("--nqa", type=int, default=400, help="NarrativeQA questions (0: all; -1: none)")
    c.add_argument("-o", "--output", type=Path, required=True)
    c.set_defaults(run=cmd_collect)
    t = sub.add_parser("cost", help="time corroboration takes per answer, and the sentences it reads")
    t.add_argument("--set", choices=sorted(SETS), default="squad")
    t.add_argument("-n", type=int, default=300, help="questions, a fixed stride sample")
    t.set_defaults(run=cmd_cost)
    s = sub.add_parser("sample", help="a seeded random sample of triples to label")
    s.add_argument("triples", type=Path)
    s.add_argument("-n", type=int, default=150)
    s.add_argument("--seed", type=int, default=23)
    s.add_argument("-o", "--output", type=Path, required=True)
    s.add_argument("--labels", type=Path, nargs="*", help="labelled files whose labels carry over")
    s.set_defaults(run=cmd_sample)
    p = sub.add_parser("score", help="precision of a labelled file, with its 95%% Wilson interval")
    p.add_argument("labels", type=Path)
    p.add_argument("--half", choices=["fit", "check"])
    p.add_argument("--min-margin", type=float)
    p.add_argument("--max-gap", type=float)
    p.set_defaults(run=cmd_score)
    h = sub.add_parser("choose", help="choose the support cuts on the fit half of a labelled file")
    h.add_argument("labels", type=Path)
    h.add_argument("--target", type=float, default=0.95)
    h.set_defaults(run=cmd_choose)
    args = ap.parse_args()
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
