"""`triage` commands for operators: dead letters, replay, discard, erasure, quarantine."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import time

import click
from pydantic import SecretStr

from agent.memory.chroma import MemoryUnavailable
from agent.run import Run
from cli.mail import mail_line, run_document
from cli.review import BY
from tasks.operate import Refused, discard_run, drop_mail, release_mail, retry_run
from tools import jira_client, outbox
from tools.errors import ToolError
from workers.runtime import Runtime


@click.command("dead-letters")
@click.option("--mailbox", default=None, help="Only the dead letters of this mailbox.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run.")
@click.pass_obj
def dead_letters(rt: Runtime, mailbox: str | None, as_json: bool) -> None:
    """Runs that could not complete, with the sender, the subject and the reason."""
    letters = [r for r in rt.store.runs.dead_letters() if mailbox is None or r.ticket.mailbox == mailbox]
    for run in letters:
        if as_json:
            click.echo(json.dumps(run_document(run), ensure_ascii=False))
            continue
        finished = f"{run.finished_at:%Y-%m-%d %H:%M:%S}" if run.finished_at else "-"
        subject = run.ticket.subject[:40] or "(no subject)"
        click.echo(f"{run.id}  {finished}  {run.ticket.sender:<32}  {subject:<40}  {run.error}")
    click.echo(f"{len(letters)} dead letter(s)", err=True)


@click.command()
@click.argument("run_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every dead letter (narrow it with --tool).")
@click.option("--tool", default=None, help="With --all: only runs whose failed step called this tool.")
@click.option("--reason", default="replayed by an operator", show_default=True)
@BY
@click.pass_obj
def retry(
    rt: Runtime, run_ids: tuple[str, ...], everything: bool, tool: str | None, reason: str, by: str
) -> None:
    """Replay dead-lettered runs after a fix: their unfinished steps run again (done steps are kept)."""
    if everything:
        run_ids = tuple(r.id for r in rt.store.runs.dead_letters() if tool is None or _failed_tool(r) == tool)
    elif not run_ids:
        raise click.UsageError("name RUN_IDs or use --all")
    refused = 0
    for run_id in run_ids:
        try:
            again = retry_run(rt, run_id, by, reason)
        except Refused as exc:
            click.echo(str(exc), err=True)
            refused += 1
            continue
        click.echo(f"{run_id}: sent again ({', '.join(again) or 'planning'})")
    if refused:
        sys.exit(1)


def _failed_tool(run: Run) -> str | None:
    failed = [
        s
        for s in (run.plan.steps if run.plan else [])
        if run.steps.get(s.id) and run.steps[s.id].status == "failed"
    ]
    return failed[0].tool if failed else None


@click.command()
@click.argument("run_id")
@click.option("--reason", required=True, help="Why: kept in the audit trail.")
@BY
@click.pass_obj
def discard(rt: Runtime, run_id: str, reason: str, by: str) -> None:
    """Close a dead-lettered run for good, keeping the reason in the audit trail."""
    try:
        discard_run(rt, run_id, by, reason)
    except Refused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{run_id}: discarded ({reason})")


@click.command()
@click.option("--sender", required=True, help="The customer's e-mail address.")
@click.option(
    "--jira", "redact", is_flag=True, help="Also redact the Jira issues and comments that hold their text."
)
@click.pass_obj
def purge(rt: Runtime, sender: str, redact: bool) -> None:
    """Erase one customer's stored mail and run data (a GDPR erasure request) and say what went.

    Lists the Jira issues and comments that hold the customer's text; --jira replaces their text there.
    The audit trail keeps a keyed hash of the address (TRIAGE_AUDIT_KEY), never the address.
    """
    erasure = rt.store.operations.purge_sender(sender)
    removed = dict(erasure.removed)
    removed["outbox_lines"] = sum(outbox.drop_runs(path, erasure.run_ids) for path in rt.tool_config.outboxes)
    redacted, failed = 0, []
    if rt.memory is not None:
        try:
            removed["memory_entries"] = rt.memory.forget_sender(sender)
        except MemoryUnavailable as exc:
            failed.append(f"long-term memory: {exc} (run the purge again once it answers)")
    for issue_key, comment_id in erasure.in_jira if redact else []:
        note = f"[redacted on an erasure request, {time.strftime('%Y-%m-%d')}]"
        try:
            if comment_id is None:
                jira_client.redact_issue(rt.tool_config, issue_key, f"(redacted) {issue_key}", note)
            else:
                jira_client.redact_comment(rt.tool_config, issue_key, comment_id, note)
            redacted += 1
        except ToolError as exc:
            failed.append(f"{issue_key}{'/' + comment_id if comment_id else ''}: {exc}")
    if redact:
        removed["jira_redactions"] = redacted
    who = _keyed_hash(sender, rt.settings.audit_key)
    rt.store.operations.record_audit(
        "purge", None, "erasure request", **({"sender_hmac": who} if who else {}), **removed
    )
    click.echo(
        ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in removed.items()) + f" removed for {sender}"
    )
    places = [f"{key} (comment {cid})" if cid else f"{key} (issue)" for key, cid in erasure.in_jira]
    if places and not redact:
        click.echo(f"their text is still in Jira: {', '.join(places)} (run again with --jira to redact it)")
    for problem in failed:
        click.echo(f"not redacted: {problem}", err=True)
    if failed:
        sys.exit(1)


def _keyed_hash(address: str, key: SecretStr | None) -> str | None:
    """An HMAC of the address: the audit trail can confirm an erasure of a given address to whoever holds
    the key, and nobody can read the address back from it (an unkeyed hash falls to a dictionary)."""
    if key is None:
        return None
    digest = hmac.new(key.get_secret_value().encode(), address.strip().lower().encode(), hashlib.sha256)
    return digest.hexdigest()


@click.command()
@click.option("--mailbox", default=None, help="Only the messages that came to this mailbox.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message.")
@click.pass_obj
def quarantine(rt: Runtime, mailbox: str | None, as_json: bool) -> None:
    """Messages that could not become tickets, or that the spam filter marked, with the sender, the
    subject and the reason (raw bytes are kept; `triage release` makes one a ticket after all)."""
    held = [d for d in rt.store.deliveries.quarantined() if mailbox is None or d.mailbox == mailbox]
    for d in held:
        click.echo(json.dumps(d.model_dump(mode="json"), ensure_ascii=False) if as_json else mail_line(d))
    click.echo(f"{len(held)} quarantined message(s)", err=True)


@click.command()
@click.argument("delivery_id")
@click.option("--reason", required=True, help="Why it is a ticket after all (audit trail).")
@BY
@click.pass_obj
def release(rt: Runtime, delivery_id: str, reason: str, by: str) -> None:
    """Make a quarantined message a ticket after all (a worker parses it; `triage show` then tells)."""
    try:
        release_mail(rt, delivery_id, by, reason)
    except Refused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{delivery_id}: sent to be made a ticket")


@click.command()
@click.argument("delivery_id")
@click.option("--reason", required=True, help="Why it goes (audit trail).")
@BY
@click.pass_obj
def drop(rt: Runtime, delivery_id: str, reason: str, by: str) -> None:
    """Delete a quarantined message and its record for good."""
    try:
        drop_mail(rt, delivery_id, by, reason)
    except Refused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{delivery_id}: dropped ({reason})")
