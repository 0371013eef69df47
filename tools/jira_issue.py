"""create_jira_issue and comment_jira_issue: each side effect happens once, in Jira or in dry-run.

Exactly once, in order: the ledger (Redis) answers for work this system recorded; under a lock per
idempotency key, Jira itself answers for work whose response was lost (an issue carrying the
ticket's idempotency label, a comment carrying the step's marker); only then is anything created,
and its key is recorded at once. Without Jira settings the same tools run in dry-run mode: the exact
payload is recorded with the run and in an outbox file, under a local key such as DRY-17.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from tools import jira_client, jira_service_desk, ledger_keys, outbox
from tools.base import RetryPolicy, ToolContext, tool
from tools.errors import NotReadyYet, OutcomeUnknown, ToolError
from tools.jira_pacing import before_sending
from tools.jira_text import (
    DESCRIPTION_MAX,
    attachment_lines,
    evidence_lines,
    inline,
    jira_text,
    literal,
    summary_text,
)

MAX_PARTICIPANTS = 10  # request participants a service desk request gets at most
JIRA_TIMEOUT_S = 60  # several HTTP calls (search, create) at TRIAGE_JIRA_TIMEOUT_S each at most
JIRA_RETRY = RetryPolicy(max_attempts=8, base_s=2, cap_s=120)  # what every tool that writes to Jira uses


def idempotency_label(ticket_id: str) -> str:
    """The label that marks a ticket's issue in Jira, so a retry can find it."""
    return f"triage-{ticket_id}"


class CreateIssueArgs(BaseModel):
    """What the issue is built from: the ticket and the results of earlier steps."""

    subject: str
    body: str
    sender: str
    # The categorize step's finding (checked against the mailbox's categories), or a person's choice; a
    # word, never a sentence (it goes into a label). No backslash classes in the pattern: llama.cpp's
    # schema-to-grammar turns them into a grammar its server crashes on (tests/agent/test_llm_planner.py
    # keeps every pattern of the plan schema free of them).
    category: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$", json_schema_extra={"literal": "person"})
    # The extract step's finding, or a person's choice (a planner's own reading is no finding).
    urgency: Literal["low", "medium", "high"] = Field(json_schema_extra={"literal": "person"})
    customer_name: str | None = None
    account_id: str | None = None
    language: str | None = Field(None, description="the customer's language (ISO 639-1): a label")
    evidence: dict[str, str] | None = Field(None, description="where each finding was read (extract's)")
    attachments: list[Any] | None = Field(None, description="the mail's attachments (ticket.attachments)")
    participants: list[str] | None = Field(
        None,
        description="the mail's Cc addresses (ticket.cc): on a service desk, colleagues join the request",
    )
    raise_urgency: int = Field(
        0, ge=0, le=2, description="steps to raise the urgency by (a customer who keeps writing)"
    )
    # A person's edits of a held plan (agent/autonomy.py), validated like any plan; no planner sets them (a
    # mail must not talk a model into a summary, a priority or labels of its choosing).
    summary: str | None = Field(
        None,
        max_length=240,
        description="the issue's one-line summary instead of the subject",
        json_schema_extra={"literal": True, "person": True},
    )
    priority: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9 _-]{1,40}$",
        description="the Jira priority instead of the urgency's",
        json_schema_extra={"literal": True, "person": True},
    )
    labels: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,50}$")]] = Field(
        default_factory=list,
        max_length=5,
        description="extra labels",
        json_schema_extra={"literal": True, "person": True},
    )

    @property
    def effective_urgency(self) -> Literal["low", "medium", "high"]:
        """The urgency the issue gets: the extracted one, raised `raise_urgency` steps (at most high)."""
        levels: list[Literal["low", "medium", "high"]] = ["low", "medium", "high"]
        return levels[min(len(levels) - 1, levels.index(self.urgency) + self.raise_urgency)]


class IssueResult(BaseModel):
    """The issue (or comment) that exists now, and whether this call created it."""

    issue_key: str
    comment_id: str | None = None
    created: bool
    dry_run: bool
    request: dict[str, Any] = Field(description="the exact payload sent (or that would be sent)")


def run_link(ctx: ToolContext) -> str:
    """Where this run can be read in full (TRIAGE_RUN_LINK_TEMPLATE)."""
    return ctx.config.run_link_template.format(run_id=ctx.run_id)


def build_issue_payload(args: CreateIssueArgs, ctx: ToolContext) -> dict[str, Any]:
    """The Jira REST v2 create-issue payload; project, type, priority, component: from configuration."""
    config = ctx.config
    sender = inline(args.sender, 320)
    description = "\n".join(
        [
            f"From: {inline(args.customer_name, 120)} <{sender}>"
            if args.customer_name
            else f"From: {sender}",
            f"Account: {inline(args.account_id or 'unknown', 80)}",
            *(
                [f"Cc: {inline(', '.join(args.participants[:MAX_PARTICIPANTS]), 2000)}"]
                if args.participants
                else []
            ),
            f"Urgency: {args.effective_urgency}"
            + (
                f" (raised from {args.urgency}: the customer wrote again and again)"
                if args.raise_urgency
                else ""
            ),
            f"Triage run: {run_link(ctx)}",
            *evidence_lines(args.evidence),
            *attachment_lines(args.attachments),
            "",
            literal(args.body.strip() or "(empty message)", DESCRIPTION_MAX - 4000, run_link(ctx)),
        ]
    )
    fields: dict[str, Any] = {
        "project": {"key": config.jira_project},
        "issuetype": {"name": config.jira_issue_type},
        "summary": summary_text(args.category, args.summary or args.subject),
        "description": jira_text(description, DESCRIPTION_MAX, run_link(ctx)),
        "priority": {"name": args.priority or config.jira_priorities[args.effective_urgency]},
        "labels": [
            *config.jira_labels,
            f"category-{args.category}",
            idempotency_label(ctx.ticket_id),
            *([f"lang-{args.language}"] if re.fullmatch(r"[a-z]{2,3}", args.language or "") else []),
            *args.labels,
        ],
    }
    if args.category in config.jira_components:
        fields["components"] = [{"name": config.jira_components[args.category]}]
    return {"fields": fields}


def create_once(ctx: ToolContext, sent_key: str, create: Callable[[], str]) -> str:
    """Create the issue with `create` (`sent_key`: the ledger key noting when its create went out),
    unless a create whose fate is unknown went out too recently for Jira's search to show its issue (the
    label search just missed). The send is noted first, so a worker that dies mid-request leaves the note
    too, and again when the request leaves after its wait for a turn under Jira's rate limits (the search
    lag counts from then); an answer from Jira (an error status) clears it: nothing was made."""
    _wait_out_the_search_lag(ctx, sent_key)

    def note_sent() -> None:
        ctx.ledger.note(sent_key, {"at": time.time()})

    note_sent()
    try:
        with before_sending(note_sent):  # again when it goes out: a wait for Jira's turn comes first
            return create()
    except ToolError as exc:
        if not isinstance(exc, OutcomeUnknown):
            ctx.ledger.note(sent_key, {"at": None})
        raise


def _wait_out_the_search_lag(ctx: ToolContext, sent_key: str) -> None:
    """Jira Cloud's search is eventually consistent: an issue created moments ago may not be found by
    its label yet. When a create of unknown outcome was sent less than TRIAGE_JIRA_SEARCH_LAG_S ago,
    wait until that window has passed (the caller then searches again) before creating."""
    sent = ctx.ledger.get(sent_key)
    if sent is None or sent["at"] is None:
        return
    waited = time.time() - float(sent["at"])
    if waited < ctx.config.jira_search_lag_s:
        remaining = ctx.config.jira_search_lag_s - waited
        raise NotReadyYet(
            f"a create sent {waited:.1f}s ago may not be searchable yet; searching again in {remaining:.1f}s",
            retry_after=remaining,
        )


def _as_set(args: CreateIssueArgs, issue_key: str) -> dict[str, Any]:
    """The ticket's issue as this system made it: what the corrections read-back compares Jira with."""
    return {"issue_key": issue_key, "category": args.category, "urgency": args.effective_urgency}


def recorded_issue(ctx: ToolContext) -> IssueResult | None:
    """What an earlier attempt of this step made in Jira (not made now), or None."""
    existing = ctx.ledger.get(ctx.idempotency_key)
    return IssueResult.model_validate({**existing, "created": False}) if existing is not None else None


def record_issue(ctx: ToolContext, record: dict[str, Any], created: bool) -> IssueResult:
    """Record what this step made, once: a record an attempt stored first wins (and was not made now)."""
    stored_by_us, record = ctx.ledger.claim(ctx.idempotency_key, record)
    return IssueResult.model_validate({**record, "created": created and stored_by_us})


@tool(
    name="create_jira_issue",
    description="Open one Jira issue for the ticket, built from the ticket and the category/entity results.",
    args=CreateIssueArgs,
    result=IssueResult,
    side_effect=True,
    timeout_s=JIRA_TIMEOUT_S,
    retry=JIRA_RETRY,
)
def create_jira_issue(args: CreateIssueArgs, ctx: ToolContext) -> IssueResult:
    """Create the issue once: a ticket that already has an issue gets the existing one back."""
    if (done := recorded_issue(ctx)) is not None:
        return done
    payload = build_issue_payload(args, ctx)
    if ctx.config.jira_dry_run:
        record = {
            "issue_key": f"DRY-{ctx.ledger.next_number('dry-issue')}",
            "dry_run": True,
            "request": payload,
        }
        result = record_issue(ctx, record, created=True)
        if result.created:
            ctx.ledger.claim(ledger_keys.jira_issue(ctx.ticket_id), _as_set(args, result.issue_key))
            record = {"issue_key": result.issue_key, "request": payload}
            outbox.append(ctx.config.outbox_path, "create_issue", ctx.run_id, ctx.idempotency_key, record)
        return result
    with ctx.ledger.exclusive(ctx.idempotency_key, ttl_s=ctx.hard_timeout_s):
        if (done := recorded_issue(ctx)) is not None:
            return done
        key = jira_client.find_issue_by_label(ctx.config, idempotency_label(ctx.ticket_id))
        created = key is None
        if key is None:
            key = create_once(
                ctx, ledger_keys.create_sent(ctx.ticket_id, ctx.step_id), _creator(args, ctx, payload)
            )
        if ctx.config.jira_service_desk is not None:
            jira_service_desk.set_fields(ctx.config, key, payload["fields"])
        result = record_issue(ctx, {"issue_key": key, "dry_run": False, "request": payload}, created)
        ctx.ledger.claim(ledger_keys.jira_issue(ctx.ticket_id), _as_set(args, key))
        return result


def _creator(args: CreateIssueArgs, ctx: ToolContext, payload: dict[str, Any]) -> Callable[[], str]:
    """What creates the issue: a plain Jira issue, or with a service desk the customer's own request
    (the customer its reporter; only colleagues in Cc, of the sender's own domain, its participants: a
    stranger's Cc must not make the desk mail third parties)."""
    config, fields = ctx.config, payload["fields"]
    if config.jira_service_desk is None:
        return lambda: jira_client.create_issue(config, fields)
    domain = args.sender.rpartition("@")[2]
    colleagues = [a for a in args.participants or [] if a.rpartition("@")[2] == domain][:MAX_PARTICIPANTS]
    return lambda: jira_service_desk.raise_request(
        config, fields, args.sender, args.customer_name, colleagues
    )
