"""Misspelt questions: the same questions asked spelt right and with typos, side by side.

The typos are a fixed, seeded perturbation (``perturb``), in one of two modes (``--typos``):

* ``hard`` (the default): one or two words of three or more letters are hit, each by a slip
  drawn from a dropped letter, two adjacent letters swapped, a doubled letter, a letter
  replaced by a neighbour on a QWERTY keyboard ("minidter"), or a neighbour's letter inserted
  ("minisyter"); a word of ``TWO_SLIP_LENGTH`` or more letters gets a second slip half of the
  time; and a quarter of the questions also lose one space between two words ("ofthe");
* ``simple`` (the benchmark's first mode, kept so its numbers reproduce): one or two words of
  four or more letters get one slip each, a dropped letter, two adjacent letters swapped, or a
  doubled letter.

Any word can be hit, names and the words of the answer included, as a user's slips would;
words with digits are left alone (a slip in "1989" says little about spelling tolerance). The
random draw is seeded by the question's id, so a question gets the same typos in every run and
on every machine.

Two sets, each asked clean and misspelt through the real pipeline (``qa.evaluation.evaluate``,
as ``qa eval`` does):

* a fixed stride sample of the SQuAD dev split (every ``--stride``-th question, ``--limit`` of
  them) over its corpus, indexed once into ``runs/typos/squad-index`` (gitignored) and reused;
  the sample's even positions are the fit half, its odd ones the check half (both reported;
  ``--half`` asks only one of them);
  with ``--exclude-gold`` each answerable question is also asked without its own paragraph;
* seeds-dev over the bundled seeds index (a smoke test; never used to choose anything).

Columns: R@1 (the first citation is gold evidence), accuracy (the answer contains a gold
answer, as ``qa eval``'s ``contains``; an abstention scores 0), wrong (answered, and the
answer holds no gold answer: share of the answerable questions), abstained (share of the
answerable questions), unans. abst. (seeds-dev's unanswerable questions abstained on) and
w/o gold abst. (SQuAD with ``--exclude-gold``: abstained without the own paragraph).

    python benchmarks/typos.py                             # SQuAD sample (800) + seeds-dev
    python benchmarks/typos.py --sets seeds                # seeds-dev only (seconds)
    python benchmarks/typos.py --limit 200 --exclude-gold  # a smaller sample, with abstention
    python benchmarks/typos.py --show 10                   # also print some perturbed questions
    python benchmarks/typos.py --no-correction             # the baseline: no spelling correction
    python benchmarks/typos.py --typos simple              # the first, easier perturbation
    python benchmarks/typos.py --sets squad --half fit     # one half of the SQuAD sample (400)
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared"
SQUAD_DEV = SHARED / "squad" / "dev"
SEEDS_DEV = SHARED / "eval" / "seeds-dev.jsonl"
CACHE = ROOT / "runs" / "typos"

from qa.spelling import NEIGHBOURS  # noqa: E402  (the keyboard: keys beside each letter's)

#: A word a slip can hit: letters only (apostrophes split words), four or more of them (``simple``).
_WORD = re.compile(r"[^\W\d_]{4,}")
#: ``hard``: three or more letters.
_SHORT_WORD = re.compile(r"[^\W\d_]{3,}")
#: A space between two words, which ``hard`` may drop.
_SPACE = re.compile(r"(?<=[^\W\d_]) (?=[^\W\d_])")
SLIPS = ("drop", "swap", "double")
HARD_SLIPS = (*SLIPS, "neighbour", "insert")
MODES = ("hard", "simple")
TYPOS = {"simple": "one slip, drop/swap/double, in 1-2 words of 4+ letters",
         "hard": "1-2 slips, drop/swap/double/neighbour key/insert, in 1-2 words of 3+ letters; a space dropped in 1/4"}
#: ``hard``: a word this long gets a second slip half of the time.
TWO_SLIP_LENGTH = 7
#: ``hard``: the share of questions that also lose a space between two words.
MERGE_SHARE = 0.25


def _slip(word: str, rng: random.Random, kind: str | None = None) -> str:
    """``word`` with one typing slip: a letter dropped, two adjacent (different) letters
    swapped, or a letter doubled (``kind``, or drawn)."""
    kind = kind or rng.choice(SLIPS)
    if kind == "swap":
        pairs = [i for i in range(len(word) - 1) if word[i].lower() != word[i + 1].lower()]
        if pairs:
            i = rng.choice(pairs)
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        kind = "drop"  # a word of one repeated letter: drop one instead
    i = rng.randrange(len(word))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[: i + 1] + word[i] + word[i + 1 :]


def _neighbour(ch: str, rng: random.Random) -> str:
    """A key beside ``ch`` on the keyboard, in ``ch``'s case (``ch`` itself when it has none)."""
    keys = NEIGHBOURS.get(ch.lower())
    if not keys:
        return ch
    key = rng.choice(keys)
    return key.upper() if ch.isupper() else key


def _hard_slip(word: str, rng: random.Random) -> str:
    """``word`` with one slip of ``HARD_SLIPS``: ``_slip``'s three, a letter replaced by a
    keyboard neighbour, or a neighbour of a letter inserted beside it."""
    kind = rng.choice(HARD_SLIPS)
    if kind in SLIPS:
        return _slip(word, rng, kind)
    i = rng.randrange(len(word))
    if kind == "neighbour":
        return word[:i] + _neighbour(word[i], rng) + word[i + 1 :]
    key = _neighbour(word[i], rng).lower()
    at = i + rng.choice((0, 1))  # before or after the key it was next to
    return word[:at] + key + word[at:]


def perturb(question: str, seed: str, words: int | None = None, mode: str = "hard") -> str:
    """``question`` with one or two of its words misspelt, drawn by a random generator seeded
    with ``seed`` (``mode``: see the module docstring); a question without a word to hit is
    returned as it is. ``words`` fixes how many words are hit (default: 1 or 2, drawn)."""
    rng = random.Random(hashlib.sha256(seed.encode("utf-8")).digest())
    if mode == "simple":
        return _perturb_simple(question, rng, words)
    spots = [m.span() for m in _SHORT_WORD.finditer(question)]
    out = question
    if spots:
        n = min(len(spots), words if words is not None else rng.choice((1, 2)))
        for start, end in sorted(rng.sample(spots, n), reverse=True):
            word = _hard_slip(out[start:end], rng)
            if end - start >= TWO_SLIP_LENGTH and rng.random() < 0.5:
                word = _hard_slip(word, rng)
            out = out[:start] + word + out[end:]
    spaces = [m.start() for m in _SPACE.finditer(out)]
    if spaces and rng.random() < MERGE_SHARE:
        i = rng.choice(spaces)
        out = out[:i] + out[i + 1 :]
    return out


def _perturb_simple(question: str, rng: random.Random, words: int | None) -> str:
    """``perturb``'s ``simple`` mode: one slip (drop, swap, double) in one or two words of 4+ letters."""
    spots = [m.span() for m in _WORD.finditer(question)]
    if not spots:
        return question
    n = min(len(spots), words if words is not None else rng.choice((1, 2)))
    out = question
    for start, end in sorted(rng.sample(spots, n), reverse=True):  # right to left: offsets stay valid
        out = out[:start] + _slip(out[start:end], rng) + out[end:]
    return out


def perturbed(questions, mode: str = "hard"):
    """The question set's copy with ``perturb``'s typos (seeded by each question's id)."""
    return [dataclasses.replace(q, question=perturb(q.question, q.id, mode=mode)) for q in questions]


# -- measuring --------------------------------------------------------------------------


def squad_index() -> Path:
    """The SQuAD dev corpus's index under ``runs/typos`` (built on first use, then reused)."""
    from qa.indexing import index_paths

    index_dir = CACHE / "squad-index"
    if not (index_dir / "manifest.json").exists():
        print(f"Indexing {SQUAD_DEV / 'corpus.jsonl'} into {index_dir} (first run only)...", file=sys.stderr)
        index_paths([SQUAD_DEV / "corpus.jsonl"], index_dir)
    return index_dir


def measures(records) -> dict[str, float | None]:
    def share(flags):
        flags = list(flags)
        return sum(flags) / len(flags) if flags else None

    answerable = [r for r in records if r.answerable]
    scored = [r for r in answerable if r.answer_scores is not None]
    unanswerable = [r for r in records if not r.answerable]
    excluded = [r for r in answerable if r.abstained_without_gold is not None]
    return {
        "n": len(records),
        "R@1": share(r.rank == 1 for r in answerable),
        "accuracy": share(r.answer_scores["contains"] > 0 for r in scored),
        "wrong": share(not r.abstained and r.answer_scores["contains"] == 0 for r in scored),
        "abstained": share(r.abstained for r in answerable),
        "unans. abst.": share(r.abstained for r in unanswerable),
        "w/o gold abst.": share(r.abstained_without_gold for r in excluded),
        "p50 ms": sorted(r.latency_ms for r in records)[len(records) // 2] if records else None,
    }


COLUMNS = ["n", "R@1", "accuracy", "wrong", "abstained", "unans. abst.", "w/o gold abst.", "p50 ms"]


def fmt(v, name: str) -> str:
    if v is None:
        return "-"
    if name == "n":
        return str(v)
    return f"{v:.1f}" if name == "p50 ms" else f"{v:.3f}"


def print_table(rows: list[tuple[str, str, dict]]) -> None:
    header = ["set", "questions", *COLUMNS]
    body = [[s, v, *[fmt(m[c], c) for c in COLUMNS]] for s, v, m in rows]
    widths = [max(len(x) for x in col) for col in zip(header, *body, strict=True)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in body:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def run_set(label, index, questions, args, rows, dump, halves: bool) -> None:
    from qa import Assistant
    from qa.evaluation import evaluate

    with Assistant.open(index) as assistant:
        for variant, qs in (("clean", questions), ("typos", perturbed(questions, args.typos))):
            t0 = time.perf_counter()
            print(f"[{label}] {variant}: {len(qs)} questions...", file=sys.stderr)
            ev = evaluate(assistant, qs, top_k=args.top_k, depth=args.top_k, exclude_gold=args.exclude_gold,
                          progress=False)
            print(f"[{label}] {variant}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
            position = {q.id: i for i, q in enumerate(qs)}
            rows.append((label, variant, measures(ev.records)))
            if halves:
                for half, name in ((0, "fit"), (1, "check")):
                    part = [r for r in ev.records if position[r.id] % 2 == half]
                    rows.append((f"{label} ({name} half)", variant, measures(part)))
            if dump is not None:
                for r in ev.records:
                    dump.write(json.dumps({"set": label, "variant": variant, **r.to_json()}) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", default="squad,seeds", help="comma-separated: squad, seeds")
    p.add_argument("--stride", type=int, default=11, help="SQuAD sample: every N-th dev question (default 11)")
    p.add_argument("--limit", type=int, default=800, help="SQuAD sample size (default 800)")
    p.add_argument("--half", choices=("fit", "check"), help="SQuAD: ask only this half of the sample")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--typos", choices=MODES, default="hard",
                   help="the perturbation: hard (default) or simple (the first mode: one drop/swap/double)")
    p.add_argument("--exclude-gold", action="store_true",
                   help="also ask each answerable question without its gold documents (more time)")
    p.add_argument("--show", type=int, default=0, help="print the first N perturbed questions of each set")
    p.add_argument("--records", type=Path, help="write every question's record (JSONL) here")
    p.add_argument("--no-correction", action="store_true",
                   help="the baseline: questions read as written (qa.spelling's correction switched off)")
    p.add_argument("--english-ratio", type=float, help="qa.spelling.ENGLISH_RATIO to use (for choosing it)")
    args = p.parse_args(argv)

    import qa.assistant
    import qa.spelling

    if args.no_correction:
        qa.assistant.understood_as = lambda store, question: None
    if args.english_ratio is not None:
        qa.spelling.ENGLISH_RATIO = args.english_ratio

    from qa.assistant import ensure_default_index
    from qa.evaluation import load_question_set

    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    if any(s not in ("squad", "seeds") for s in sets):
        p.error("--sets takes squad and/or seeds")
    if not SHARED.is_dir():
        p.error(f"{SHARED} not found: this benchmark needs ../shared beside the repository")
    rows: list[tuple[str, str, dict]] = []
    dump = open(args.records, "w", encoding="utf-8") if args.records else None  # noqa: SIM115
    try:
        for name in sets:
            if name == "squad":
                questions = load_question_set(SQUAD_DEV / "questions.jsonl").questions[:: args.stride][: args.limit]
                label, index, halves = "SQuAD dev sample", squad_index(), args.half is None
                if args.half is not None:
                    questions = questions[("fit", "check").index(args.half) :: 2]
                    label = f"SQuAD dev sample ({args.half} half)"
            else:
                questions = load_question_set(SEEDS_DEV).questions
                label, index, halves = "seeds-dev", ensure_default_index(), False
            for q in perturbed(questions, args.typos)[: args.show]:
                print(f"[{label}] {q.question}", file=sys.stderr)
            run_set(label, index, questions, args, rows, dump, halves)
    finally:
        if dump is not None:
            dump.close()
    print_table(rows)
    print(f"\nSQuAD: every {args.stride}th dev question, {args.limit} at most; fit half = even positions. "
          f"top-k {args.top_k}. Typos: {args.typos} ({TYPOS[args.typos]}), seeded by id.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
