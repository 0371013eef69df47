"""Which thread a message belongs to, decided on facts a stranger cannot forge cheaply.

Message-IDs leak: every customer's mail carries its own and the ones it answers. So a reply joins a
thread only when its sender is the thread's customer (the same address, or with TRIAGE_THREAD_MATCH=domain
the same domain), and a Message-ID seen before counts as a duplicate only when sender and text match.
A mail without thread headers (a new mail that keeps "[SUP-6]" in its subject, as the acknowledgement
asks) joins the issue its subject names under the same rule. An issue made in dry-run mode (DRY-6) is
joined only while the system is still in dry-run mode: Jira never had it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Protocol

from agent.store.deliveries import Deliveries
from agent.store.runs import Runs
from inbox.ticket import Ticket
from tools.mail_out import ticket_of_acknowledgement

ThreadMatch = Literal["address", "domain"]
DRY_RUN_PROJECT = "DRY"  # the key prefix of issues made in dry-run mode (tools/jira_issue.py)


@dataclass(frozen=True)
class ThreadRules:
    """How replies are told: the customer rule, the Jira project whose keys a subject may name, and
    whether issues go to a real Jira (then a dry-run issue cannot be commented on)."""

    match: ThreadMatch = "address"
    project: str = "SUP"
    jira: bool = False

    def subject_key(self, subject: str) -> str | None:
        """The first issue key of this system in a subject ([SUP-6], AW: [SUP-6] ..., RE: SUP-6 ...)."""
        projects = "|".join(re.escape(p) for p in dict.fromkeys((self.project.upper(), DRY_RUN_PROJECT)))
        found = re.search(
            rf"(?<![A-Za-z0-9-])(?:{projects})-[1-9][0-9]{{0,9}}(?![A-Za-z0-9-])", subject[:1000]
        )
        return found.group(0) if found else None


class ThreadReads(Protocol):
    """What deciding a thread reads from the store: its deliveries and runs."""

    deliveries: Deliveries
    runs: Runs


@dataclass(frozen=True)
class Thread:
    """What a message's reply headers lead to: the root ticket it may join, or why it may not."""

    root: str | None
    refused: str | None = None  # the reason a claimed thread was not joined
    how: str = ""  # how it was found, when not by the reply headers: " (by SUP-6 in the subject)"


def same_customer(a: str, b: str, match: ThreadMatch) -> bool:
    """True when two sender addresses are the same customer under the configured rule."""
    a, b = a.strip().lower(), b.strip().lower()
    if match == "domain":
        return a.rpartition("@")[2] == b.rpartition("@")[2] != ""
    return a == b != ""


def same_message(first: Ticket, again: Ticket) -> bool:
    """True when a second delivery under a known Message-ID is the same message (a redelivery, a copy
    in another folder), not another message that borrowed the id."""
    return (first.sender, first.subject, first.body) == (again.sender, again.subject, again.body)


def ticket_of_delivery(store: ThreadReads, delivery_id: str | None) -> Ticket | None:
    """The ticket a delivery became, if it became one."""
    delivery = store.deliveries.get(delivery_id) if delivery_id else None
    if delivery is None or not delivery.run_id or delivery.outcome not in ("ticket", "threaded"):
        return None
    run = store.runs.get(delivery.run_id)
    return run.ticket if run is not None else None


def find_thread(store: ThreadReads, ticket: Ticket, rules: ThreadRules) -> Thread:
    """The root ticket this message continues, by its reply headers or else by the issue key in its
    subject; refused (with the reason) when the thread belongs to another customer, or its issue was
    made in dry-run mode and Jira does not have it."""
    for message_id in ticket.in_reply_to:
        parent = ticket_of_delivery(store, store.deliveries.message_owner(message_id))
        if parent is None and (acknowledged := ticket_of_acknowledgement(message_id)) is not None:
            run = store.runs.get(acknowledged)  # a reply to the system's acknowledgement of that ticket
            parent = run.ticket if run is not None else None
        if parent is not None:
            return _join(store, parent.thread_of or parent.id, ticket, rules, "")
    if (key := rules.subject_key(ticket.subject)) is None:  # nothing known in the headers either
        return Thread(None)
    opener = next(
        (r for r in map(store.runs.get, store.runs.with_issue(key)) if r and not r.ticket.thread_of), None
    )
    if opener is None:
        return Thread(
            None, f"its subject names {key}, which no ticket of this system opened: a ticket of its own"
        )
    return _join(store, opener.id, ticket, rules, f" (by {key} in the subject)")


def _join(store: ThreadReads, root_id: str, ticket: Ticket, rules: ThreadRules, how: str) -> Thread:
    """Join the thread of `root_id` if the sender is its customer and its issue can take a comment."""
    root = store.runs.get(root_id)
    if ticket.sender_doubt:
        return Thread(
            None,
            f"claims to continue ticket {root_id}{how}, but its sender is not trusted: a ticket of its own",
        )
    if root is None:
        return Thread(
            None, f"claims to continue ticket {root_id}, which is no longer kept: a ticket of its own"
        )
    if not same_customer(root.ticket.sender, ticket.sender, rules.match):
        return Thread(
            None, f"claims to reply to ticket {root_id}{how} of another customer: a ticket of its own"
        )
    made = next(iter(root.issue_keys()), None)
    if rules.jira and made is not None and made.startswith(f"{DRY_RUN_PROJECT}-"):
        return Thread(
            None,
            f"replies to ticket {root_id}, whose issue {made} was made in dry-run mode and is "
            "not in Jira: a ticket of its own",
        )
    return Thread(root_id, how=how)
