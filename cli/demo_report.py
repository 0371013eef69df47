"""The demo's report: one row per message (what it became, in the desk's words), and the table that
fits a 100-column terminal by default (`--wide`: every column)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from agent.autonomy import Hold
from agent.run import Delivery, Run
from agent.run_summary import summarize

# Statuses after which the demo stops waiting for a message: held waits for a person, not for the demo.
FINAL_STATUSES = (
    *("done", "failed", "dead_letter", "rejected", "held"),
    *("quarantined", "automated", "duplicate", "threaded", "spam"),
)
NARROW = {  # column: its width in the default table (the rest of 100 columns goes to the reason)
    "sender": 18,
    "subject": 19,
    "status": 11,
    "found": 13,
    "issue": 8,
    "ack": 4,
}
REASON_WIDTH = 100 - sum(NARROW.values()) - len(NARROW) - 1  # each column has one space after it
_ACK_WORD = {"sent": "sent", "not yet": "wait", "not sent": "no", "failed": "fail"}
WIDE = (
    *("message_id", "sender", "subject", "status", "category", "urgency", "customer_name"),
    *("account_id", "issue_key", "files", "ack", "draft", "thread_of", "incident", "planner", "hold"),
    "reason",
)


def outcome_row(
    delivery: Delivery, run: Run | None, incident: str | None = None, hold: Hold | None = None
) -> dict[str, Any] | None:
    """One message's report row, or None while it is still being processed (a held run is reported as
    held, with the rules that held it); `incident` is the problem issue of its ticket's incident."""
    row: dict[str, Any] = dict.fromkeys((*WIDE, "files_left_out")) | {
        "message_id": delivery.message_id,
        "sender": delivery.sender,
        "subject": delivery.subject,
        "status": delivery.outcome,
        "reason": delivery.reason,
        "received_at": delivery.at.isoformat(),  # when ingest took it in
        "finished_at": delivery.at.isoformat(),  # when what became of it was final
    }
    if delivery.outcome not in ("ticket", "threaded"):
        return row
    if run is None or not (run.is_final or run.status == "held"):
        return None
    summary = summarize(run)
    files = [f"{f.name}: {f.left_out}" for f in summary.files if f.left_out]
    row |= {
        "status": _status(delivery, run),
        "category": summary.category,
        "urgency": summary.urgency,
        "customer_name": summary.customer,
        "account_id": summary.account_id,
        "issue_key": summary.issue_key,
        "files": summary.files_cell(),
        "files_left_out": files or None,
        "ack": summary.ack,
        "draft": ", ".join(Path(s).stem for s in summary.draft_sources) if summary.draft else None,
        "thread_of": run.ticket.thread_of,
        "incident": incident,
        "planner": run.planner,
        "hold": f"{hold.mode} by {', '.join(hold.rules)}" if hold is not None else None,
        "reason": _reason(delivery, run, hold, summary.ack),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,  # None: held
    }
    return row


def _status(delivery: Delivery, run: Run) -> str:
    if run.status in ("held", "rejected", "dead_letter"):
        return run.status
    return "failed" if run.status == "discarded" else delivery.outcome.replace("ticket", "done")


def _reason(delivery: Delivery, run: Run, hold: Hold | None, ack: str | None) -> str | None:
    """Why the row reads as it does: a hold, an error, a fallback, an acknowledgement not sent, or why
    the delivery became what it did."""
    if run.status == "held" and hold is not None:
        return f"rule {', '.join(hold.rules)} ({hold.mode}): waits for a person's decision"
    unsent = ack if ack is not None and ack != "sent" and run.status == "done" else None
    fallback = None
    if run.planner == "fallback":
        notes = reversed(run.planner_notes)
        fallback = next((n for n in notes if n.startswith("fallback")), "fallback to rules")
    reasons = [r for r in (run.error, fallback, unsent and f"acknowledgement {unsent}", delivery.reason) if r]
    return "; ".join(reasons) or None


def _cut(text: object, width: int) -> str:
    value = str(text) if text not in (None, "") else "-"
    return value if len(value) <= width else value[: width - 1] + "…"


def render_table(rows: list[dict[str, Any]], console: Console, wide: bool = False) -> None:
    """Print the outcome table: by default the columns a person scans (sender, subject, outcome,
    category/urgency, issue, acknowledgement, reason) cut to fit 100 columns; `wide`: every column."""
    if wide:
        _wide(rows, console)
        return
    table = Table(box=None, padding=(0, 1, 0, 0), title="one line per message (--wide: every column)")
    for column in (*NARROW, "reason"):
        width = NARROW.get(column, REASON_WIDTH)
        table.add_column(column, no_wrap=True, overflow="ellipsis", min_width=width, max_width=width)
    for row in rows:
        found = "/".join(x for x in (row.get("category"), row.get("urgency")) if x) or None
        ack = _ACK_WORD.get(str(row.get("ack") or "-").split(":")[0], "-")
        cells = {**row, "found": found, "ack": ack, "issue": row.get("issue_key")}
        table.add_row(*(_cut(cells.get(c), NARROW.get(c, REASON_WIDTH)) for c in (*NARROW, "reason")))
    console.print(table)


def _wide(rows: list[dict[str, Any]], console: Console) -> None:
    columns = [c for c in WIDE if any(row.get(c) for row in rows) or c in ("status", "message_id")]
    table = Table(title="triage demo: one row per message", show_lines=False)
    for column in columns:
        table.add_column(
            column, overflow="fold", max_width=38 if column in ("message_id", "reason") else None
        )
    for row in rows:
        table.add_row(*(str(row.get(c) or "-") for c in columns))
    console.print(table)


def memory_line(rows: list[dict[str, Any]]) -> str:
    """What memory did in one line: answers drafted from the knowledge base, incidents and their reports."""
    tickets = [row for row in rows if row.get("status") == "done" and row.get("category")]
    drafted = sum(1 for row in tickets if row.get("draft"))
    reports = Counter(str(row["incident"]) for row in rows if row.get("incident"))
    incidents = ", ".join(f"{key} ({n} reports)" for key, n in sorted(reports.items())) or "none"
    return (
        f"memory (--no-memory: off): answers drafted for {drafted} of {len(tickets)} tickets; "
        f"incidents: {incidents}"
    )
