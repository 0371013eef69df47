"""Named events of the pipeline: each writes one log line and records its metrics.

A hook that fails logs the failure and never fails the task it observes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from monitoring import metrics, tracing
from tools.llm import Usage

log = logging.getLogger("triage")


@contextmanager
def _never_fail(event: str) -> Iterator[None]:
    try:
        yield
    except Exception:
        log.exception("monitoring hook %s failed", event)


def _line(event: str, level: int = logging.INFO, **fields: object) -> None:
    if log.isEnabledFor(level):
        text = event + " " + " ".join(f"{k}={v}" for k, v in fields.items())
        log.log(level, text, extra={"fields": fields})


def message_ingested(
    delivery_id: str, outcome: str, run_id: str | None, reason: str | None, mailbox: str
) -> None:
    """An inbound message to `mailbox` got its outcome."""
    with _never_fail("message_ingested"):
        metrics.MESSAGES_INGESTED.labels(outcome, mailbox).inc()
        tracing.note(outcome=outcome, run_id=run_id, ticket_id=run_id, mailbox=mailbox)
        _line(
            "ingest",
            delivery=delivery_id,
            outcome=outcome,
            run=run_id or "-",
            mailbox=mailbox,
            reason=reason or "-",
        )


def run_deferred(run_id: str, limit: int) -> None:
    """A run waits: its sender started more than `limit` runs this hour (the sweeper plans it later)."""
    with _never_fail("run_deferred"):
        metrics.RUNS_DEFERRED.inc()
        _line("deferred", run=run_id, reason=f"sender over {limit} runs an hour")


def message_not_stored(source: str, size: int) -> None:
    """Redis refused a message's bytes for want of memory; it was quarantined by reference."""
    with _never_fail("message_not_stored"):
        metrics.MESSAGES_NOT_STORED.inc()
        log.warning("ingest not-stored source=%s bytes=%d reason=no room in redis", source, size)


def plan_made(run_id: str, planner: str, steps: int, notes: list[str] | None = None) -> None:
    """A run got its plan."""
    with _never_fail("plan_made"):
        metrics.PLANS.labels(planner).inc()
        tracing.note(planner=planner, steps=steps)
        _line("plan", run=run_id, planner=planner, steps=steps, notes=" | ".join(notes or []) or "-")


def plan_observed(run_id: str, outcome: str, added: list[tuple[str, str]], notes: list[str]) -> None:
    """The planner looked at a run's results: what it added (step id, tool), or why nothing."""
    with _never_fail("plan_observed"):
        metrics.PLAN_OBSERVATIONS.labels(outcome).inc()
        tracing.note(outcome=outcome, added=[tool for _, tool in added])
        for _, tool in added:
            metrics.OBSERVED_STEPS.labels(tool).inc()
        _line(
            "observe",
            run=run_id,
            outcome=outcome,
            added=",".join(s for s, _ in added) or "-",
            notes=" | ".join(notes) or "-",
        )


def llm_used(purpose: str, usage: Usage) -> None:
    """LLM calls were made for a purpose (plan, analysis): tokens, cost, latency, repairs."""
    with _never_fail("llm_used"):
        if usage.calls:
            metrics.LLM_CALLS.labels(purpose).inc(usage.calls)
            metrics.LLM_TOKENS.labels(purpose, "prompt").inc(usage.prompt_tokens)
            metrics.LLM_TOKENS.labels(purpose, "completion").inc(usage.completion_tokens)
            metrics.LLM_COST.labels(purpose).inc(usage.cost_usd)
            metrics.LLM_LATENCY.labels(purpose).observe(usage.latency_s / usage.calls)
        metrics.PLAN_REPAIRS.inc(usage.repairs)


def model_disagreed(run_id: str, field: str) -> None:
    """The model said otherwise than the offline tools of a run's field; the offline answer stood."""
    with _never_fail("model_disagreed"):
        metrics.LLM_DISAGREEMENTS.labels(field).inc()
        _line("disagreement", run=run_id, field=field)


def step_attempted(
    run_id: str, ticket_id: str, step: str, tool: str, attempt: int, outcome: str, elapsed_s: float
) -> None:
    """A tool step attempt ended: success, skipped, retry, waiting or dead_letter. A success is logged at
    DEBUG: a run's plan and its end are logged at INFO, the metrics count every step and `triage show`
    has each; what went wrong (or waits) is logged at INFO."""
    with _never_fail("step_attempted"):
        metrics.TOOL_CALLS.labels(tool, outcome).inc()
        tracing.note(outcome=outcome, attempt=attempt)
        if outcome in ("retry", "dead_letter"):
            tracing.failed(outcome)
        metrics.TOOL_DURATION.labels(tool).observe(elapsed_s)
        level = logging.DEBUG if outcome == "success" else logging.INFO
        _line(
            "step",
            level,
            run=run_id,
            ticket=ticket_id,
            step=step,
            tool=tool,
            attempt=attempt,
            outcome=outcome,
            elapsed=f"{elapsed_s:.3f}s",
        )


def correction_met(run_id: str, outcome: str, source: str) -> None:
    """A person's category for a like ticket met this ticket's categorizing: applied or flagged."""
    with _never_fail("correction_met"):
        metrics.CORRECTION_OVERRIDES.labels(outcome).inc()
        _line("correction-met", run=run_id, outcome=outcome, source=source)


def corrections_read_back(issues: int, corrected: list[tuple[str, str, str, str]]) -> None:
    """The read-back compared `issues` changed issues with what this system set; `corrected` holds the
    new corrections as (issue key, field, was, now)."""
    with _never_fail("corrections_read_back"):
        for issue_key, field, was, now in corrected:
            metrics.CORRECTIONS.labels(field).inc()
            _line("correction", issue=issue_key, field=field, was=was, now=now)
        _line("read-back", issues=issues, corrections=len(corrected))


def incident_progress(run_id: str, incident_id: str | None, opened: bool, linked: list[str]) -> None:
    """A ticket's incident step ended: it opened an incident, joined one, or found none."""
    with _never_fail("incident_progress"):
        if opened:
            metrics.INCIDENTS_OPENED.inc()
        metrics.INCIDENT_LINKS.inc(len(linked))
        if incident_id is not None:
            level = logging.WARNING if opened else logging.INFO
            log.log(
                level,
                "incident %s run=%s incident=%s linked=%s",
                "opened" if opened else "joined",
                run_id,
                incident_id,
                ",".join(linked) or "-",
            )


def mailbox_polled(source: str, mailbox: str, ok: bool, count: int, error: str | None = None) -> None:
    """A poll of `mailbox` (read from `source`) ended; failures are logged as warnings (alerts watch the
    health in Redis)."""
    with _never_fail("mailbox_polled"):
        metrics.MAILBOX_POLLS.labels("success" if ok else "failure", mailbox).inc()
        if ok:
            _line("poll", source=source, outcome="success", messages=count)
        else:
            fields = {"source": source, "outcome": "failure", "error": error or "-"}
            log.warning("poll " + " ".join(f"{k}={v}" for k, v in fields.items()), extra={"fields": fields})


def run_held(run_id: str, mode: str, rules: tuple[str, ...]) -> None:
    """The autonomy policy held a run for a person before its first side effect."""
    with _never_fail("run_held"):
        metrics.RUNS_HELD.labels(mode).inc()
        tracing.note(mode=mode, rules=list(rules))
        _line("hold", run=run_id, mode=mode, rules=",".join(rules))


def review_decided(run_id: str, action: str, by: str) -> None:
    """A person (or the timeout) decided on a held run."""
    with _never_fail("review_decided"):
        metrics.REVIEWS_DECIDED.labels(action, "timeout" if by.startswith("policy:") else "person").inc()
        tracing.note(action=action, by_timeout=by.startswith("policy:"))
        _line("review", run=run_id, action=action, by=by)


def run_finished(
    run_id: str, status: str, elapsed_s: float, error: str | None = None, mailbox: str = "default"
) -> None:
    """A run of a mailbox reached its final status."""
    with _never_fail("run_finished"):
        metrics.RUNS_FINISHED.labels(status, mailbox).inc()
        tracing.note(**{"triage.run.status": status})
        metrics.RUN_DURATION.observe(elapsed_s)
        emit: Callable[..., None] = log.warning if status != "done" else log.info
        fields = {"run": run_id, "status": status, "elapsed": f"{elapsed_s:.3f}s", "error": error or "-"}
        emit("finish " + " ".join(f"{k}={v}" for k, v in fields.items()), extra={"fields": fields})
