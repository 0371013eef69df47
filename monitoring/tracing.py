"""One trace per e-mail (OpenTelemetry), configured by the standard OTEL_* variables.

A mail's ingest span is the root of its trace. Its context (a W3C traceparent) is kept on the run, so
every later span of the run (the plan, each step attempt, the observer's look, a hold and its decision)
joins that trace whichever process, task, retry, sweeper resend or approval a day later it comes from:
the run is the one thing every path reads. A hold's decision also links to the hold's span.

The tasks open the spans (they know the run); the event sink (monitoring/events.py) fills in what each
came to with `note`. Nothing is exported unless OTEL_TRACES_EXPORTER names an exporter or an OTLP
endpoint is set; the provider is made in the process that first traces (a prefork pool process makes its
own, after the fork) and flushed when the worker shuts down warm.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from celery.exceptions import Retry
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Link, Span, SpanContext, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger("triage")

TRACER_NAME = "triage"
_PROPAGATOR = TraceContextTextMapPropagator()
_lock = threading.Lock()
_configured: dict[str, Any] = {"pid": None, "provider": None}


class TracingMisconfigured(ValueError):
    """The OTEL_* variables name an exporter or protocol this system cannot export with."""


def exporters_from(env: Mapping[str, str]) -> list[SpanExporter]:
    """The span exporters the OTEL_* variables ask for: OTEL_TRACES_EXPORTER (otlp, console, none; by
    default otlp when an OTLP endpoint is set, else none) and OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL (grpc
    or http/protobuf, the default). The OTLP exporters read their endpoint and headers themselves."""
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    names = [n.strip() for n in env.get("OTEL_TRACES_EXPORTER", "otlp" if endpoint else "none").split(",")]
    found: list[SpanExporter] = []
    for name in filter(None, names):
        if name == "none":
            continue
        if name == "console":
            found.append(ConsoleSpanExporter())
        elif name == "otlp":
            found.append(_otlp(env))
        else:
            raise TracingMisconfigured(f"OTEL_TRACES_EXPORTER: {name!r} is not one of otlp, console, none")
    return found


def _otlp(env: Mapping[str, str]) -> SpanExporter:
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Grpc

        return Grpc()
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http

        return Http()
    raise TracingMisconfigured(f"OTEL_EXPORTER_OTLP_PROTOCOL: {protocol!r} is not grpc or http/protobuf")


def start(env: Mapping[str, str] | None = None) -> bool:
    """Make this process's tracer provider from the OTEL_* variables, once per process (after a fork, the
    child makes its own); whether spans are exported. A misconfiguration is logged, and nothing traced."""
    with _lock:
        if _configured["pid"] == os.getpid():
            return _configured["provider"] is not None
        _configured["pid"] = os.getpid()
        try:
            exporters = exporters_from(os.environ if env is None else env)
        except TracingMisconfigured as exc:
            log.error("tracing off: %s", exc)
            exporters = []
        if not exporters:
            _configured["provider"] = None
            return False
        provider = TracerProvider(resource=Resource.create({"service.name": _service_name(env)}))
        for exporter in exporters:
            provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)  # the LLM client's GenAI spans use the global provider
        _configured["provider"] = provider
        return True


def install(provider: TracerProvider | None) -> None:
    """Trace this process with `provider` (a test's in-memory one, an application's own) instead of the
    OTEL_* variables' choice; None: trace nothing."""
    with _lock:
        _configured["pid"], _configured["provider"] = os.getpid(), provider
    if provider is not None:
        trace.set_tracer_provider(provider)  # once per process: the first provider installed stays global


def _service_name(env: Mapping[str, str] | None) -> str:
    return (os.environ if env is None else env).get("OTEL_SERVICE_NAME") or "triage"


FLUSH_MS = 5000  # a receiver that is down must not hold a warm shutdown for the SDK's 30 s


def flush() -> None:
    """Export what this process's spans hold now (a warm shutdown; a test that reads the receiver)."""
    provider = _configured["provider"]
    if provider is not None and _configured["pid"] == os.getpid():
        provider.force_flush(timeout_millis=FLUSH_MS)


def _tracer() -> trace.Tracer | None:
    start()
    provider = _configured["provider"]
    return provider.get_tracer(TRACER_NAME) if provider is not None else None


def _context_of(traceparent: str | None) -> otel_context.Context | None:
    if not traceparent:
        return None
    return _PROPAGATOR.extract({"traceparent": traceparent})


def _span_context(traceparent: str) -> SpanContext | None:
    parent = _context_of(traceparent)
    found = trace.get_current_span(parent).get_span_context() if parent is not None else None
    return found if found is not None and found.is_valid else None


def traceparent_of(span: Span) -> str | None:
    """The W3C traceparent naming this span (None for a span that is not recorded)."""
    if not span.get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, trace.set_span_in_context(span))
    return carrier.get("traceparent")


def _attributes(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The span attributes of these fields: `triage.` before each name, None left out, lists kept."""
    return {
        name if "." in name else f"triage.{name}": value
        if isinstance(value, (bool, int, float, str, list))
        else str(value)
        for name, value in fields.items()
        if value is not None
    }


@contextmanager
def span(
    name: str, parent: str | None = None, links: Sequence[str | None] = (), **fields: Any
) -> Iterator[str | None]:
    """A span named `name`, current while the block runs: a child of the span the `parent` traceparent
    names (a new trace's root without one), linked to each span of `links`, with `fields` as its
    attributes (triage.<name>). Yields its traceparent; None, and no span, when tracing is off. A Celery
    retry leaving the block is no error; any other exception marks the span failed (its type only)."""
    tracer = _tracer()
    if tracer is None:
        yield None
        return
    linked = [Link(found) for found in map(_span_context, filter(None, links)) if found is not None]
    parent_context = _context_of(parent) or otel_context.Context()  # no parent: a root, never the caller's
    with tracer.start_as_current_span(
        name,
        context=parent_context,
        links=linked,
        attributes=_attributes(fields),
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield traceparent_of(current)
        except Retry:
            raise
        except BaseException as exc:
            current.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def note(**fields: Any) -> None:
    """Add attributes to the current span (what a step, a plan or an ingest came to); nothing without
    one. Called by the event sink."""
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes(_attributes(fields))


def failed(why: str) -> None:
    """Mark the current span failed: `why` is a kind, never mail text."""
    current = trace.get_current_span()
    if current.is_recording():
        current.set_status(Status(StatusCode.ERROR, why))
