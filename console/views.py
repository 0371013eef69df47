"""What the console shows, read from the store: runs found by a filter, one run in full, the queues.
Each read takes `within`, the mailboxes the caller is limited to (None: all): what came to another
mailbox is not shown, not counted and, asked for by its id, not found."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import HTTPException

from agent.autonomy import Decision, Hold
from agent.run import Delivery, Run, RunStatus, now
from agent.run_summary import category_of
from agent.store import RunStore
from agent.store.run_listing import Within, sees
from inbox.preview import PREVIEW_BYTES, Preview, preview
from tools.incident_port import Incident

PAGE = 50
_BATCH = 250
SCAN_LIMIT = 5000  # runs a search reads at most, newest first; narrow by date to reach older ones


@dataclass(frozen=True)
class RunFilter:
    """Which runs a person asks for: by status, category, mailbox, creation time (from `since` up to
    `until`), and a search of the id, sender, subject, Message-ID and issue key."""

    status: RunStatus | None = None
    category: str | None = None
    mailbox: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""
    within: Within = None

    def matches(self, run: Run) -> bool:
        """True when the run is one the filter asks for (the dates are applied by the store)."""
        if not sees(self.within, run.ticket.mailbox):
            return False
        if self.status and run.status != self.status:
            return False
        if self.category and category_of(run) != self.category:
            return False
        if self.mailbox and run.ticket.mailbox != self.mailbox:
            return False
        needle = self.text.strip().casefold()
        haystack = (run.id, run.ticket.sender, run.ticket.subject, run.ticket.message_id, *run.issue_keys())
        return not needle or any(needle in value.casefold() for value in haystack)


@dataclass(frozen=True)
class Found:
    """A page of runs, whether there are more, and whether the search stopped at SCAN_LIMIT."""

    runs: list[Run]
    more: bool
    scanned_all: bool


def find_runs(store: RunStore, wanted: RunFilter, offset: int = 0, page: int = PAGE) -> Found:
    """The runs matching the filter, newest first, `page` of them after skipping `offset` matches."""
    newest = wanted.until.timestamp() if wanted.until else float("inf")
    oldest = wanted.since.timestamp() if wanted.since else 0.0
    matched: list[Run] = []
    scanned, batch = 0, _BATCH
    while scanned < SCAN_LIMIT:
        runs = store.runs.page(newest, oldest, scanned, batch)
        scanned += batch
        matched.extend(r for r in runs if wanted.matches(r))
        if len(matched) > offset + page or len(runs) < batch:
            return Found(matched[offset : offset + page], len(matched) > offset + page, True)
    return Found(matched[offset : offset + page], len(matched) > offset + page, False)


@dataclass(frozen=True)
class RunPage:
    """One run in full, with what people decided about it and what the audit trail says of it."""

    run: Run
    hold: Hold | None
    decision: Decision | None
    audit: list[dict[str, Any]] = field(default_factory=list)
    issue_links: dict[str, str] = field(default_factory=dict)


def run_page(store: RunStore, run_id: str, jira_url: str | None, within: Within = None) -> RunPage | None:
    """Everything the console shows about one run, or None when there is no such run (to be seen)."""
    run = visible_run(store, run_id, within)
    if run is None:
        return None
    links = {}
    for state in run.steps.values():
        key = (state.result or {}).get("issue_key")
        if isinstance(key, str) and jira_url and (state.result or {}).get("dry_run") is False:
            links[key] = f"{jira_url.rstrip('/')}/browse/{key}"
    audit = [e for e in store.operations.audit_trail(500) if e.get("run") == run_id]
    return RunPage(run, store.reviews.held(run_id), store.reviews.decision(run_id), audit, links)


def visible_run(store: RunStore, run_id: str, within: Within = None) -> Run | None:
    """The run, or None when there is none or it came to a mailbox outside `within`."""
    run = store.runs.get(run_id)
    return run if run is not None and sees(within, run.ticket.mailbox) else None


def visible_delivery(store: RunStore, delivery_id: str, within: Within = None) -> Delivery | None:
    """The delivery record, or None when there is none or it came to a mailbox outside `within`."""
    delivery = store.deliveries.get(delivery_id)
    return delivery if delivery is not None and sees(within, delivery.mailbox) else None


def review_queue(store: RunStore, within: Within = None) -> list[tuple[Hold, Run | None]]:
    """The holds waiting for a person, oldest first, each with its run."""
    held = [(hold, store.runs.get(hold.run_id)) for hold in store.reviews.waiting()]
    return [(h, r) for h, r in held if within is None or (r is not None and sees(within, r.ticket.mailbox))]


def quarantined_mail(
    store: RunStore, delivery_id: str, within: Within = None
) -> tuple[Delivery, Preview | None] | None:
    """A message's delivery record and the safe preview of its kept bytes (None once they are gone)."""
    delivery = visible_delivery(store, delivery_id, within)
    if delivery is None:
        return None
    head = store.deliveries.raw_head(delivery_id, PREVIEW_BYTES + 1)
    return delivery, preview(head, len(head)) if head else None


def quarantined(store: RunStore, page_no: int = 0, within: Within = None) -> tuple[list[Delivery], bool]:
    """A page of the quarantined messages, newest first, and whether older ones follow (a stranger can
    fill the quarantine: no page lists all of it, and a limited caller's search reads SCAN_LIMIT)."""
    start = max(0, page_no) * PAGE
    if within is None:
        return store.deliveries.quarantined_page(start, PAGE)
    matched = _quarantined_within(store, within, start + PAGE + 1)
    return matched[start : start + PAGE], len(matched) > start + PAGE


def _quarantined_within(store: RunStore, within: frozenset[str], wanted: int) -> list[Delivery]:
    """The newest quarantined messages of the mailboxes `within`, up to `wanted` of them."""
    matched: list[Delivery] = []
    for offset in range(0, SCAN_LIMIT, _BATCH):
        batch, more = store.deliveries.quarantined_page(offset, _BATCH)
        matched.extend(d for d in batch if d.mailbox in within)
        if len(matched) >= wanted or not more:
            break
    return matched[:wanted]


LIVE_WINDOW_S = 24 * 3600  # the live view counts the runs of the last day


def live(store: RunStore, within: Within = None) -> dict[str, Any]:
    """What the live view shows and refreshes: the runs of the last day by status, the review queue's
    size and its oldest hold's age, dead letters and quarantine (a limited caller's, counted from the
    lists: at most SCAN_LIMIT quarantined messages are read)."""
    runs = store.runs.status_counts(time.time() - LIVE_WINDOW_S, within=within)
    if within is None:
        state = store.health.state_counts()
        queue, oldest = state["review_queue"], state["review_oldest_age_s"]
        dead, held = state["dead_letters"], state["quarantined"]
    else:
        holds = [hold for hold, _ in review_queue(store, within)]
        queue = len(holds)
        oldest = (time.time() - holds[0].held_at.timestamp()) if holds else 0.0
        dead = len(store.runs.dead_letters(within))
        held = len(_quarantined_within(store, within, SCAN_LIMIT))
    return {
        "window_s": LIVE_WINDOW_S,
        "runs": runs,
        "review_queue": queue,
        "review_oldest_age_s": round(oldest, 1),
        "dead_letters": dead,
        "quarantined": held,
    }


def incidents(store: RunStore, days: int, within: Within = None) -> list[Incident]:
    """Incidents with a report in the last `days`, latest first; for a limited caller, those with a
    report to one of their mailboxes, showing only those reports."""
    found = store.incidents.recent(now() - timedelta(days=min(max(days, 1), 366)), 200)
    if within is None:
        return found
    mailbox = store.runs.mailboxes_of({m.ticket_id for i in found for m in i.members})
    shown = [
        i.model_copy(update={"members": [m for m in i.members if mailbox.get(m.ticket_id) in within]})
        for i in found
    ]
    return [i for i in shown if i.members]


def require_run(store: RunStore, run_id: str, within: Within) -> None:
    """For a caller limited to mailboxes, 404 unless the run is in one of them (another mailbox's run
    answers as if it did not exist); the action itself says what it makes of a run that is gone."""
    if within is not None and visible_run(store, run_id, within) is None:
        raise HTTPException(404, f"no run {run_id[:100]}")


def require_delivery(store: RunStore, delivery_id: str, within: Within) -> None:
    """For a caller limited to mailboxes, 404 unless the mail came to one of them."""
    if within is not None and visible_delivery(store, delivery_id, within) is None:
        raise HTTPException(404, f"no mail {delivery_id[:100]}")
