"""What the console shows, read from the store: runs found by a filter, one run in full, the queues."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.autonomy import Decision, Hold
from agent.run import Delivery, Run, RunStatus
from agent.run_summary import category_of
from agent.store import RunStore
from inbox.preview import PREVIEW_BYTES, Preview, preview

PAGE = 50
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

    def matches(self, run: Run) -> bool:
        """True when the run is one the filter asks for (the dates are applied by the store)."""
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
    scanned, batch = 0, 250
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


def run_page(store: RunStore, run_id: str, jira_url: str | None) -> RunPage | None:
    """Everything the console shows about one run, or None when there is no such run."""
    run = store.runs.get(run_id)
    if run is None:
        return None
    links = {}
    for state in run.steps.values():
        key = (state.result or {}).get("issue_key")
        if isinstance(key, str) and jira_url and (state.result or {}).get("dry_run") is False:
            links[key] = f"{jira_url.rstrip('/')}/browse/{key}"
    audit = [e for e in store.operations.audit_trail(500) if e.get("run") == run_id]
    return RunPage(run, store.reviews.held(run_id), store.reviews.decision(run_id), audit, links)


def review_queue(store: RunStore) -> list[tuple[Hold, Run | None]]:
    """The holds waiting for a person, oldest first, each with its run."""
    return [(hold, store.runs.get(hold.run_id)) for hold in store.reviews.waiting()]


def quarantined_mail(store: RunStore, delivery_id: str) -> tuple[Delivery, Preview | None] | None:
    """A message's delivery record and the safe preview of its kept bytes (None once they are gone)."""
    delivery = store.deliveries.get(delivery_id)
    if delivery is None:
        return None
    head = store.deliveries.raw_head(delivery_id, PREVIEW_BYTES + 1)
    return delivery, preview(head, len(head)) if head else None


def quarantined(store: RunStore, page_no: int = 0) -> tuple[list[Delivery], bool]:
    """A page of the quarantined messages, newest first, and whether older ones follow (a stranger can
    fill the quarantine: no page lists all of it)."""
    return store.deliveries.quarantined_page(max(0, page_no) * PAGE, PAGE)


LIVE_WINDOW_S = 24 * 3600  # the live view counts the runs of the last day


def live(store: RunStore) -> dict[str, Any]:
    """What the live view shows and refreshes: the runs of the last day by status, the review queue's
    size and its oldest hold's age, dead letters and quarantine."""
    state = store.health.state_counts()
    return {
        "window_s": LIVE_WINDOW_S,
        "runs": store.runs.status_counts(time.time() - LIVE_WINDOW_S),
        "review_queue": state["review_queue"],
        "review_oldest_age_s": round(state["review_oldest_age_s"], 1),
        "dead_letters": state["dead_letters"],
        "quarantined": state["quarantined"],
    }
