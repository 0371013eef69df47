"""comment_jira_issue: a customer's reply, added once as a comment to the Jira issue of the ticket it
answers (its words in a block Jira renders literally)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools import jira_client, ledger_keys, outbox
from tools.base import ToolContext, tool
from tools.errors import NotReadyYet, PermanentToolError
from tools.jira_issue import (
    JIRA_RETRY,
    JIRA_TIMEOUT_S,
    IssueResult,
    idempotency_label,
    record_issue,
    recorded_issue,
    run_link,
)
from tools.jira_text import DESCRIPTION_MAX, inline, literal


class CommentArgs(BaseModel):
    """A reply to add to the issue of an earlier ticket."""

    parent_ticket_id: str | None = Field(
        description="id of the ticket whose issue gets the comment (ticket.thread_of: set for every reply)"
    )
    body: str
    sender: str


def _parent_issue(parent_ticket_id: str, ctx: ToolContext) -> str:
    """The parent ticket's issue key; while it does not exist yet, ask to be retried."""
    recorded = ctx.ledger.get(ledger_keys.jira_issue(parent_ticket_id))
    if recorded is not None:
        return str(recorded["issue_key"])
    if not ctx.config.jira_dry_run:
        found = jira_client.find_issue_by_label(ctx.config, idempotency_label(parent_ticket_id))
        if found is not None:
            return found
    raise NotReadyYet(f"ticket {parent_ticket_id} has no issue yet; waiting for it")


@tool(
    name="comment_jira_issue",
    description="Add a customer's reply as a comment to the Jira issue of the ticket it answers.",
    args=CommentArgs,
    result=IssueResult,
    side_effect=True,
    timeout_s=JIRA_TIMEOUT_S,
    retry=JIRA_RETRY,
)
def comment_jira_issue(args: CommentArgs, ctx: ToolContext) -> IssueResult:
    """Comment once (a marker in the comment finds a comment whose response was lost)."""
    if (done := recorded_issue(ctx)) is not None:
        return done
    if args.parent_ticket_id is None:
        raise PermanentToolError("this ticket replies to no earlier ticket: there is no issue to comment on")
    issue_key = _parent_issue(args.parent_ticket_id, ctx)
    marker = f"[triage-ref {ctx.idempotency_key}]"
    quoted = literal(args.body.strip(), DESCRIPTION_MAX - 1000, run_link(ctx))
    payload = {"body": f"Reply from {inline(args.sender, 320)}:\n{quoted}\n{marker}"}
    if ctx.config.jira_dry_run:
        comment_id = f"DRY-C{ctx.ledger.next_number('dry-comment')}"
        record = {"issue_key": issue_key, "comment_id": comment_id, "dry_run": True, "request": payload}
        result = record_issue(ctx, record, created=True)
        if result.created:
            record = {"issue_key": issue_key, "request": payload}
            outbox.append(ctx.config.outbox_path, "comment", ctx.run_id, ctx.idempotency_key, record)
        return result
    with ctx.ledger.exclusive(ctx.idempotency_key, ttl_s=ctx.hard_timeout_s):
        if (done := recorded_issue(ctx)) is not None:
            return done
        existing = [cid for cid, body in jira_client.own_comments(ctx.config, issue_key) if marker in body]
        created = not existing
        comment_id = (
            existing[0] if existing else jira_client.add_comment(ctx.config, issue_key, payload["body"])
        )
        record = {"issue_key": issue_key, "comment_id": comment_id, "dry_run": False, "request": payload}
        return record_issue(ctx, record, created)
