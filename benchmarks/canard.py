"""The follow-up resolver measured on CANARD the way QuReTeC is: term precision, recall and F1
of the terms the resolution adds, on the checking half of ``canard-dev.jsonl``.

The gold terms of a turn are its rewrite's content words (lower-cased, not in scikit-learn's
English stopword list) that occur in the history but not in the question; a resolution's terms
are the content words it adds. Scores are micro-averaged over the turns (summed counts).
Measured twice: with CANARD's history as is, and without its first two items (the article and
section titles). Baselines: the question as typed, the title's words appended, the previous
answer's words appended. Also the ``needs_history`` AUC (label: the rewrite has content words
the question lacks) and the resolver's latency per call.

Split (fixed, by dialog): a dialog is in the fitting half when the first 8 hex digits of the
sha256 of its id, as an integer, are even; otherwise in the checking half.

    python benchmarks/canard.py                          # the shipped int8 model, checking half
    python benchmarks/canard.py --model runs/resolver/resolver-fp32.onnx --limit 300
    python benchmarks/canard.py --examples 50            # every 50th turn: the rewrite beside the person's
    python benchmarks/canard.py --breakdown              # where the F1 is lost
    python benchmarks/canard.py --paired runs/resolver/pg/resolver-int8.onnx   # another model's F1 less this one's
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT = ROOT.parent / "shared" / "conversations" / "canard-dev.jsonl"


def stopwords() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return ENGLISH_STOP_WORDS


def in_fitting_half(dialog: str) -> bool:
    return int(hashlib.sha256(dialog.encode("utf-8")).hexdigest()[:8], 16) % 2 == 0


def load_canard(path: Path = DEFAULT, half: str = "check") -> list[dict]:
    """The rows of one half (``"fit"`` or ``"check"``) of ``canard-dev.jsonl``."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if in_fitting_half(r["dialog"]) == (half == "fit")]


def without_titles(history: list[str]) -> list[str]:
    return history[2:]


def words_lower(tokenizer, text: str) -> list[str]:
    from qa.resolver import split_words

    return [w.lower() for w, _, _ in split_words(tokenizer, text)]


def content_terms(tokenizer, text: str) -> list[str]:
    stop = stopwords()
    return list(dict.fromkeys(w for w in words_lower(tokenizer, text) if w not in stop))


def gold_terms(tokenizer, question: str, history: list[str], rewrite: str) -> set[str]:
    """The rewrite's content words that are in the history but not in the question."""
    in_question = set(words_lower(tokenizer, question))
    in_history = {w for item in history for w in words_lower(tokenizer, item)}
    return {w for w in content_terms(tokenizer, rewrite) if w not in in_question and w in in_history}


def needs_history_label(tokenizer, question: str, rewrite: str) -> bool:
    """The rewrite has content words that the question lacks."""
    in_question = set(words_lower(tokenizer, question))
    return any(w not in in_question for w in content_terms(tokenizer, rewrite))


def added_content_terms(tokenizer, question: str, added: list[str]) -> set[str]:
    stop = stopwords()
    in_question = set(words_lower(tokenizer, question))
    return {w for a in added for w in words_lower(tokenizer, a) if w not in stop and w not in in_question}


def prf(predicted: list[set[str]], gold: list[set[str]]) -> dict:
    tp = sum(len(p & g) for p, g in zip(predicted, gold, strict=True))
    n_pred = sum(len(p) for p in predicted)
    n_gold = sum(len(g) for g in gold)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def baselines(tokenizer, rows: list[dict], titles: bool) -> dict:
    """Term P/R/F1 of: nothing added, the title's words added, the previous answer's words added."""
    out: dict[str, list[set[str]]] = {"as typed": [], "title words appended": [], "previous answer appended": []}
    gold = []
    for r in rows:
        history = r["history"] if titles else without_titles(r["history"])
        gold.append(gold_terms(tokenizer, r["question"], history, r["rewrite"]))
        out["as typed"].append(set())
        title = [r["history"][0]] if titles and r["history"] else []
        out["title words appended"].append(added_content_terms(tokenizer, r["question"], title))
        # the last item is the previous answer when the history has a turn (titles are 2 items)
        answer = [history[-1]] if len(history) > (2 if titles else 0) else []
        out["previous answer appended"].append(added_content_terms(tokenizer, r["question"], answer))
    return {name: prf(predicted, gold) for name, predicted in out.items()}


def rewrite_matches(tokenizer, resolved: str, rewrite: str) -> bool:
    """The resolved question has the person's rewrite's content words, no more, no fewer."""
    return set(content_terms(tokenizer, resolved)) == set(content_terms(tokenizer, rewrite))


def score_model(resolver, rows: list[dict], titles: bool) -> dict:
    """Term P/R/F1, the share of rewrites that match the person's (``rewrite_matches``; as typed,
    ``rewrite_match_as_typed``), the share whose first word is no longer the question's
    (``first_word_moved``), needs_history AUC and latency of ``resolver`` (a ``qa.resolver.Resolver``)."""
    from sklearn.metrics import roc_auc_score

    tokenizer = resolver._tokenizer
    predicted, gold, needs, labels, seconds, matches, typed, opened = [], [], [], [], [], 0, 0, 0
    for r in rows:
        history = r["history"] if titles else without_titles(r["history"])
        t0 = time.perf_counter()
        resolution = resolver.resolve_turn(r["question"], history)
        seconds.append(time.perf_counter() - t0)
        predicted.append(added_content_terms(tokenizer, r["question"], resolution.added))
        gold.append(gold_terms(tokenizer, r["question"], history, r["rewrite"]))
        needs.append(resolution.needs_history)
        labels.append(needs_history_label(tokenizer, r["question"], r["rewrite"]))
        matches += rewrite_matches(tokenizer, resolution.resolved, r["rewrite"])
        typed += rewrite_matches(tokenizer, r["question"], r["rewrite"])
        opened += words_lower(tokenizer, resolution.resolved)[:1] != words_lower(tokenizer, r["question"])[:1]
    out = prf(predicted, gold)
    out["rewrite_match"] = round(matches / len(rows), 4) if rows else 0.0
    out["rewrite_match_as_typed"] = round(typed / len(rows), 4) if rows else 0.0
    # words put in before the question's first word ("Corran Estuary bridge What else ...?")
    out["first_word_moved"] = round(opened / len(rows), 4) if rows else 0.0
    out["needs_history_auc"] = round(float(roc_auc_score(labels, needs)), 4) if len(set(labels)) == 2 else None
    out["median_ms"] = round(1000 * statistics.median(seconds), 2)
    out["turns"] = len(rows)
    return out


def measure(model: Path, rows: list[dict], threads: list[int | None]) -> dict:
    """The model's scores with and without titles (default threads), and its latency per thread count."""
    from qa.resolver import Resolver, load_tokenizer

    tokenizer = load_tokenizer()
    result: dict = {"turns": len(rows), "model": {}, "baselines": {}, "latency_ms": {}}
    for titles, name in ((True, "with titles"), (False, "without titles")):
        result["baselines"][name] = baselines(tokenizer, rows, titles)
        resolver = Resolver(model)
        result["model"][name] = score_model(resolver, rows, titles)
    for n in threads:
        resolver = Resolver(model, threads=n)
        result["latency_ms"][f"threads={n or 'default'}"] = score_model(resolver, rows, True)["median_ms"]
    return result


def print_table(result: dict) -> None:
    print(f"CANARD checking half: {result['turns']} turns; term precision / recall / F1 of the added terms")
    print(f"{'':34} {'with titles':>22} {'without titles':>22}")
    def row(name: str, cells: list[dict]) -> str:
        scores = (f"{c['precision']:.3f} {c['recall']:.3f} {c['f1']:.3f}".rjust(22) for c in cells)
        return f"{name:34} " + " ".join(scores)

    for name in result["baselines"]["with titles"]:
        print(row(name, [result["baselines"][t][name] for t in ("with titles", "without titles")]))
    cells = [result["model"][t] for t in ("with titles", "without titles")]
    print(row("resolver", cells))
    print(
        "needs_history AUC: "
        + " / ".join(f"{cells[i]['needs_history_auc']} ({t})" for i, t in enumerate(("with titles", "without titles")))
    )
    print("latency per call, median: " + ", ".join(f"{k} {v} ms" for k, v in result["latency_ms"].items()))


def examples_table(model: Path, rows: list[dict], every: int) -> str:
    """A Markdown table of every ``every``-th turn (the first, the ``every``+1-th, ...): the question as
    typed, the model's rewrite (with the titles) and the person's."""
    from qa.resolver import Resolver

    resolver = Resolver(model)
    lines = ["| # | as typed | the resolver's rewrite | the person's rewrite |", "|---|---|---|---|"]
    for k in range(0, len(rows), every):
        r = rows[k]
        got = resolver.resolve_turn(r["question"], r["history"]).resolved
        cells = [str(k + 1), r["question"], got if got != r["question"] else "(as typed)", r["rewrite"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def breakdown_table(model: Path, rows: list[dict]) -> str:
    """Where the term F1 is lost, with and without titles: turns by whether the model and the person put
    words in, and if both did, whether they share one; the words right, wrong and missed in each."""
    from qa.resolver import Resolver, load_tokenizer

    tokenizer, resolver = load_tokenizer(), Resolver(model)
    kinds = ("neither puts words in", "the person only", "the model only", "both, sharing words",
             "both, no word shared")
    lines = ["| history | turns | " + " | ".join(kinds) + " |", "|---|---|" + "---|" * len(kinds)]
    for titles in (True, False):
        counts = {k: [0, 0, 0, 0] for k in kinds}  # turns, words right, wrong, missed
        for r in rows:
            history = r["history"] if titles else without_titles(r["history"])
            got = added_content_terms(tokenizer, r["question"], resolver.resolve_turn(r["question"], history).added)
            gold = gold_terms(tokenizer, r["question"], history, r["rewrite"])
            kind = kinds[0 if not got and not gold else 1 if not got else 2 if not gold else 3 if got & gold else 4]
            c = counts[kind]
            c[0], c[1], c[2], c[3] = c[0] + 1, c[1] + len(got & gold), c[2] + len(got - gold), c[3] + len(gold - got)
        cells = [f"{c[0]}: {c[1]} right, {c[2]} wrong, {c[3]} missed" for c in counts.values()]
        lines.append(f"| {'with' if titles else 'without'} titles | {len(rows)} | " + " | ".join(cells) + " |")
    ceiling = {t: labels_ceiling(tokenizer, rows, t)["f1"] for t in (True, False)}
    lines.append(f"\nThe labels' ceiling (each turn's training label taken as the prediction): F1 {ceiling[True]:.3f} "
                 f"with titles, {ceiling[False]:.3f} without.")
    return "\n".join(lines)


def labels_ceiling(tokenizer, rows: list[dict], titles: bool) -> dict:
    """Term P / R / F1 if the model put in exactly its training labels' spans (at most two a turn,
    ``training/rewrite_labels.py``): the most this way of learning rewrites can reach."""
    sys.path.insert(0, str(ROOT / "training"))
    import rewrite_labels

    from qa.resolver import split_words

    stop = stopwords()
    predicted, gold = [], []
    for r in rows:
        history = r["history"] if titles else without_titles(r["history"])
        question = [w.lower() for w, _, _ in split_words(tokenizer, r["question"])]
        items = [[w.lower() for w, _, _ in split_words(tokenizer, h)] for h in history]
        labels = rewrite_labels.label(question, r["rewrite"], split_words(tokenizer, r["rewrite"]), items, stop, most=2)
        words = {w for _, span in labels if span is not None for w in items[span.item][span.first : span.last + 1]}
        predicted.append({w for w in words if w not in stop and w not in set(question)})
        gold.append(gold_terms(tokenizer, r["question"], history, r["rewrite"]))
    return prf(predicted, gold)


def paired_table(model: Path, other: Path, rows: list[dict], resamples: int = 2000) -> str:
    """Term F1 of ``other`` less ``model``'s, with and without titles, and its 95% interval by a paired
    bootstrap over dialogs (a dialog's turns are resampled together; F1 micro-averaged): how far two
    models' scores may differ by the turns alone."""
    import random

    from qa.resolver import Resolver, load_tokenizer

    tokenizer = load_tokenizer()
    resolvers = [Resolver(model), Resolver(other)]
    lines = [f"{other} against {model}, {len(rows)} turns, paired bootstrap over dialogs ({resamples} resamples):"]
    for titles in (True, False):
        by_dialog: dict[str, list[tuple]] = {}
        for r in rows:
            history = r["history"] if titles else without_titles(r["history"])
            gold = gold_terms(tokenizer, r["question"], history, r["rewrite"])
            got = [added_content_terms(tokenizer, r["question"], m.resolve_turn(r["question"], history).added)
                   for m in resolvers]
            by_dialog.setdefault(r["dialog"], []).append((got[0], got[1], gold))

        def difference(dialogs: list[str]) -> float:
            turns = [t for d in dialogs for t in by_dialog[d]]
            gold = [t[2] for t in turns]
            return prf([t[1] for t in turns], gold)["f1"] - prf([t[0] for t in turns], gold)["f1"]

        dialogs = sorted(by_dialog)
        rng = random.Random(0)
        spread = sorted(difference(rng.choices(dialogs, k=len(dialogs))) for _ in range(resamples))
        low, high = spread[int(0.025 * resamples)], spread[int(0.975 * resamples) - 1]
        name = "with titles" if titles else "without titles"
        lines.append(f"  {name}: {difference(dialogs):+.4f} [{low:+.4f}, {high:+.4f}]")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--canard", type=Path, default=DEFAULT)
    parser.add_argument("--model", type=Path, help="an exported resolver .onnx (default: the shipped model)")
    parser.add_argument("--half", choices=["check", "fit"], default="check")
    parser.add_argument("--limit", type=int, default=0, help="the first N turns of the half (0: all)")
    parser.add_argument("--json", type=Path, help="also write the scores here")
    parser.add_argument("--examples", type=int, metavar="EVERY", default=0,
                        help="instead: a Markdown table of every EVERY-th turn's rewrite beside the person's")
    parser.add_argument("--paired", type=Path, metavar="OTHER.onnx",
                        help="instead: OTHER's term F1 less --model's, with a paired bootstrap interval over dialogs")
    parser.add_argument("--breakdown", action="store_true",
                        help="instead: a Markdown table of where the F1 is lost (turns by who put words in)")
    args = parser.parse_args()
    if not args.canard.exists():
        print(f"error: {args.canard} not found: pass --canard FILE", file=sys.stderr)
        return 2
    from qa.resolver import MODEL_PATH

    model = args.model or MODEL_PATH
    if not model.exists():
        print(f"error: no resolver model at {model}: run training/train_resolver.py", file=sys.stderr)
        return 2
    rows = load_canard(args.canard, args.half)
    if args.limit > 0:
        rows = rows[: args.limit]
    if args.examples > 0:
        print(examples_table(model, rows, args.examples))
        return 0
    if args.paired:
        print(paired_table(model, args.paired, rows))
        return 0
    if args.breakdown:
        print(breakdown_table(model, rows))
        return 0
    result = measure(model, rows, threads=[1, None])
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
