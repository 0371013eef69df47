"""Planners turn a Ticket into a Plan. The rule planner is the default and the fallback."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from agent.plan import REF, Plan, Step
from inbox.ticket import Ticket
from tools.llm import Usage

PlannerName = Literal["rule", "llm", "fallback"]


@dataclass(frozen=True)
class Planned:
    """A plan and who made it, with notes (repairs, fallback reasons), LLM usage and prompt version."""

    plan: Plan
    planner: PlannerName
    notes: list[str] = field(default_factory=list)
    usage: Usage | None = None
    prompt_version: str | None = None


class Planner(Protocol):
    """Anything that can plan a ticket; the plan is validated by the caller."""

    def make_plan(self, ticket: Ticket) -> Planned:
        """Write a plan for this ticket."""
        ...


def _ticket(name: str) -> dict[str, str]:
    return {REF: f"ticket.{name}"}


def _result(step: str, name: str) -> dict[str, str]:
    return {REF: f"steps.{step}.{name}"}


class RulePlanner:
    """New ticket: categorize and extract (in parallel), then open an issue, then (with memory on)
    remember the ticket with what was found. Reply: comment on the issue."""

    def __init__(self, remember: bool = False) -> None:
        self.remember = remember

    def make_plan(self, ticket: Ticket) -> Planned:
        """The fixed plan for this kind of message."""
        if ticket.thread_of:
            steps = [
                Step(
                    id="comment",
                    tool="comment_jira_issue",
                    args={
                        "parent_ticket_id": _ticket("thread_of"),
                        "body": _ticket("body"),
                        "sender": _ticket("sender"),
                    },
                )
            ]
            return Planned(
                Plan(steps=steps, rationale="reply to an existing ticket: comment on its issue"), "rule"
            )
        text = {"subject": _ticket("subject"), "body": _ticket("body")}
        everything = {**text, "signature": _ticket("signature"), "sender_name": _ticket("sender_name")}
        steps = [
            Step(id="categorize", tool="categorize_ticket", args=everything),
            Step(id="extract", tool="extract_entities", args=everything),
            Step(
                id="create_issue",
                tool="create_jira_issue",
                args={
                    **text,
                    "sender": _ticket("sender"),
                    "category": _result("categorize", "category"),
                    "urgency": _result("extract", "urgency"),
                    "customer_name": _result("extract", "customer_name"),
                    "account_id": _result("extract", "account_id"),
                },
            ),
        ]
        if self.remember:
            steps.append(Step(id="remember", tool="remember_ticket", args=_remember_args()))
        rationale = "new ticket: categorize, extract, open an issue" + (", remember" if self.remember else "")
        return Planned(Plan(steps=steps, rationale=rationale), "rule")


def _remember_args() -> dict[str, object]:
    return {
        "ticket_id": _ticket("id"),
        "subject": _ticket("subject"),
        "body": _ticket("body"),
        "sender": _ticket("sender"),
        "received_at": _ticket("received_at"),
        "category": _result("categorize", "category"),
        "urgency": _result("extract", "urgency"),
        "customer_name": _result("extract", "customer_name"),
        "account_id": _result("extract", "account_id"),
        "issue_key": _result("create_issue", "issue_key"),
    }
