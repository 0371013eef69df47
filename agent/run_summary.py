"""What a run came to, in a support desk's words: its issue, priority, customer, account, whether the
customer was acknowledged (or why not), what became of the files, the drafted answer. The demo, the
command line and the console all read runs through this, so they say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.run import Run

# Which tool's result answers which question (whatever the planner called the step).
_ISSUE_TOOLS = ("create_jira_issue", "comment_jira_issue")


@dataclass(frozen=True)
class FileFate:
    """One attached file: kept on the issue, or left out and why."""

    name: str
    left_out: str | None = None


@dataclass(frozen=True)
class RunSummary:
    """A run at a glance. `category` and `urgency` are a person's edit where there is one, else what
    the steps found; `ack` says what happened to the acknowledgement in words (None: the plan has none)."""

    issue_key: str | None = None
    dry_run: bool = False
    category: str | None = None
    urgency: str | None = None
    priority: str | None = None
    customer: str | None = None
    account_id: str | None = None
    ack: str | None = None
    files: list[FileFate] = field(default_factory=list)
    draft: str | None = None
    draft_sources: list[str] = field(default_factory=list)

    def files_cell(self) -> str | None:
        """How many files went to the issue and how many were left out, in a few words."""
        if not self.files:
            return None
        kept = sum(1 for f in self.files if f.left_out is None)
        out = len(self.files) - kept
        return f"{kept} attached" + (f", {out} left out" if out else "")


def summarize(run: Run) -> RunSummary:
    """The run at a glance (see RunSummary)."""
    found = _results(run, "categorize_ticket") | _results(run, "extract_entities")
    issue = next((r for t in _ISSUE_TOOLS if (r := _results(run, t))), {})
    fields = (issue.get("request") or {}).get("fields") or {}
    edited = _edited(run)
    draft = _results(run, "draft_reply")
    return RunSummary(
        issue_key=issue.get("issue_key"),
        dry_run=bool(issue.get("dry_run")),
        category=category_of(run),
        urgency=edited.get("urgency") or found.get("urgency"),
        priority=(fields.get("priority") or {}).get("name"),
        customer=found.get("customer_name"),
        account_id=found.get("account_id"),
        ack=_ack(run),
        files=_files(run),
        draft=draft.get("text") if draft.get("drafted") else None,
        draft_sources=list(draft.get("sources") or []),
    )


def category_of(run: Run) -> str | None:
    """The run's category: a person's edit (or a plan's own literal) on its issue step, else what the
    categorizer found."""
    found = _results(run, "categorize_ticket").get("category")
    return _edited(run).get("category") or (found if isinstance(found, str) else None)


def _results(run: Run, tool: str) -> dict[str, Any]:
    """The result of the run's step that called `tool`, or {} while it has none."""
    for step in run.plan.steps if run.plan else []:
        state = run.steps.get(step.id)
        if step.tool == tool and state is not None and state.result is not None:
            return state.result
    return {}


def _edited(run: Run) -> dict[str, Any]:
    """What a person set on the issue step when approving (literal category and urgency)."""
    for step in run.plan.steps if run.plan else []:
        if step.tool == "create_jira_issue":
            return {k: v for k in ("category", "urgency") if isinstance(v := step.args.get(k), str)}
    return {}


def _ack(run: Run) -> str | None:
    """sent; not sent: why; failed: why; waiting; or None when the plan acknowledges nothing."""
    step = next((s for s in run.plan.steps if s.tool == "acknowledge"), None) if run.plan else None
    if step is None:
        return None
    state = run.steps.get(step.id)
    result = state.result if state is not None else None
    if result is not None:
        return "sent" if result.get("sent") else f"not sent: {result.get('skipped') or 'no reason given'}"
    if state is not None and state.error:
        return f"failed: {state.error}"
    if run.status == "rejected":
        return "not sent: the run was rejected"
    if run.status == "held":
        return "not sent: waiting for a person's decision"
    return "not sent: the run ended before it" if run.is_final else "not yet"


def _files(run: Run) -> list[FileFate]:
    """Each file of the mail, and why it was left out where it was (the attach step's own skip too)."""
    attach = _results(run, "attach_files")
    skipped = attach.get("skipped")
    return [FileFate(a.filename or "(no name)", a.refused or skipped) for a in run.ticket.attachments]
