"""Evaluation: question sets, relevance, retrieval and answer measures, reports.

The entry points are ``load_question_set`` (JSONL question sets, conversations,
or TREC qrels plus a queries file), ``evaluate`` (ask every question and score
it) and ``evaluate_conversations``. Heavy libraries (ir-measures, scipy, tqdm)
are imported inside the functions that need them.
"""

from __future__ import annotations

from qa.evaluation.questions import Conversation, Evidence, Question, QuestionSet, load_question_set
from qa.evaluation.runner import EvalRun, evaluate

__all__ = [
    "Conversation",
    "EvalRun",
    "Evidence",
    "Question",
    "QuestionSet",
    "evaluate",
    "load_question_set",
]
