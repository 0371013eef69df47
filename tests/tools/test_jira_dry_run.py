"""Dry-run Jira: the exact payload is recorded once, with a local key; replies wait for their issue."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tools.base import ToolContext
from tools.errors import RetryableToolError
from tools.jira_comment import comment_jira_issue
from tools.jira_issue import create_jira_issue

ARGS = {
    "subject": "Charged twice", "body": "Please refund.", "sender": "jane@example.com", "category": "billing",
    "urgency": "high", "customer_name": "Jane Doe", "account_id": "ACC12345",
}  # fmt: skip


def outbox(ctx: ToolContext) -> list[dict[str, object]]:
    """The outbox lines, without their timestamps."""
    path = ctx.config.outbox_path
    lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [{k: v for k, v in line.items() if k != "at"} for line in lines]


def test_the_payload_comes_from_configuration_and_earlier_results(ctx: ToolContext) -> None:
    result = create_jira_issue.run(ARGS, ctx)
    fields = result.request["fields"]
    assert result.dry_run and result.created and result.issue_key.startswith("DRY-")
    assert fields["project"] == {"key": "SUP"} and fields["issuetype"] == {"name": "Task"}
    assert fields["priority"] == {"name": "High"} and fields["summary"] == "[billing] Charged twice"
    assert fields["labels"] == ["triage", "category-billing", "triage-T1"]
    assert "ACC12345" in fields["description"] and "Please refund." in fields["description"]
    assert outbox(ctx) == [{"kind": "create_issue", "run_id": "T1", "key": "T1:create_issue",
                            "issue_key": result.issue_key, "request": result.request}]  # fmt: skip


def test_creating_twice_for_the_same_ticket_and_step_returns_the_same_issue(ctx: ToolContext) -> None:
    first = create_jira_issue.run(ARGS, ctx)
    again = create_jira_issue.run(ARGS, ctx)
    assert again.issue_key == first.issue_key and not again.created
    assert len(outbox(ctx)) == 1


def test_a_reply_waits_for_the_parent_issue_then_comments_once(ctx: ToolContext) -> None:
    reply = replace(ctx, run_id="T2", ticket_id="T2", step_id="comment")
    args = {"parent_ticket_id": "T1", "body": "Any news?", "sender": "jane@example.com"}
    with pytest.raises(RetryableToolError, match="has no issue yet"):
        comment_jira_issue.run(args, reply)
    issue = create_jira_issue.run(ARGS, ctx)
    comment = comment_jira_issue.run(args, reply)
    assert comment.issue_key == issue.issue_key and comment.created
    assert not comment_jira_issue.run(args, reply).created
    assert [line["kind"] for line in outbox(ctx)] == ["create_issue", "comment"]


def test_a_raised_urgency_raises_the_priority_and_says_why(ctx: ToolContext) -> None:
    raised = {**ARGS, "urgency": "low", "raise_urgency": 1}
    fields = create_jira_issue.run(raised, ctx).request["fields"]
    assert fields["priority"] == {"name": "Medium"}
    assert "Urgency: medium (raised from low: the customer wrote again and again)" in fields["description"]
    ctx = replace(ctx, step_id="again")
    assert create_jira_issue.run({**raised, "urgency": "high"}, ctx).request["fields"]["priority"] == {
        "name": "High"
    }  # never above the top
