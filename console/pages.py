"""The console's pages: runs (filtered, searched, one in full), the review queue, dead letters,
quarantine, incidents and the audit trail (the forms they post go to console/actions.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import jinja2
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from agent.mail_search import MailFilter, find_mail
from agent.run import DeliveryOutcome, RunStatus
from agent.run_summary import category_of, summarize
from console import actions, views
from console.web import Caller, Gate, render, viewer_zone
from tools.taxonomy import taxonomy_for
from workers.runtime import Runtime

STATUSES: tuple[str, ...] = get_args(RunStatus)
OUTCOMES: tuple[str, ...] = get_args(DeliveryOutcome)


def pages_router(rt: Runtime, gate: Gate, env: jinja2.Environment) -> APIRouter:
    """Every page but the login."""
    router = APIRouter(include_in_schema=False)
    store = rt.store

    def page(request: Request, name: str, caller: Caller, status: int = 200, **context: Any) -> Response:
        done = actions.DONE.get(request.query_params.get("done", ""), "")
        priorities = sorted(set(rt.tool_config.jira_priorities.values()))
        shared = {
            "categories": _categories(rt),
            "mailboxes": [m for m in sorted(rt.desks) if caller.sees(m)],
            "priorities": priorities,
            "category_of": category_of,
            "summary_of": summarize,
        }
        return HTMLResponse(render(env, request, name, caller, done=done, **shared, **context), status)

    @router.get("/")
    def home() -> Response:
        return RedirectResponse("/runs", status_code=303)

    @router.get("/runs")
    def runs(
        request: Request,
        status: str = "",
        category: str = "",
        since: str = "",
        until: str = "",
        q: str = "",
        mailbox: str = "",
        page_no: int = 0,
    ) -> Response:
        caller = gate.require(request, "viewer")
        start, end = _days(since, until, viewer_zone(request))
        wanted = views.RunFilter(
            status=status if status in STATUSES else None,  # type: ignore[arg-type]
            category=category[:40] or None,
            mailbox=mailbox[:40] or None,
            since=start,
            until=end,
            text=q[:200],
            within=caller.within,
        )
        found = views.find_runs(store, wanted, offset=max(0, page_no) * views.PAGE)
        form = {
            "status": status,
            "category": category,
            "since": since,
            "until": until,
            "q": q,
            "mailbox": mailbox,
        }
        return page(
            request,
            "runs.html",
            caller,
            live=views.live(store, caller.within),
            found=found,
            form=form,
            statuses=STATUSES,
            page_no=max(0, page_no),
        )

    @router.get("/mail")
    def all_mail(
        request: Request,
        sender: str = "",
        subject: str = "",
        issue: str = "",
        outcome: str = "",
        since: str = "",
        until: str = "",
        page_no: int = 0,
    ) -> Response:
        caller = gate.require(request, "viewer")
        start, end = _days(since, until, viewer_zone(request))
        wanted = MailFilter(
            sender=sender[:200] or None,
            words=subject[:200],
            issue_key=issue.strip().upper()[:40] or None,
            outcome=outcome if outcome in OUTCOMES else None,  # type: ignore[arg-type]
            since=start,
            until=end,
            within=caller.within,
        )
        found = find_mail(store, wanted, offset=max(0, page_no) * views.PAGE, page=views.PAGE)
        form = {"sender": sender, "subject": subject, "issue": issue, "outcome": outcome}
        form |= {"since": since, "until": until}
        shown: dict[str, Any] = {
            "found": found,
            "form": form,
            "outcomes": OUTCOMES,
            "page_no": max(0, page_no),
        }
        return page(request, "all_mail.html", caller, **shown)

    @router.get("/runs/{run_id}")
    def run(request: Request, run_id: str) -> Response:
        caller = gate.require(request, "viewer")
        jira_url = None if rt.tool_config.jira_dry_run else rt.tool_config.jira_url
        shown = views.run_page(store, run_id[:100], jira_url, caller.within)
        if shown is None:
            raise HTTPException(404, f"no run {run_id[:100]}")
        trace_url = rt.settings.trace_url(shown.run.trace_id)
        return page(request, "run.html", caller, shown=shown, trace_url=trace_url)

    @router.get("/review")
    def review(request: Request) -> Response:
        caller = gate.require(request, "viewer")
        return page(
            request,
            "review.html",
            caller,
            queue=views.review_queue(store, caller.within),
            policy=rt.policy,
        )

    @router.get("/dead-letters")
    def dead_letters(request: Request) -> Response:
        caller = gate.require(request, "viewer")
        return page(request, "dead_letters.html", caller, letters=store.runs.dead_letters(caller.within))

    @router.get("/quarantine")
    def quarantine(request: Request, page_no: int = 0) -> Response:
        caller = gate.require(request, "viewer")
        held, more = views.quarantined(store, page_no, caller.within)
        shown: dict[str, Any] = {"held": held, "more": more, "page_no": max(0, page_no), "form": {}}
        return page(request, "quarantine.html", caller, **shown)

    @router.get("/quarantine/{delivery_id}")
    def mail(request: Request, delivery_id: str) -> Response:
        caller = gate.require(request, "viewer")
        found = views.quarantined_mail(store, delivery_id[:100], caller.within)
        if found is None:
            raise HTTPException(404, f"no mail {delivery_id[:100]}")
        return page(request, "mail.html", caller, delivery=found[0], shown=found[1])

    @router.get("/incidents")
    def incidents(request: Request, days: int = 7) -> Response:
        caller = gate.require(request, "viewer")
        found = views.incidents(store, days, caller.within)
        return page(
            request, "incidents.html", caller, incidents=found, days=days, memory=rt.memory is not None
        )

    @router.get("/audit")
    def audit(request: Request) -> Response:
        caller = gate.require(request, "admin")
        if caller.within is not None:
            raise HTTPException(
                403, f"{caller.name} is an admin of some mailboxes; the audit trail spans all"
            )
        return page(request, "audit.html", caller, entries=store.operations.audit_trail(500))

    return router


def _days(since: str, until: str, zone: Any) -> tuple[datetime | None, datetime | None]:
    """A filter's From and To dates as the instants the first starts and the last ends; 422 otherwise."""
    try:
        return _day(since, zone), _day(until, zone, end=True)
    except ValueError:
        raise HTTPException(422, "dates are YYYY-MM-DD") from None


def _day(text: str, zone: Any, end: bool = False) -> datetime | None:
    """A YYYY-MM-DD date in the viewer's zone, as the instant its day starts (or, `end`, ends)."""
    if not text:
        return None
    start = datetime.strptime(text[:10], "%Y-%m-%d").replace(tzinfo=zone)
    return (start + timedelta(days=1) if end else start).astimezone(UTC)


def _categories(rt: Runtime) -> list[str]:
    return [c.name for c in taxonomy_for(rt.tool_config.categories_file).categories]
