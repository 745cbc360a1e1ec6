"""Scoring conversations: each turn asked in order through ``assistant.conversation()``.

A turn is correct when a gold answer is contained in its answer text (the
answer measure of question sets); EM and F1 are reported too.
"""

from __future__ import annotations

from qa.errors import BadInputError
from qa.evaluation.answers import score_answer
from qa.evaluation.metrics import mean
from qa.evaluation.questions import Conversation


def evaluate_conversations(assistant, conversations: list[Conversation], problems: list[str]) -> dict:
    """``{"summary": ..., "turns": [per-turn records]}``."""
    try:
        session = assistant.conversation()
    except ImportError:
        raise BadInputError("this build cannot hold conversations (qa.conversation is missing)") from None
    turns = []
    whole_scope = assistant.scope
    try:
        for conv in conversations:
            if conv.doc is not None:
                try:
                    assistant.outside([conv.doc])
                except BadInputError:
                    problems.append(f"conversation {conv.id}: skipped: its doc {conv.doc!r} is not in the index")
                    continue
            assistant.scope = [conv.doc] if conv.doc is not None else whole_scope
            session.reset()
            turns += _asked(session, conv, problems)
    finally:
        assistant.scope = whole_scope
    return {"summary": summarize_turns(turns), "turns": turns}


def _asked(session, conv: Conversation, problems: list[str]) -> list[dict]:
    """The per-turn records of one conversation, asked in order."""
    turns = []
    for n, turn in enumerate(conv.turns, 1):
        try:
            result = session.ask(turn.question)
        except BadInputError as e:
            problems.append(f"conversation {conv.id} turn {n}: skipped: {e}")
            continue
        answer = result.answer.text if result.answer is not None else None
        record = {"conversation": conv.id, "turn": n, "question": turn.question,
                  "gold_answers": list(turn.answers), "answer": answer, "abstained": answer is None}
        if any(a.strip() for a in turn.answers):
            try:
                record["answer_scores"] = score_answer(answer, turn.answers)
            except ValueError:
                pass
        turns.append(record)
    return turns


def summarize_turns(turns: list[dict]) -> dict:
    scored = [t for t in turns if "answer_scores" in t]
    by_conv: dict[str, list[dict]] = {}
    for t in scored:
        by_conv.setdefault(t["conversation"], []).append(t)

    def acc(rows, m="contains"):
        return mean(r["answer_scores"][m] for r in rows)

    return {
        "conversations": len({t["conversation"] for t in turns}),
        "turns": len(turns),
        "scored_turns": len(scored),
        "turn_accuracy": acc(scored),
        "em": acc(scored, "em"),
        "f1": acc(scored, "f1"),
        "first_turn_accuracy": acc([t for t in scored if t["turn"] == 1]),
        "follow_up_accuracy": acc([t for t in scored if t["turn"] > 1]),
        "conversations_all_correct": mean(
            float(all(t["answer_scores"]["contains"] for t in rows)) for rows in by_conv.values()
        ),
    }
