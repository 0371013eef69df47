"""The JSON object in a model's answer, whatever the model wrapped it in."""

from __future__ import annotations

import json
from typing import Any


def parse_json_object(content: str) -> dict[str, Any]:
    """The JSON object in a model's answer; ValueError says what is wrong with it."""
    text = content.strip()
    if text.startswith("```"):  # a model that fenced its JSON despite instructions
        text = text.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"the answer is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(value, dict):
        raise ValueError(f"the answer must be a JSON object, not {type(value).__name__}")
    return value
