"""What operators do to runs and to quarantined mail, from the CLI or the console: each action checks
that it applies, is kept in the audit trail with who did it, and sends what must run next."""

from __future__ import annotations

from agent.run import HELD_OUTCOMES
from tasks.ingest import release_quarantined
from tasks.plan import plan_run
from workers.runtime import Runtime


class Refused(Exception):
    """The action does not apply (the run is not a dead letter, the mail is not quarantined, the run is
    not held or decided already: tasks/review.py's NotDecided); says why."""


def retry_run(rt: Runtime, run_id: str, by: str, reason: str) -> list[str]:
    """Replay a dead-lettered run: its unfinished steps start afresh (done steps are kept); their ids."""
    try:
        again = rt.store.runs.reopen(run_id)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    rt.store.operations.record_audit("retry", run_id, reason, by=by, steps=again)
    plan_run.apply_async((run_id,))
    return again


def discard_run(rt: Runtime, run_id: str, by: str, reason: str) -> None:
    """Close a dead-lettered run for good."""
    try:
        rt.store.runs.discard(run_id)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    rt.store.operations.record_audit("discard", run_id, reason, by=by)


def release_mail(rt: Runtime, delivery_id: str, by: str, reason: str) -> None:
    """Send a quarantined message to be made a ticket after all. A worker parses it, never the caller (a
    message that killed an ingest worker must not take the console with it), with the size limit lifted
    for it; the delivery then says what it became, or why it is still in quarantine."""
    _quarantined(rt, delivery_id)
    if not rt.store.deliveries.raw_head(delivery_id, 1):  # kept? (without reading megabytes)
        raise Refused(f"mail {delivery_id}: its raw copy is gone (expired, or it was never stored)")
    rt.store.operations.record_audit("release", None, reason, by=by, delivery=delivery_id)
    release_quarantined.apply_async((delivery_id, by))


def drop_mail(rt: Runtime, delivery_id: str, by: str, reason: str) -> None:
    """Delete a quarantined message and its record for good."""
    _quarantined(rt, delivery_id)
    rt.store.deliveries.erase(delivery_id)
    rt.store.operations.record_audit("drop", None, reason, by=by, delivery=delivery_id)


def _quarantined(rt: Runtime, delivery_id: str) -> None:
    delivery = rt.store.deliveries.get(delivery_id)
    if delivery is None or delivery.outcome not in HELD_OUTCOMES:
        raise Refused(f"mail {delivery_id} is not in quarantine")
