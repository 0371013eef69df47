"""Planners turn a Ticket into a Plan. The rule planner is the default and the fallback."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from agent.memory.recall import Recall
from agent.plan import REF, Plan, Step
from inbox.ticket import Ticket
from tools.llm import Usage

PlannerName = Literal["rule", "llm", "fallback"]
# The rule planner raises the urgency of a customer's issue one step on their third ticket within 7 days.
REPEAT_CONTACTS = 3
REPEAT_WINDOW = timedelta(days=7)


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

    def make_plan(self, ticket: Ticket, recall: Recall | None = None) -> Planned:
        """Write a plan for this ticket, knowing what memory recalled of it (if anything)."""
        ...


def _ticket(name: str) -> dict[str, str]:
    return {REF: f"ticket.{name}"}


def _result(step: str, name: str) -> dict[str, str]:
    return {REF: f"steps.{step}.{name}"}


class RulePlanner:
    """New ticket: categorize and extract (in parallel), then open an issue, then (with memory on)
    remember the ticket with what was found and (with incidents on too) link it to an incident.
    Reply: comment on the issue."""

    def __init__(
        self, remember: bool = False, incidents: bool = False, acknowledge: bool = False, draft: bool = False
    ) -> None:
        self.remember = remember
        self.incidents = remember and incidents
        self.acknowledge = acknowledge
        self.draft = draft

    def most_steps(self) -> int:
        """The most steps a plan of these rules has: a new ticket's with files to attach (categorize,
        extract, issue, attach, and each of remember, incident, draft, acknowledge that is on)."""
        return 4 + sum((self.remember, self.incidents, self.draft, self.acknowledge))

    def make_plan(self, ticket: Ticket, recall: Recall | None = None) -> Planned:
        """The fixed plan for this kind of message; a customer's REPEAT_CONTACTS-th ticket within
        REPEAT_WINDOW (by memory's history) raises the urgency of their issue one step."""
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
            steps += _attach(ticket, "comment")
            if self.remember:
                reply = {"reply_ticket_id": _ticket("id"), "parent_ticket_id": _ticket("thread_of")}
                steps.append(Step(id="remember_reply", tool="remember_reply", args=reply))
            rationale = "reply to an existing ticket: comment on its issue" + (
                ", remember" if self.remember else ""
            )
            rationale += ", attach its files" if any(s.tool == "attach_files" for s in steps) else ""
            return Planned(Plan(steps=steps, rationale=rationale), "rule")
        text = {"subject": _ticket("subject"), "body": _ticket("body")}
        raised = _repeat_contact(recall)
        everything = {**text, "signature": _ticket("signature"), "sender_name": _ticket("sender_name")}
        corrections = {"corrections": {REF: "recall.corrections"}} if self.remember else {}
        steps = [
            Step(id="categorize", tool="categorize_ticket", args={**everything, **corrections}),
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
                    "language": _ticket("language"),
                    "evidence": _result("extract", "evidence"),
                    "attachments": _ticket("attachments"),
                    "participants": _ticket("cc"),
                    **({"raise_urgency": 1} if raised else {}),
                },
            ),
        ]
        if self.remember:
            steps.append(Step(id="remember", tool="remember_ticket", args=_remember_args()))
        if self.incidents:
            steps.append(Step(id="incident", tool="link_incident", args=_incident_args()))
        steps += _attach(ticket, "create_issue")
        if self.draft:
            steps.append(Step(id="draft", tool="draft_reply", args=DRAFT_ARGS))
        if self.acknowledge:
            steps.append(Step(id="acknowledge", tool="acknowledge", args=ACKNOWLEDGE_ARGS))
        rationale = "new ticket: categorize, extract, open an issue" + (", remember" if self.remember else "")
        rationale += ", link to an incident" if self.incidents else ""
        rationale += ", attach its files" if any(s.tool == "attach_files" for s in steps) else ""
        rationale += ", draft an answer" if self.draft else ""
        rationale += ", acknowledge" if self.acknowledge else ""
        rationale += f"; urgency raised one step: {raised}" if raised else ""
        return Planned(Plan(steps=steps, rationale=rationale), "rule")


def _repeat_contact(recall: Recall | None) -> str | None:
    """Why the urgency goes up (this is the customer's REPEAT_CONTACTS-th ticket within REPEAT_WINDOW),
    or None."""
    if recall is None:
        return None
    recent = [c for c in recall.history if c.seen_at >= datetime.now(UTC) - REPEAT_WINDOW]
    if len(recent) + 1 < REPEAT_CONTACTS:
        return None
    return f"contact {len(recent) + 1} from this customer within {REPEAT_WINDOW.days} days"


# The acknowledgement answers the ticket's own sender about its own message: plan policy allows no other.
ACKNOWLEDGE_ARGS: dict[str, object] = {
    "to": _ticket("sender"),
    "name": _result("extract", "customer_name"),
    "subject": _ticket("subject"),
    "message_id": _ticket("message_id"),
    "issue_key": _result("create_issue", "issue_key"),
    "category": _result("categorize", "category"),
    "language": _ticket("language"),
}


def _attach(ticket: Ticket, issue_step: str) -> list[Step]:
    """The step that attaches the ticket's files to the issue `issue_step` made or commented on, when
    any of them may go there."""
    if not any(a.refused is None for a in ticket.attachments):
        return []
    return [Step(id="attach", tool="attach_files", args={"issue_key": _result(issue_step, "issue_key")})]


DRAFT_ARGS: dict[str, object] = {
    "subject": _ticket("subject"),
    "body": _ticket("body"),
    "issue_key": _result("create_issue", "issue_key"),
    "language": _ticket("language"),
    "similar": {REF: "recall.similar"},
}


def _incident_args() -> dict[str, object]:
    return {
        "ticket_id": _ticket("id"),
        "subject": _ticket("subject"),
        "body": _ticket("body"),
        "sender": _ticket("sender"),
        "issue_key": _result("create_issue", "issue_key"),
        "remembered": _result("remember", "remembered"),
    }


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
