"""One trace per e-mail: what the OTEL_* variables switch on, how a run's spans hang together (its ingest
the root, a decision linked to its hold), what a span may say, and the GenAI span of an LLM call. In
this process, against the SDK's in-memory exporter; tests/integration/test_trace_export.py exports from
real workers to a real OTLP receiver."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import Retry
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from agent.autonomy import Decision, Policy
from agent.run import now
from monitoring import tracing
from tasks.review import decide
from tests.conftest import Pipeline
from tests.llm_server import FakeOpenAI, running_openai
from tests.support import email_bytes, llm_config, make_maildir, wait_for
from tools.llm_client import OpenAICompatibleLLM
from workers import runtime as runtime_module

_MEMORY = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """This process traced into memory for the test (the first provider installed stays the global one
    the LLM client's spans use), and nothing traced after it."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_MEMORY))
    tracing.install(provider)
    _MEMORY.clear()
    yield _MEMORY
    tracing.install(None)
    _MEMORY.clear()


def named(found: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in found.get_finished_spans() if s.name == name]


@pytest.mark.parametrize(
    ("env", "kinds"),
    [
        ({}, []),  # nothing set: nothing exported
        ({"OTEL_SERVICE_NAME": "triage"}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, [HttpExporter]),  # the spec's default
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, [HttpExporter]),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            [GrpcExporter],
        ),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_TRACES_EXPORTER": "console"}, [ConsoleSpanExporter]),
        ({"OTEL_TRACES_EXPORTER": "otlp,console"}, [HttpExporter, ConsoleSpanExporter]),
    ],
)
def test_spans_are_exported_only_where_the_otel_variables_say(env: dict[str, str], kinds: list[type]) -> None:
    assert [type(e) for e in tracing.exporters_from(env)] == kinds


@pytest.mark.parametrize(
    ("env", "named_in_error"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER: 'zipkin'"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
            "'http/json'",
        ),
    ],
)
def test_an_exporter_this_system_cannot_use_is_named(env: dict[str, str], named_in_error: str) -> None:
    with pytest.raises(tracing.TracingMisconfigured, match=named_in_error):
        tracing.exporters_from(env)


def test_a_runs_spans_join_the_trace_its_ingest_began_and_a_decision_links_to_its_hold(
    spans: InMemorySpanExporter,
) -> None:
    with tracing.span("triage.ingest", delivery_id="d1") as root:
        pass
    with tracing.span("triage.hold", root, run_id="T1") as hold:
        pass
    # Whatever span is current, a run's span names its own parent.
    with tracing.span("unrelated"), tracing.span("triage.review", root, [hold, None, "junk"], run_id="T1"):
        pass
    [ingest] = named(spans, "triage.ingest")
    [held] = named(spans, "triage.hold")
    [review] = named(spans, "triage.review")
    assert ingest.parent is None and ingest.context is not None
    trace_id = ingest.context.trace_id
    assert held.context is not None and review.context is not None
    assert held.context.trace_id == review.context.trace_id == trace_id
    assert held.parent is not None and review.parent is not None
    assert held.parent.span_id == review.parent.span_id == ingest.context.span_id
    assert [link.context.span_id for link in review.links] == [held.context.span_id]
    assert review.attributes is not None and review.attributes["triage.run_id"] == "T1"


def test_a_celery_retry_is_no_error_and_another_exception_is_named_not_quoted(
    spans: InMemorySpanExporter,
) -> None:
    with pytest.raises(Retry), tracing.span("triage.step retried"):
        raise Retry("later")
    with pytest.raises(ValueError), tracing.span("triage.step failed"):
        raise ValueError("Dear support, my IBAN is DE89 3704 0044 0532 0130 00")
    [retried] = named(spans, "triage.step retried")
    [failed] = named(spans, "triage.step failed")
    assert retried.status.status_code == StatusCode.UNSET
    assert failed.status.status_code == StatusCode.ERROR and failed.status.description == "ValueError"
    assert not failed.events  # no exception event: its message may be the customer's text


def test_without_a_provider_a_span_is_nothing_and_costs_no_export() -> None:
    tracing.install(None)
    with tracing.span("triage.ingest") as traceparent:
        tracing.note(outcome="ticket")
    assert traceparent is None


def chat_answer(request: dict[str, Any]) -> str:
    return json.dumps({"ok": True})


@pytest.mark.parametrize("content", [False, True])
def test_an_llm_call_is_a_genai_span_with_the_model_tokens_and_finish_reason(
    spans: InMemorySpanExporter, content: bool
) -> None:
    with running_openai(FakeOpenAI(default=chat_answer)) as server:
        config = llm_config(base_url=server.url, api_key="k", model="gpt-4o-mini", max_transport_retries=0)
        llm = OpenAICompatibleLLM(config.model_copy(update={"trace_content": content}))
        with tracing.span("triage.plan"):
            llm.complete(
                [{"role": "user", "content": "Jane Doe <jane@example.com>"}], {"type": "object"}, "x"
            )
    [call] = named(spans, "chat gpt-4o-mini")
    [plan] = named(spans, "triage.plan")
    attributes = dict(call.attributes or {})
    assert (
        call.parent is not None and plan.context is not None and call.parent.span_id == plan.context.span_id
    )
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert attributes["gen_ai.usage.input_tokens"] > 0 and attributes["gen_ai.usage.output_tokens"] > 0
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["server.address"] == "127.0.0.1"
    mail_in_span = "jane@example.com" in json.dumps(attributes)
    assert mail_in_span is content  # mail text only with TRIAGE_TRACE_CONTENT=on


def test_a_held_mail_is_one_trace_from_ingest_through_its_approval(
    pipeline: Pipeline, swap_runtime: Any, spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    policy = Policy.model_validate(
        {"rules": [{"name": "vip", "when": {"sender_in": ["vip@example.com"]}, "then": "supervised"}]}
    )
    swap_runtime(policy=policy)
    subject = "Refund for order 4412"
    raw = email_bytes(
        message_id=f"<{uuid.uuid4().hex}@example.com>", sender="vip@example.com", subject=subject
    )
    [delivery] = pipeline.feed(make_maildir(tmp_path / "mail", raw))
    run_id = delivery.run_id or ""
    wait_for(lambda: (r := pipeline.store.runs.get(run_id)) is not None and r.status == "held", 30, "held")
    decide(runtime_module.runtime(), run_id, Decision(action="approve", by="ada", reason="ok", at=now()))
    run = pipeline.wait_final(run_id)

    def whole() -> list[ReadableSpan] | None:
        mine = [
            s
            for s in spans.get_finished_spans()
            if s.context and s.context.trace_id == int(run.trace_id or "0", 16)
        ]
        return mine if any(s.name == "triage.step create_jira_issue" for s in mine) else None

    mine = wait_for(whole, 10, "the run's last spans")
    names = {s.name for s in mine}
    assert {"triage.ingest", "triage.plan", "triage.hold", "triage.review"} <= names
    assert {
        "triage.step categorize_ticket",
        "triage.step extract_entities",
        "triage.step create_jira_issue",
    } <= names
    assert all((s.attributes or {}).get("triage.run_id") == run_id for s in mine)
    [ingest] = [s for s in mine if s.name == "triage.ingest"]
    assert ingest.parent is None and (ingest.attributes or {})["triage.outcome"] == "ticket"
    [review] = [s for s in mine if s.name == "triage.review"]
    [hold] = [s for s in mine if s.name == "triage.hold"]
    assert hold.context is not None and [link.context.span_id for link in review.links] == [
        hold.context.span_id
    ]
    [issue] = [s for s in mine if s.name == "triage.step create_jira_issue"]
    assert (issue.attributes or {})["triage.outcome"] == "success" and "triage.issue_key" in (
        issue.attributes or {}
    )
    told = json.dumps([dict(s.attributes or {}) for s in mine])
    assert subject not in told and "vip@example.com" not in told  # no mail text by default
    assert '"triage.run.status": "done"' in told
