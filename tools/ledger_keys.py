"""The side-effect ledger's keys, by name: the tools that write records and the erasure that removes a
ticket's records both build them here, so neither retypes the other's strings."""

from __future__ import annotations

import hashlib


def step(ticket_id: str, step_id: str) -> str:
    """A step's side effect (its idempotency key): the issue it created, the comment it posted."""
    return f"{ticket_id}:{step_id}"


def create_sent(ticket_id: str, step_id: str) -> str:
    """When a step last sent a create request whose answer it may not have seen."""
    return f"{step(ticket_id, step_id)}:create-sent"


def ack_sending(ticket_id: str, step_id: str) -> str:
    """The Message-ID an acknowledgement went out with, noted before it was handed to the server (a
    retry sends it again under the same Message-ID, which mail clients show once)."""
    return f"{step(ticket_id, step_id)}:ack-sending"


def acks_to(mailbox: str) -> str:
    """The count of acknowledgements to one mailbox within the hour (the loop guard); a hash of it."""
    return f"acks-to:{_hashed(mailbox)}"


def acks_to_domain(domain: str) -> str:
    """The count of acknowledgements to one domain within the hour; a hash of it."""
    return f"acks-to-domain:{_hashed(domain)}"


def intake_from(mailbox: str) -> str:
    """The count of runs one sender's mailbox started within the hour (TRIAGE_SENDER_MAX_PER_HOUR)."""
    return f"intake-from:{_hashed(mailbox)}"


ACKS_ALL = "acks-all"  # the count of the whole system's acknowledgements within the hour


def _hashed(text: str) -> str:
    return hashlib.sha256(text.strip().lower().encode()).hexdigest()[:32]


def jira_issue(ticket_id: str) -> str:
    """The Jira issue of a ticket (key, category, urgency as made), for replies and the read-back."""
    return f"jira-issue:{ticket_id}"


def llm_analysis(ticket_id: str) -> str:
    """The LLM's analysis of a ticket, shared by the tools that use it."""
    return f"llm-analysis:{ticket_id}"


def incident_problem(incident_id: str) -> str:
    """The problem issue of an incident (its idempotency key)."""
    return f"incident:{incident_id}:problem"


def incident_problem_sent(incident_id: str) -> str:
    """When the latest create of an incident's problem issue was sent (its answer may be lost)."""
    return f"{incident_problem(incident_id)}:create-sent"


def incident_merge_link(merged_id: str) -> str:
    """The link of a merged incident's problem issue to the problem issue of the incident kept."""
    return f"incident-merge-link:{merged_id}"


def incident_link(ticket_id: str) -> str:
    """The link of a ticket's issue to its incident's problem issue."""
    return f"incident-link:{ticket_id}"


def of_ticket(ticket_id: str) -> tuple[list[str], str]:
    """Every record of a ticket: the keys by name, and the prefix of its steps' keys."""
    return [jira_issue(ticket_id), llm_analysis(ticket_id), incident_link(ticket_id)], step(ticket_id, "")


def assistant_call(ticket_id: str, tool: str) -> str:
    """The one call of a side-effecting tool an assistant made for a ticket over MCP (its idempotency key)."""
    return f"mcp-call:{ticket_id}:{tool}"
