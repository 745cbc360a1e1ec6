"""Parsing one line of a JSONL file into an object, with a reason when it is not one."""

from __future__ import annotations

import json


class BadLine(ValueError):
    """A JSONL line that is not one JSON object; ``str(e)`` says why."""


def parse_object(line: str) -> dict:
    """The JSON object on ``line``, or ``BadLine`` with a reason fit for a warning."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise BadLine(f"malformed JSON ({e.msg})") from None
    except RecursionError:
        raise BadLine("malformed JSON (nested too deeply)") from None
    if not isinstance(record, dict):
        raise BadLine("expected a JSON object")
    return record
