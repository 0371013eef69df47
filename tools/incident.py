"""link_incident: gather the reports of one outage under one problem issue in Jira.

When this ticket is like tickets of other customers handled within TRIAGE_INCIDENT_WINDOW_S (by memory:
alike in words, or about one product area with a malfunction in both, tools/incident_match.py), and at
least TRIAGE_INCIDENT_MIN_REPORTS distinct customers reported it, the register opens one incident (or
this ticket joins the one a like ticket is in). The incident gets one problem issue, exactly once like
every side effect (idempotency key per incident, a label in Jira), and every member's own issue is
linked to it (TRIAGE_INCIDENT_LINK_TYPE), the members that came before the incident formed included.
Each customer keeps their own issue.

Best effort: an incident is a help to the people on the desk, not the ticket; when memory or Jira stay
unreachable the step is skipped with its reason and the run goes on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from tools import jira_client, ledger_keys, outbox
from tools.base import RetryPolicy, ToolContext, tool
from tools.errors import PermanentToolError
from tools.incident_match import Likeness
from tools.incident_port import Incident, IncidentRegister, Member
from tools.jira_issue import create_once, run_link
from tools.jira_text import DESCRIPTION_MAX, inline, jira_text, summary_text

# Two witnesses: a report joins an incident when it is alike to at least two of its members, and a like
# ticket counts towards opening one only when it is alike to another like ticket too. One look-alike
# (a feature request that mentions CSV beside a CSV export outage) is not enough.
JOIN_QUORUM = 2


class LinkIncidentArgs(BaseModel):
    """The ticket, its issue, and whether memory holds it (others find it only then)."""

    ticket_id: str
    subject: str
    body: str
    sender: str
    issue_key: str
    remembered: bool | None = Field(
        None, description="steps.<remember>.remembered: null when remembering was skipped"
    )


class IncidentResult(BaseModel):
    """The incident this ticket belongs to, if any, and what this step did about it."""

    incident_id: str | None = None
    problem_key: str | None = Field(None, description="the problem issue gathering the incident's issues")
    opened: bool = Field(False, description="this ticket's report opened the incident")
    linked: list[str] = Field(default_factory=list, description="issues this step linked to the problem")
    dry_run: bool = False


def incident_id_of(ticket_id: str) -> str:
    """The id of the incident a ticket's report opens (the same on every attempt)."""
    return f"INC-{ticket_id}"


def problem_label(incident_id: str) -> str:
    """The label that marks an incident's problem issue in Jira, so a retry can find it."""
    return f"triage-{incident_id.lower()}"


@tool(
    name="link_incident",
    description="When customers report the same problem within a short time, gather their issues under "
    "one problem issue (opened once) with issue links. Idempotent; needs memory.",
    args=LinkIncidentArgs,
    result=IncidentResult,
    side_effect=True,
    timeout_s=60,
    retry=RetryPolicy(max_attempts=5, base_s=2, cap_s=60),
    best_effort=True,
)
def link_incident(args: LinkIncidentArgs, ctx: ToolContext) -> IncidentResult:
    """Open or join an incident for the ticket; make sure its problem issue exists and links every member."""
    if ctx.memory is None or ctx.incidents is None:
        raise PermanentToolError("incidents are off (TRIAGE_MEMORY or TRIAGE_INCIDENTS)")
    if ctx.sender_doubt:
        raise PermanentToolError(f"the sender is not trusted ({ctx.sender_doubt}): not counted as a report")
    if not args.remembered:
        raise PermanentToolError("the ticket is not in memory (remembering it was skipped): no incident")
    register, config = ctx.incidents, ctx.config
    incident_id = register.incident_of(args.ticket_id)
    if incident_id is None:
        now = datetime.now(UTC)
        likeness = Likeness(
            words=config.incident_similarity or ctx.memory.incident_similarity,
            area=ctx.memory.area_similarity,
        )
        since = now - timedelta(seconds=config.incident_window_s)
        text = f"{args.subject}\n{args.body}"
        own = ctx.memory.symptoms_of(args.ticket_id)
        like = [
            r
            for r in ctx.memory.recent_like(args.ticket_id, text, since, likeness.floor, own)
            if likeness.alike(r.similarity, own, r.symptoms)
        ]
        me = Member(
            ticket_id=args.ticket_id, sender=args.sender.lower(), issue_key=args.issue_key, joined_at=now
        )
        others = [
            Member(ticket_id=r.ticket_id, sender=r.sender, issue_key=r.issue_key, joined_at=r.seen_at)
            for r in likeness.corroborated(like)
        ]
        fresh = Incident(id=incident_id_of(args.ticket_id), title=args.subject[:200], opened_at=now)
        incident_id = register.open_or_join(fresh, [me, *others], config.incident_min_reports, JOIN_QUORUM)
        if incident_id is None:
            return IncidentResult(dry_run=config.jira_dry_run)
    incident = register.get(incident_id, members=False)
    if incident is None:  # expired between the two reads: it is over
        return IncidentResult(dry_run=config.jira_dry_run)
    unlinked = register.unlinked(incident_id)
    problem_key = _problem_issue(incident, unlinked, register, ctx)
    linked = _link_members(incident.id, unlinked, problem_key, register, ctx)
    linked += _link_merged(incident.id, problem_key, register, ctx)
    ctx.memory.mark_incident(sorted({args.ticket_id, *(m.ticket_id for m in unlinked)}), incident.id)
    opened = incident.id == incident_id_of(args.ticket_id)
    return IncidentResult(
        incident_id=incident.id,
        problem_key=problem_key,
        linked=linked,
        opened=opened,
        dry_run=config.jira_dry_run,
    )


def _problem_payload(incident: Incident, first: list[Member], ctx: ToolContext) -> dict[str, Any]:
    config = ctx.config
    reports = "\n".join(
        f"* {m.issue_key or '(no issue yet)'} from {inline(m.sender, 320)}" for m in first[:50]
    )
    description = (
        f"Several customers report the same problem (incident {incident.id}, opened "
        f"{incident.opened_at:%Y-%m-%d %H:%M} UTC). Their issues are linked here as they arrive; each "
        f"customer keeps their own issue for replies.\n\nFirst reports:\n{reports}\n\nTriage run of the "
        f"report that opened it: {run_link(ctx)}"
    )
    return {
        "fields": {
            "project": {"key": config.jira_project},
            "issuetype": {"name": config.jira_issue_type},
            "summary": summary_text("incident", incident.title),
            "description": jira_text(description, DESCRIPTION_MAX, run_link(ctx)),
            "priority": {"name": config.jira_priorities["high"]},
            "labels": [*config.jira_labels, "incident", problem_label(incident.id)],
        }
    }


def _problem_issue(
    incident: Incident, first: list[Member], register: IncidentRegister, ctx: ToolContext
) -> str:
    """The incident's problem issue, created once (the ledger, then Jira's label search, answer first)."""
    if incident.problem_key is not None:
        return incident.problem_key
    key = ledger_keys.incident_problem(incident.id)
    if (done := ctx.ledger.get(key)) is not None:
        register.note_problem(incident.id, str(done["issue_key"]))
        return str(done["issue_key"])
    payload = _problem_payload(incident, first, ctx)
    if ctx.config.jira_dry_run:
        stored, record = ctx.ledger.claim(key, {"issue_key": f"DRY-{ctx.ledger.next_number('dry-issue')}"})
        if stored:
            outbox.append(
                ctx.config.outbox_path,
                "create_problem",
                ctx.run_id,
                key,
                {"issue_key": record["issue_key"], "request": payload},
            )
    else:
        with ctx.ledger.exclusive(key, ttl_s=ctx.hard_timeout_s):
            if (done := ctx.ledger.get(key)) is None:
                found = jira_client.find_issue_by_label(ctx.config, problem_label(incident.id))
                sent = ledger_keys.incident_problem_sent(incident.id)
                issue_key = found or create_once(
                    ctx, sent, lambda: jira_client.create_issue(ctx.config, payload["fields"])
                )
                done = ctx.ledger.claim(key, {"issue_key": issue_key})[1]
            record = done
    register.note_problem(incident.id, str(record["issue_key"]))
    return str(record["issue_key"])


def _link_members(
    incident_id: str, unlinked: list[Member], problem_key: str, register: IncidentRegister, ctx: ToolContext
) -> list[str]:
    """Link each member's issue not linked yet to the problem issue; the keys linked now."""
    linked = []
    for member in unlinked:
        if member.issue_key is None:
            continue
        key = ledger_keys.incident_link(member.ticket_id)
        if ctx.config.jira_dry_run:
            if ctx.ledger.claim(key, {"problem_key": problem_key})[0]:
                outbox.append(
                    ctx.config.outbox_path,
                    "link",
                    ctx.run_id,
                    key,
                    {
                        "type": ctx.config.incident_link_type,
                        "issue_key": member.issue_key,
                        "problem_key": problem_key,
                    },
                )
                linked.append(member.issue_key)
        elif ctx.ledger.get(key) is None:
            # Jira makes a link between the same two issues once, however often it is asked.
            jira_client.link_issues(ctx.config, ctx.config.incident_link_type, problem_key, member.issue_key)
            if ctx.ledger.claim(key, {"problem_key": problem_key})[0]:  # two steps at once: one counts it
                linked.append(member.issue_key)
        register.note_linked(incident_id, member.ticket_id, member.issue_key)
    return linked


def _link_merged(
    incident_id: str, problem_key: str, register: IncidentRegister, ctx: ToolContext
) -> list[str]:
    """Link the problem issue of each incident merged into this one to this one's problem issue (one
    outage, one problem issue kept; the other stays, linked); the keys linked now. An incident merged
    before its problem issue was made stays in the merged set: the issue may be on its way (a run of
    that incident making it), and a later report links it."""
    linked = []
    for merged_id in register.merged(incident_id):
        done = ctx.ledger.get(ledger_keys.incident_problem(merged_id))
        if done is None:
            continue
        other, key = str(done["issue_key"]), ledger_keys.incident_merge_link(merged_id)
        if other != problem_key and ctx.ledger.get(key) is None:
            link = {"type": ctx.config.incident_link_type, "issue_key": other, "problem_key": problem_key}
            if not ctx.config.jira_dry_run:
                jira_client.link_issues(ctx.config, ctx.config.incident_link_type, problem_key, other)
            if ctx.ledger.claim(key, {"problem_key": problem_key})[0]:
                if ctx.config.jira_dry_run:
                    outbox.append(ctx.config.outbox_path, "link", ctx.run_id, key, link)
                linked.append(other)
        register.note_merge_linked(incident_id, merged_id)
    return linked
