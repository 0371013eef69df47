"""`triage replay`: try a candidate model or prompt on recorded runs before switching to it. Each run is
planned again by the candidate (and looked at by its observer), its tools answered from the record and
its side effects captured, never sent (agent/replay.py); the report says, per run and in total, where
it agrees with what production did and with what people later corrected, and what it cost."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import click

from agent.llm_planner import PROMPT_VERSION
from agent.replay import Candidate, ReplayCase, Side, agrees_with_people
from agent.run import now
from workers.candidates import candidate_of
from workers.runtime import Runtime
from workers.settings import ConfigError

PROMPTS = Path(__file__).resolve().parent.parent / "agent" / "prompts"
_AGO = re.compile(r"^(\d+)([mhd])$")


def when(text: str) -> datetime:
    """A time as given on the command line: ISO 8601 (2026-12-01, 2026-12-01T09:00+01:00) or a span
    ago (30m, 12h, 7d)."""
    ago = _AGO.match(text.strip())
    if ago:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[ago.group(2)]
        return now() - timedelta(**{unit: int(ago.group(1))})
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r}: an ISO date or time, or 30m, 12h, 7d") from None
    return found if found.tzinfo else found.astimezone()


def versions() -> list[str]:
    """The planner prompts there are (agent/prompts/planner-*.txt)."""
    return sorted(p.stem for p in PROMPTS.glob("planner-*.txt"))


@click.command()
@click.option("--since", required=True, help="Runs created from then: 2026-12-01, an ISO time, or 12h, 7d.")
@click.option("--until", "until", default=None, help="... up to then (default: now).")
@click.option("--model", default=None, help="The candidate model (default: TRIAGE_LLM_MODEL).")
@click.option("--prompt-version", type=click.Choice(versions()), default=PROMPT_VERSION, show_default=True)
@click.option(
    "--limit", type=click.IntRange(1, 10_000), default=200, show_default=True, help="At most this many."
)
@click.option("--shadow", is_flag=True, help="Report what TRIAGE_SHADOW_MODEL recorded on live runs instead.")
@click.option("--json", "as_json", is_flag=True, help="Every case and the totals as one JSON document.")
@click.pass_obj
def replay(
    rt: Runtime,
    since: str,
    until: str | None,
    model: str | None,
    prompt_version: str,
    limit: int,
    shadow: bool,
    as_json: bool,
) -> None:
    """Try a candidate planner on recorded runs: nothing is sent, nothing is written."""
    oldest, newest = when(since), when(until) if until else now()
    if shadow:
        found = rt.store.shadows.between(oldest.timestamp(), newest.timestamp(), limit)
        cases = [c.model_copy(update=judged(rt, c.run_id, c.candidate)) for c in found]
    else:
        cases = replayed(rt, (oldest, newest), limit, candidate_or_usage_error(rt, model, prompt_version))
    total = totals(cases)
    if as_json:
        click.echo(json.dumps({"cases": [c.model_dump() for c in cases], "total": total}, indent=1))
        return
    for line in table(cases):
        click.echo(line)
    click.echo(summary_line(total))


def candidate_or_usage_error(rt: Runtime, model: str | None, prompt_version: str) -> Candidate:
    """The candidate to try; a usage error (exit 2, no traceback) when there is no model."""
    try:
        return candidate_of(rt, model, prompt_version)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


def replayed(
    rt: Runtime, between: tuple[datetime, datetime], limit: int, candidate: Candidate
) -> list[ReplayCase]:
    """The finished runs created between two times (at most `limit`, newest first), replayed."""
    oldest, newest = between
    runs = rt.store.runs.page(newest.timestamp(), oldest.timestamp(), 0, limit)
    cases = []
    for run in (r for r in runs if r.is_final and r.plan is not None):
        desk = rt.desk(run.ticket.mailbox)
        case = candidate.replay(run, (desk.tool_config, desk.kb))
        cases.append(case.model_copy(update=judged(rt, run.id, case.candidate)))
    return cases


def judged(rt: Runtime, run_id: str, candidate: Side) -> dict[str, object]:
    """What people have corrected on a run's issue (memory's corrections, read back from Jira), and
    whether the candidate came to it."""
    corrected = rt.memory.corrections_of(run_id) if rt.memory is not None else None
    return {"corrected": corrected, "agrees_with_people": agrees_with_people(candidate, corrected)}


def totals(cases: list[ReplayCase]) -> dict[str, float | int]:
    """The figures of a replay: runs, agreements with production and with people, tokens, cost, time."""
    judged = [c for c in cases if c.agrees_with_people is not None]
    return {
        "runs": len(cases),
        "agree_with_production": sum(c.agrees_with_production for c in cases),
        "corrected_by_people": len(judged),
        "agree_with_people": sum(bool(c.agrees_with_people) for c in judged),
        "side_effects_captured": sum(len(c.captured) for c in cases),
        "tokens": sum(c.tokens for c in cases),
        "cost_usd": round(sum(c.cost_usd for c in cases), 6),
        "seconds": round(sum(c.latency_s for c in cases), 3),
    }


def table(cases: list[ReplayCase]) -> list[str]:
    """One line per replayed run: production's answer, the candidate's, and whether they agree."""
    lines = [f"{'run':<18} {'production':<32} {'candidate':<32} {'agrees':<7} {'people':<7} tokens"]
    for c in cases:
        was = f"{c.production.planner}: {c.production.category}/{c.production.urgency}"
        now_ = f"{c.candidate.planner}: {c.candidate.category}/{c.candidate.urgency}"
        people = "-" if c.agrees_with_people is None else "yes" if c.agrees_with_people else "no"
        agreed = "yes" if c.agrees_with_production else "no"
        lines.append(f"{c.run_id:<18} {was[:32]:<32} {now_[:32]:<32} {agreed:<7} {people:<7} {c.tokens:,}")
    return lines


def summary_line(total: dict[str, float | int]) -> str:
    """The totals in one sentence."""
    runs, agreed = int(total["runs"]), int(total["agree_with_production"])
    people = f"{total['agree_with_people']} of {total['corrected_by_people']}"
    cost = f"{int(total['tokens']):,} tokens, ${total['cost_usd']}, {total['seconds']}s"
    return (
        f"{runs} runs replayed: the candidate agrees with production on {agreed} "
        f"({agreed / (runs or 1):.0%}), "
        f"with people's corrections on {people}; {total['side_effects_captured']} side effects captured, "
        f"none sent; {cost}"
    )
