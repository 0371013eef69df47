"""The settings of tracing that are this system's own (TRIAGE_TRACE_*), part of Settings. Where spans go
is said by OpenTelemetry's standard variables (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME), read by monitoring/tracing.py."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings


class TraceSettings(BaseSettings):
    """What a trace may hold, and where a person looks at one; workers/settings.py's Settings has these."""

    trace_content: bool = Field(
        False,
        description="put mail text in spans (subjects, senders, the model's messages and answers): on "
        "only where the trace store may hold customers' mail",
    )
    trace_url_template: str | None = Field(
        None,
        description="address of a trace in your trace viewer, {trace_id} standing for its id; the "
        "console's run page links there (e.g. http://phoenix:6006/projects/UHJvamVjdDox/traces/{trace_id})",
    )

    @field_validator("trace_url_template")
    @classmethod
    def _names_the_trace(cls, value: str | None) -> str | None:
        if value is not None and "{trace_id}" not in value:
            raise ValueError("must contain {trace_id}, where the trace's id goes")
        return value or None

    def trace_url(self, trace_id: str | None) -> str | None:
        """The address of this trace in the trace viewer; None without a template or a trace."""
        if self.trace_url_template is None or trace_id is None:
            return None
        return self.trace_url_template.replace("{trace_id}", trace_id)
