"""Scoring conversations: each turn asked in order through ``assistant.conversation()``.

A conversation with a ``doc`` (QuAC's format) is asked inside that document only, as a
user asks about the document open in the chat. Per turn:

- answer scores against the references: contained, SQuAD exact match and token F1 (the
  best over the references; an abstention scores 0);
- ``overlap``: whether the top cited sentence overlaps a reference where it occurs in the
  document (character spans; for conversations with a ``doc`` whose references are found
  in it);
- abstention: a turn without references (QuAC's CANNOTANSWER) is right to abstain, a turn
  with references is wrong to.

The summary splits first turns from follow-ups.
"""

from __future__ import annotations

from qa.errors import BadInputError
from qa.evaluation.answers import score_answer
from qa.evaluation.metrics import mean
from qa.evaluation.questions import Conversation


def reference_spans(text: str, references) -> list[tuple[int, int]]:
    """Every occurrence ``(start, end)`` of each reference in ``text`` (exact, then trimmed of
    surrounding whitespace and end punctuation, which references often carry)."""
    spans = []
    for ref in references:
        for candidate in dict.fromkeys((ref, ref.strip(), ref.strip().rstrip(".,;:"))):
            if not candidate:
                continue
            at = text.find(candidate)
            while at >= 0:
                spans.append((at, at + len(candidate)))
                at = text.find(candidate, at + 1)
            if spans:
                break
    return spans


def evaluate_conversations(assistant, conversations: list[Conversation], problems: list[str]) -> dict:
    """``{"summary": ..., "turns": [per-turn records]}``."""
    turns = []
    for conv in conversations:
        docs = [conv.doc] if conv.doc else None
        if docs:
            try:
                assistant.outside(docs)  # the document must be in the index
            except BadInputError:
                problems.append(f"conversation {conv.id}: skipped: its doc {conv.doc!r} is not in the index")
                continue
        try:
            session = assistant.conversation(docs=docs)
        except ImportError:
            raise BadInputError("this build cannot hold conversations (qa.conversation is missing)") from None
        doc_text = assistant.store.text(conv.doc) if conv.doc else None
        for n, turn in enumerate(conv.turns, 1):
            try:
                result = session.ask(turn.question)
            except BadInputError as e:
                problems.append(f"conversation {conv.id} turn {n}: skipped: {e}")
                continue
            turns.append(_record(conv, n, turn, result, doc_text))
    return {"summary": summarize_turns(turns), "turns": turns}


def _record(conv: Conversation, n: int, turn, result, doc_text: str | None) -> dict:
    answer = result.answer.text if result.answer is not None else None
    resolved = getattr(result, "resolved", None)
    record = {"conversation": conv.id, "turn": n, "question": turn.question,
              "gold_answers": list(turn.answers), "answer": answer, "abstained": answer is None,
              "answerable": any(a.strip() for a in turn.answers), "confidence": round(result.confidence, 4)}
    if resolved and resolved != turn.question:
        record["resolved"] = resolved
    if result.answer is not None:
        record["kind"] = result.answer.kind
        record["answer_sentence"] = result.answer.citation.text
    if result.notes:
        record["notes"] = list(result.notes)
    record["cited_docs"] = sorted({c.doc for c in result.citations})
    if record["answerable"]:
        try:
            record["answer_scores"] = score_answer(answer, turn.answers)
        except ValueError:
            pass
        if doc_text is not None and result.citations:
            top = result.citations[0]
            spans = reference_spans(doc_text, turn.answers)
            if spans and top.doc == conv.doc:
                record["top_citation"] = top.text
                record["overlap"] = any(s < top.end and top.start < e for s, e in spans)
    return record


def summarize_turns(turns: list[dict]) -> dict:
    scored = [t for t in turns if "answer_scores" in t]
    by_conv: dict[str, list[dict]] = {}
    for t in scored:
        by_conv.setdefault(t["conversation"], []).append(t)

    def acc(rows, m="contains"):
        return mean(r["answer_scores"][m] for r in rows)

    def overlap(rows):
        return mean(float(r["overlap"]) for r in rows if "overlap" in r)

    first = [t for t in scored if t["turn"] == 1]
    later = [t for t in scored if t["turn"] > 1]
    unanswerable = [t for t in turns if not t["answerable"]]
    answerable = [t for t in turns if t["answerable"]]
    return {
        "conversations": len({t["conversation"] for t in turns}),
        "turns": len(turns),
        "scored_turns": len(scored),
        "unanswerable_turns": len(unanswerable),
        "turn_accuracy": acc(scored),
        "em": acc(scored, "em"),
        "f1": acc(scored, "f1"),
        "first_turn_accuracy": acc(first),
        "follow_up_accuracy": acc(later),
        "first_turn_f1": acc(first, "f1"),
        "follow_up_f1": acc(later, "f1"),
        "first_turn_overlap": overlap(first),
        "follow_up_overlap": overlap(later),
        "overlap_turns": sum("overlap" in t for t in scored),
        "abstained_when_unanswerable": mean(float(t["abstained"]) for t in unanswerable),
        "abstained_when_answerable": mean(float(t["abstained"]) for t in answerable),
        "conversations_all_correct": mean(
            float(all(t["answer_scores"]["contains"] for t in rows)) for rows in by_conv.values()
        ),
    }
