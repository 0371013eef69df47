"""attach_files: the files a customer attached go to their ticket's issue, once each. Which may go was
judged at ingest from their bytes (inbox/attachments.py: no programs, no archives of programs, size
limits); the issue's description lists every file and its fate."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, Field

from tools import jira_client, outbox
from tools.base import ToolContext, tool
from tools.jira_issue import JIRA_RETRY


class AttachArgs(BaseModel):
    """The issue to attach the ticket's files to (this plan's own: plan policy allows no other)."""

    issue_key: str


class AttachResult(BaseModel):
    """The files that are on the issue now, how many were left out, or why nothing was attached."""

    attached: list[str] = Field(default_factory=list)
    left_out: int = 0
    dry_run: bool
    skipped: str | None = None


@tool(
    name="attach_files",
    description="Attach the files of the customer's mail to the ticket's Jira issue, once each (programs, "
    "archives holding programs and files over the size limits are left out and listed in the description).",
    args=AttachArgs,
    result=AttachResult,
    side_effect=True,
    timeout_s=120.0,
    retry=JIRA_RETRY,
    best_effort=True,  # the issue exists without its files; the step says why they are missing
)
def attach_files(args: AttachArgs, ctx: ToolContext) -> AttachResult:
    """Upload each attachable file once: what Jira already holds (an upload whose answer was lost) is not
    sent again."""
    config = ctx.config
    if (done := ctx.ledger.get(ctx.idempotency_key)) is not None:
        return AttachResult.model_validate(done)
    found = ctx.files.files_of(ctx.ticket_id) if ctx.files is not None else None
    if found is None:
        return AttachResult(dry_run=config.jira_dry_run, skipped="the mail's raw copy is gone (expired?)")
    files, left_out = found
    names = [name for name, _, _ in files]
    if config.jira_dry_run:
        ours, stored = ctx.ledger.claim(ctx.idempotency_key, {"attached": names, "left_out": left_out,
                                                               "dry_run": True})  # fmt: skip
        for name, content_type, data in files if ours else []:
            line = {"issue_key": args.issue_key, "filename": name, "content_type": content_type,
                    "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
            outbox.append(config.outbox_path, "attach", ctx.run_id, f"{ctx.idempotency_key}:{name}", line)
        return AttachResult.model_validate(stored)
    with ctx.ledger.exclusive(ctx.idempotency_key, ttl_s=ctx.hard_timeout_s):
        if (done := ctx.ledger.get(ctx.idempotency_key)) is not None:
            return AttachResult.model_validate(done)
        present = jira_client.attachments_of(config, args.issue_key) if files else set()
        for name, _, data in files:
            if (name, len(data)) not in present:
                jira_client.add_attachment(config, args.issue_key, name, data)
        result = AttachResult(attached=names, left_out=left_out, dry_run=False)
        _, stored = ctx.ledger.claim(ctx.idempotency_key, result.model_dump(mode="json"))
        return AttachResult.model_validate(stored)
