"""Which thread a message belongs to, decided on facts a stranger cannot forge cheaply.

Message-IDs leak: every customer's mail carries its own and the ones it answers. So a reply joins a
thread only when its sender is the thread's customer (the same address, or with TRIAGE_THREAD_MATCH=domain
the same domain), and a Message-ID seen before counts as a duplicate only when sender and text match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from agent.store.deliveries import Deliveries
from agent.store.runs import Runs
from inbox.ticket import Ticket
from tools.mail_out import ticket_of_acknowledgement

ThreadMatch = Literal["address", "domain"]


class ThreadReads(Protocol):
    """What deciding a thread reads from the store: its deliveries and runs."""

    deliveries: Deliveries
    runs: Runs


@dataclass(frozen=True)
class Thread:
    """What a message's reply headers lead to: the root ticket it may join, or why it may not."""

    root: str | None
    refused: str | None = None  # the reason a claimed thread was not joined


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


def find_thread(store: ThreadReads, ticket: Ticket, match: ThreadMatch) -> Thread:
    """The root ticket this message continues, following replies back to the first ticket; refused
    (with the reason) when the thread belongs to another customer."""
    for message_id in ticket.in_reply_to:
        parent = ticket_of_delivery(store, store.deliveries.message_owner(message_id))
        if parent is None and (acknowledged := ticket_of_acknowledgement(message_id)) is not None:
            run = store.runs.get(acknowledged)  # a reply to the system's acknowledgement of that ticket
            parent = run.ticket if run is not None else None
        if parent is None:
            continue
        root_id = parent.thread_of or parent.id
        root_run = store.runs.get(root_id) if parent.thread_of else None
        customer = root_run.ticket.sender if root_run is not None else parent.sender
        if same_customer(customer, ticket.sender, match):
            return Thread(root_id)
        return Thread(None, f"claims to reply to ticket {root_id} of another customer: a ticket of its own")
    return Thread(None)
