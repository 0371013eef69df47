"""The spans of a run: each joins the trace its mail's ingest began (monitoring/tracing.py) and names the
run, its ticket and its mailbox."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from agent.run import Run
from monitoring import tracing


def run_span(
    name: str, run: Run, links: Sequence[str | None] = (), **fields: Any
) -> AbstractContextManager[str | None]:
    """A span of this run's trace named `name` (its traceparent yielded; None with tracing off)."""
    return tracing.span(
        name,
        run.trace,
        links,
        run_id=run.id,
        ticket_id=run.ticket.id,
        mailbox=run.ticket.mailbox,
        **fields,
    )
