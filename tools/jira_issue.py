"""create_jira_issue and comment_jira_issue: side effects that happen once, in dry-run without Jira.

Dry-run mode records the exact payload that would be sent, in the run store (as the step's result)
and in an outbox file, under a local key such as DRY-17. Nothing pretends to be Jira.
"""

from __future__ import annotations

import json
import os
from typing import Any

from pydantic import BaseModel, Field

from tools.base import RetryPolicy, ToolContext, tool
from tools.errors import RetryableToolError

_SUMMARY_MAX = 255


def issue_ledger_key(ticket_id: str) -> str:
    """Ledger key that maps a ticket to its Jira issue key, for replies to find."""
    return f"jira-issue:{ticket_id}"


def append_outbox(ctx: ToolContext, kind: str, record: dict[str, Any]) -> None:
    """Append one JSON line to the outbox file (one write, O_APPEND: lines from workers never interleave)."""
    path = ctx.config.outbox_path
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"kind": kind, "run_id": ctx.run_id, "key": ctx.idempotency_key, **record}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


class CreateIssueArgs(BaseModel):
    """What the issue is built from: the ticket and the results of earlier steps."""

    subject: str
    body: str
    sender: str
    category: str
    urgency: str = Field(pattern="^(low|medium|high)$")
    customer_name: str | None = None
    account_id: str | None = None


class IssueResult(BaseModel):
    """The issue (or comment) that exists now, and whether this call created it."""

    issue_key: str
    comment_id: str | None = None
    created: bool
    dry_run: bool
    request: dict[str, Any] = Field(description="the exact payload sent (or that would be sent)")


def build_issue_payload(args: CreateIssueArgs, ctx: ToolContext) -> dict[str, Any]:
    """The Jira REST v2 create-issue payload; project, type and priority come from configuration only."""
    subject = args.subject.strip() or "(no subject)"
    description = "\n".join(
        [
            f"From: {args.customer_name} <{args.sender}>" if args.customer_name else f"From: {args.sender}",
            f"Account: {args.account_id or 'unknown'}",
            f"Urgency: {args.urgency}",
            f"Triage run: {ctx.run_id}",
            "",
            "{quote}",
            args.body.strip() or "(empty message)",
            "{quote}",
        ]
    )
    return {
        "fields": {
            "project": {"key": ctx.config.jira_project},
            "issuetype": {"name": ctx.config.jira_issue_type},
            "summary": f"[{args.category}] {subject}"[:_SUMMARY_MAX],
            "description": description,
            "priority": {"name": ctx.config.jira_priorities[args.urgency]},
            "labels": [*ctx.config.jira_labels, f"category-{args.category}", f"triage-{ctx.ticket_id}"],
        }
    }


@tool(
    name="create_jira_issue",
    description="Open one Jira issue for the ticket, built from the ticket and the category/entity results.",
    args=CreateIssueArgs,
    result=IssueResult,
    side_effect=True,
    timeout_s=20,
    retry=RetryPolicy(max_attempts=6, base_s=2, cap_s=120),
)
def create_jira_issue(args: CreateIssueArgs, ctx: ToolContext) -> IssueResult:
    """Create the issue once: a ticket that already has an issue gets the existing one back."""
    existing = ctx.ledger.get(ctx.idempotency_key)
    if existing is not None:
        return IssueResult.model_validate({**existing, "created": False})
    payload = build_issue_payload(args, ctx)
    record = {"issue_key": f"DRY-{ctx.ledger.next_number('dry-issue')}", "dry_run": True, "request": payload}
    stored_by_us, record = ctx.ledger.claim(ctx.idempotency_key, record)
    if stored_by_us:
        ctx.ledger.claim(issue_ledger_key(ctx.ticket_id), {"issue_key": record["issue_key"]})
        append_outbox(ctx, "create_issue", {"issue_key": record["issue_key"], "request": payload})
    return IssueResult.model_validate({**record, "created": stored_by_us})


class CommentArgs(BaseModel):
    """A reply to add to the issue of an earlier ticket."""

    parent_ticket_id: str = Field(description="id of the ticket whose issue gets the comment")
    body: str
    sender: str


@tool(
    name="comment_jira_issue",
    description="Add a customer's reply as a comment to the Jira issue of the ticket it answers.",
    args=CommentArgs,
    result=IssueResult,
    side_effect=True,
    timeout_s=20,
    retry=RetryPolicy(max_attempts=8, base_s=2, cap_s=120),
)
def comment_jira_issue(args: CommentArgs, ctx: ToolContext) -> IssueResult:
    """Comment once; while the parent's issue does not exist yet, ask to be retried later."""
    existing = ctx.ledger.get(ctx.idempotency_key)
    if existing is not None:
        return IssueResult.model_validate({**existing, "created": False})
    parent = ctx.ledger.get(issue_ledger_key(args.parent_ticket_id))
    if parent is None:
        raise RetryableToolError(f"ticket {args.parent_ticket_id} has no issue yet; waiting for it")
    payload = {"body": f"Reply from {args.sender}:\n{{quote}}\n{args.body.strip()}\n{{quote}}"}
    record = {
        "issue_key": parent["issue_key"],
        "comment_id": f"DRY-C{ctx.ledger.next_number('dry-comment')}",
        "dry_run": True,
        "request": payload,
    }
    stored_by_us, record = ctx.ledger.claim(ctx.idempotency_key, record)
    if stored_by_us:
        append_outbox(ctx, "comment", {"issue_key": parent["issue_key"], "request": payload})
    return IssueResult.model_validate({**record, "created": stored_by_us})
