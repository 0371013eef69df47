"""Turns: a new run waits in the fair share (agent/store/fair_share.py) and is planned when its turn comes
and a place among the runs in flight is free. Each run that waits sends one turn to the plan queue; a
turn that finds every place taken ends, and the run that frees a place sends the next one."""

from __future__ import annotations

import time

from agent.run import Run
from inbox.relay import relay_network
from tools.mail_out import sender_group
from workers.app import app
from workers.runtime import Runtime

PLAN_TASK = "triage.plan"  # tasks/plan.py, which builds on this module: sent by name
LEAST_IN_FLIGHT = 16
SLOTS_FRESH_S = 10.0
_slots_seen: list[float] = [0.0, 0.0]  # (when, how many) the workers' slots were last counted


UNVERIFIED = "(unverified senders)"  # the share of doubted senders whose relay is unknown


def queue_for_planning(rt: Runtime, run: Run) -> None:
    """Let a new run wait for its fair turn (in turn per mailbox, weighted by its weight in the mailboxes
    file, then per sender group, weighted by TRIAGE_DOMAIN_WEIGHTS), and send a turn to the plan queue.

    A sender whose From cannot be trusted (the ticket's sender_doubt: our mail server's DMARC verdict, or
    the header's own reading) takes the share of the network it was relayed from, not of the domain it
    wrote: a stranger who writes a thousand invented domains into From would otherwise get a thousand
    shares."""
    ticket = run.ticket
    group = sender_group(ticket.sender)
    if ticket.sender_doubt:
        group = f"relay {relay_network(ticket.relay)}" if ticket.relay else UNVERIFIED
    weight = rt.settings.domain_weights.get(group, 1.0)
    rt.store.fair.push(run.id, ticket.mailbox, group, weights=(rt.desk(ticket.mailbox).weight, weight))
    app.send_task(PLAN_TASK)


def next_run(rt: Runtime) -> str | None:
    """The run whose turn it is, now in flight; None when none waits or no place is free."""
    return rt.store.fair.take(most_in_flight(rt))


def turn_over(rt: Runtime, run_id: str) -> None:
    """A run is over, or waits for a person: its place goes to the next run waiting."""
    if rt.store.fair.release(run_id) and rt.store.fair.waiting():
        app.send_task(PLAN_TASK)


def most_in_flight(rt: Runtime) -> int:
    """TRIAGE_RUNS_IN_FLIGHT, else twice the steps the fleet's workers alive can run at once (at least
    16): enough to keep every worker busy, few enough that the backlog waits in fair order."""
    if rt.settings.runs_in_flight:
        return rt.settings.runs_in_flight
    when, slots = _slots_seen
    if time.monotonic() - when > SLOTS_FRESH_S:
        slots = rt.store.workers.execute_slots()
        _slots_seen[:] = [time.monotonic(), slots]
    return max(LEAST_IN_FLIGHT, 2 * int(slots))


def top_up(rt: Runtime) -> int:
    """The sweeper's part: free the places of runs that are over (or held) without having said so, and
    send a turn for each place free while runs wait (a turn lost with the broker's queue). How many."""
    fair = rt.store.fair
    for run_id in fair.in_flight():
        run = rt.store.runs.get(run_id)
        if run is None or run.is_final or run.status == "held":
            fair.release(run_id)
    turns = min(fair.waiting(), max(0, most_in_flight(rt) - len(fair.in_flight())))
    for _ in range(turns):
        app.send_task(PLAN_TASK)
    return turns
