"""A span per LLM request, after OpenTelemetry's GenAI semantic conventions: `chat <model>`, with the
model, the operation, the tokens and the finish reason, a child of whatever span is current (the plan,
the observer's look, an analysis step). Without a tracer provider (tracing off) it costs nothing. The
messages and the answer go in only when the operator says so (TRIAGE_TRACE_CONTENT=on): they are mail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

_tracer = trace.get_tracer("triage.llm")


@contextmanager
def chat_span(
    model: str, base_url: str | None, request: dict[str, Any], messages: list[dict[str, str]], content: bool
) -> Iterator[Span]:
    """The span of one chat request to `model` at `base_url`; `request` holds its temperature and
    max_tokens. An exception leaving the block is recorded as the span's error.type."""
    where = urlsplit(base_url or "https://api.openai.com/v1")
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "gen_ai.request.model": model,
        "gen_ai.request.temperature": request["temperature"],
        "gen_ai.request.max_tokens": request["max_tokens"],
        "server.address": where.hostname or "",
        "server.port": where.port or (443 if where.scheme == "https" else 80),
    }
    if content:
        attributes["gen_ai.input.messages"] = json.dumps(messages)
    with _tracer.start_as_current_span(
        f"chat {model}",
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except Exception as exc:
            span.set_attribute("error.type", type(exc).__name__)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def answered(span: Span, response: Any, text: str | None) -> None:
    """Record what the server answered: its model and id, the tokens, the finish reasons, and (content
    on: `text` given) the answer."""
    if not span.is_recording():
        return
    usage = getattr(response, "usage", None)
    reasons = [str(c.finish_reason) for c in getattr(response, "choices", None) or [] if c.finish_reason]
    found = {
        "gen_ai.response.model": getattr(response, "model", None),
        "gen_ai.response.id": getattr(response, "id", None),
        "gen_ai.response.finish_reasons": reasons,
        "gen_ai.usage.input_tokens": usage.prompt_tokens if usage else None,
        "gen_ai.usage.output_tokens": usage.completion_tokens if usage else None,
        "gen_ai.output.messages": text,
    }
    span.set_attributes({k: v for k, v in found.items() if v is not None and v != []})
