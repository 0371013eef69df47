"""Finding any mail, whatever it became (a ticket, a reply, spam, an out-of-office, quarantine): by
Message-ID, sender, subject words, issue key, outcome and date. The command line and the console both
search with this.

Deliveries are scanned newest first in pages, bounded (SCAN_LIMIT records a search): a desk looks for
recent mail, and a search never walks the whole retention on one request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from agent.run import Delivery, DeliveryOutcome
from agent.store import RunStore
from agent.store.run_listing import Within, sees

SCAN_LIMIT = 50_000  # delivery records one search reads at most
_BATCH = 500


@dataclass(frozen=True)
class MailFilter:
    """What a mail must match (every field given; an empty filter matches all)."""

    sender: str | None = None  # the address, or a part of it: a domain, a name before the @
    words: str = ""  # every word must be in the subject, in any order, any case
    outcome: DeliveryOutcome | None = None
    mailbox: str | None = None  # the desk's name of the mailbox it came to
    issue_key: str | None = None  # the mail's run opened or commented on this issue
    message_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    within: Within = None  # the mailboxes the one who searches may see (None: all)

    def matches(self, delivery: Delivery, runs_of_issue: set[str] | None) -> bool:
        """True when the delivery is wanted (`runs_of_issue`: the runs of the filter's issue key)."""
        subject = (delivery.subject or "").lower()
        checks = [
            not self.sender or self.sender.strip().lower() in (delivery.sender or ""),
            all(word in subject for word in self.words.lower().split()),
            self.outcome is None or delivery.outcome == self.outcome,
            self.mailbox is None or delivery.mailbox == self.mailbox,
            sees(self.within, delivery.mailbox),
            runs_of_issue is None or delivery.run_id in runs_of_issue,
            not self.message_id or (delivery.message_id or "") == self.message_id.strip().strip("<>"),
        ]
        return all(checks)


@dataclass(frozen=True)
class FoundMail:
    """A page of mail that matched, newest first; `more`: a next page has some; `complete`: every
    record in the time range was read (false when the search stopped at SCAN_LIMIT)."""

    deliveries: list[Delivery]
    more: bool
    complete: bool


def find_mail(store: RunStore, wanted: MailFilter, offset: int = 0, page: int = 50) -> FoundMail:
    """The deliveries that match, newest first: `page` of them from `offset`."""
    newest = wanted.until.timestamp() if wanted.until else float("inf")
    oldest = wanted.since.timestamp() if wanted.since else float("-inf")
    runs = set(store.runs.with_issue(wanted.issue_key)) if wanted.issue_key else None
    owner = store.deliveries.message_owner(wanted.message_id.strip("<>")) if wanted.message_id else None
    if owner is not None:  # a ticket's Message-ID: one look-up (mail that became no ticket claimed none)
        found = store.deliveries.get(owner)
        hits = [found] if found is not None and wanted.matches(found, runs) else []
        return FoundMail(hits[offset : offset + page], False, True)
    matched: list[Delivery] = []
    scanned = 0
    while scanned < SCAN_LIMIT:
        batch = store.deliveries.page(newest, oldest, scanned, _BATCH)
        scanned += _BATCH
        matched.extend(d for d in batch if wanted.matches(d, runs))
        if len(matched) > offset + page or len(batch) < _BATCH:
            return FoundMail(matched[offset : offset + page], len(matched) > offset + page, True)
    return FoundMail(matched[offset : offset + page], len(matched) > offset + page, False)


ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,19}-[1-9][0-9]{0,9}$")  # SUP-6, DRY-17


def looks_like_issue_key(text: str) -> bool:
    """True for what reads as a Jira issue key (SUP-6), as people type it into a search box."""
    return ISSUE_KEY.match(text.strip().upper()) is not None
