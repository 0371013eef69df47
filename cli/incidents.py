"""`triage incidents`: the incidents memory found, each with its problem issue and its members."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click

from workers.runtime import Runtime


@click.command()
@click.option("--all", "everything", is_flag=True, help="Also the incidents that went quiet (in retention).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per incident.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_obj
def incidents(rt: Runtime, everything: bool, as_json: bool, limit: int) -> None:
    """Open incidents (a report within TRIAGE_INCIDENT_WINDOW_S), latest report first, with members."""
    window = rt.settings.retention_s if everything else rt.settings.incident_window_s
    found = rt.store.incidents.recent(datetime.now(UTC) - timedelta(seconds=window), limit)
    if not as_json and not found:
        what = "incidents" if everything else "open incidents"
        click.echo(f"no {what}" + ("" if rt.incidents else " (incidents need TRIAGE_MEMORY=on)"))
    for incident in found:
        if as_json:
            click.echo(json.dumps(incident.model_dump(mode="json"), ensure_ascii=False))
            continue
        customers = len({m.sender for m in incident.members})
        click.echo(
            f"{incident.id}  {incident.problem_key or '(problem issue pending)'}  opened "
            f"{incident.opened_at:%Y-%m-%d %H:%M}  last report {incident.last_report_at:%Y-%m-%d %H:%M}  "
            f"{len(incident.members)} reports from {customers} customers  {incident.title[:60]}"
        )
        for m in incident.members:
            linked = "linked" if m.linked else "not linked yet"
            click.echo(f"    {m.joined_at:%Y-%m-%d %H:%M}  {m.issue_key or '-':<12} {linked:<15} {m.sender}")
