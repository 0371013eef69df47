"""The console's JSON API under /api: the same reads and actions as the pages, for automation with an
API token (`Authorization: Bearer ...`) or for a logged-in browser (writes carry X-CSRF-Token)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from agent.autonomy import Decision, Edits, Hold
from agent.run import Delivery, Run, RunStatus, now
from agent.run_summary import category_of
from console import views
from console.users import Role
from console.web import Caller, Gate
from inbox.preview import preview
from tasks.operate import discard_run, drop_mail, release_mail, retry_run
from tasks.review import decide
from tools.incident_port import Incident
from workers.runtime import Runtime

_BEARER = HTTPBearer(auto_error=False, description="an API token (`triage console add-token`)")
_ID = Annotated[str, Path(max_length=100)]


class Me(BaseModel):
    """Who the credential belongs to, and the mailboxes their role is limited to (None: all)."""

    name: str
    role: str
    mailboxes: list[str] | None


class Live(BaseModel):
    """The desk's numbers now: the runs of the last `window_s` by status, the review queue's size and
    its oldest hold's age in seconds, dead letters and quarantined mail."""

    window_s: int
    runs: dict[str, int]
    review_queue: int
    review_oldest_age_s: float
    dead_letters: int
    quarantined: int


class RunSummary(BaseModel):
    """One line of a run list."""

    id: str
    status: RunStatus
    created_at: datetime
    finished_at: datetime | None
    planner: str | None
    sender: str
    subject: str
    category: str | None
    error: str | None


class QuarantineList(BaseModel):
    """A page of quarantined messages, newest first, and whether older ones follow (`page` + 1)."""

    mail: list[Delivery]
    more: bool


class RunList(BaseModel):
    """A page of runs and whether there are more."""

    runs: list[RunSummary]
    more: bool


class RunDetail(BaseModel):
    """One run in full, with its hold and the decision on it, if any."""

    run: Run
    hold: Hold | None
    decision: Decision | None


class Waiting(BaseModel):
    """A run in the review queue."""

    hold: Hold
    subject: str | None
    category: str | None


class Approval(BaseModel):
    """An approval, with a person's edits of the issue (validated like any plan)."""

    model_config = ConfigDict(extra="forbid")
    edits: Edits = Field(default_factory=Edits)
    reason: str = Field("", max_length=500)


class Because(BaseModel):
    """Why (kept in the audit trail)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class Done(BaseModel):
    """What an action did."""

    id: str
    action: str
    steps: list[str] = Field(default_factory=list)


class MailPreview(BaseModel):
    """A quarantined message: its delivery record, header fields and the start of its body as text."""

    delivery: Delivery
    fields: list[tuple[str, str]]
    more_fields: int
    text: str
    cut: bool


def run_summary(run: Run) -> RunSummary:
    """One line of a run list (the API's and the MCP tools')."""
    return RunSummary(
        id=run.id,
        status=run.status,
        created_at=run.created_at,
        finished_at=run.finished_at,
        planner=run.planner,
        sender=run.ticket.sender,
        subject=run.ticket.subject,
        category=category_of(run),
        error=run.error,
    )


def api_router(rt: Runtime, gate: Gate) -> APIRouter:
    """The /api routes; every one needs a credential, writes a role above viewer."""
    store = rt.store

    def role(needed: Role) -> Any:
        def check(
            request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
        ) -> Caller:
            return gate.require(request, needed)

        return Depends(check)

    viewer, approver, admin = role("viewer"), role("approver"), role("admin")
    router = APIRouter(prefix="/api", tags=["console"])

    @router.get("/live")
    def live(caller: Caller = viewer) -> Live:
        """Counts for the live view (the console's pages refresh them without a reload)."""
        return Live.model_validate(views.live(rt.store, caller.within))

    @router.get("/me")
    def me(caller: Caller = viewer) -> Me:
        """Who the credential belongs to, and their role."""
        mailboxes = None if caller.within is None else sorted(caller.within)
        return Me(name=caller.name, role=caller.role, mailboxes=mailboxes)

    @router.get("/runs")
    def runs(
        status: RunStatus | None = None,
        category: Annotated[str | None, Query(max_length=40)] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        q: Annotated[str, Query(max_length=200)] = "",
        mailbox: Annotated[str | None, Query(max_length=40)] = None,
        page: Annotated[int, Query(ge=0, le=1000)] = 0,
        caller: Caller = viewer,
    ) -> RunList:
        """Runs, newest first, by status, category, mailbox, creation time (from `since` up to `until`)
        and text."""
        wanted = views.RunFilter(
            status=status,
            category=category,
            mailbox=mailbox,
            since=since,
            until=until,
            text=q,
            within=caller.within,
        )
        found = views.find_runs(store, wanted, offset=page * views.PAGE)
        return RunList(runs=[run_summary(r) for r in found.runs], more=found.more)

    @router.get("/runs/{run_id}", responses={404: {"description": "no such run"}})
    def run(run_id: _ID, caller: Caller = viewer) -> RunDetail:
        """One run in full: ticket, plan, recalled memory, steps, results, usage; its hold and decision."""
        found = views.visible_run(store, run_id, caller.within)
        if found is None:
            raise HTTPException(404, f"no run {run_id}")
        return RunDetail(run=found, hold=store.reviews.held(run_id), decision=store.reviews.decision(run_id))

    @router.get("/reviews")
    def reviews(caller: Caller = viewer) -> list[Waiting]:
        """The review queue, oldest first."""
        return [
            Waiting(hold=h, subject=r.ticket.subject if r else None, category=r and category_of(r))
            for h, r in views.review_queue(store, caller.within)
        ]

    @router.post("/reviews/{run_id}/approve", responses={409: {"description": "not held, or decided"}})
    def approve(run_id: _ID, body: Approval, caller: Caller = approver) -> Done:
        """Approve a held run, with edits; approving twice runs once (the second gets 409)."""
        views.require_run(store, run_id, caller.within)
        decide(
            rt,
            run_id,
            Decision(action="approve", by=caller.name, reason=body.reason, at=now(), edits=body.edits),
        )
        return Done(id=run_id, action="approve")

    @router.post("/reviews/{run_id}/reject", responses={409: {"description": "not held, or decided"}})
    def reject(run_id: _ID, body: Because, caller: Caller = approver) -> Done:
        """Close a held run without its side effects."""
        views.require_run(store, run_id, caller.within)
        decide(rt, run_id, Decision(action="reject", by=caller.name, reason=body.reason, at=now()))
        return Done(id=run_id, action="reject")

    @router.get("/dead-letters")
    def dead_letters(caller: Caller = viewer) -> list[RunSummary]:
        """Runs that could not complete, oldest first, each with why."""
        return [run_summary(r) for r in store.runs.dead_letters(caller.within)]

    @router.post("/dead-letters/{run_id}/retry", responses={409: {"description": "not a dead letter"}})
    def retry(run_id: _ID, body: Because, caller: Caller = admin) -> Done:
        """Replay a dead letter: its unfinished steps run again."""
        views.require_run(store, run_id, caller.within)
        return Done(id=run_id, action="retry", steps=retry_run(rt, run_id, caller.name, body.reason))

    @router.post("/dead-letters/{run_id}/discard", responses={409: {"description": "not a dead letter"}})
    def discard(run_id: _ID, body: Because, caller: Caller = admin) -> Done:
        """Close a dead letter for good."""
        views.require_run(store, run_id, caller.within)
        discard_run(rt, run_id, caller.name, body.reason)
        return Done(id=run_id, action="discard")

    @router.get("/quarantine")
    def quarantine(
        page: Annotated[int, Query(ge=0, le=10_000)] = 0, caller: Caller = viewer
    ) -> QuarantineList:
        """Messages that could not become tickets, newest first, each with why: a page at a time."""
        held, more = views.quarantined(store, page, caller.within)
        return QuarantineList(mail=held, more=more)

    @router.get("/quarantine/{delivery_id}", responses={404: {"description": "no such mail"}})
    def mail(delivery_id: _ID, caller: Caller = viewer) -> MailPreview:
        """A quarantined message's header fields and the start of its body, as text."""
        found = views.quarantined_mail(store, delivery_id, caller.within)
        if found is None:
            raise HTTPException(404, f"no mail {delivery_id}")
        delivery, shown = found
        shown = shown or preview(b"", 0)
        return MailPreview(
            delivery=delivery,
            fields=shown.fields,
            more_fields=shown.more_fields,
            text=shown.text,
            cut=shown.cut,
        )

    @router.post("/quarantine/{delivery_id}/release", responses={409: {"description": "not quarantined"}})
    def release(delivery_id: _ID, body: Because, caller: Caller = admin) -> Done:
        """Send a quarantined message to a worker to be made a ticket after all."""
        views.require_delivery(store, delivery_id, caller.within)
        release_mail(rt, delivery_id, caller.name, body.reason)
        return Done(id=delivery_id, action="release")

    @router.post("/quarantine/{delivery_id}/drop", responses={409: {"description": "not quarantined"}})
    def drop(delivery_id: _ID, body: Because, caller: Caller = admin) -> Done:
        """Delete a quarantined message for good."""
        views.require_delivery(store, delivery_id, caller.within)
        drop_mail(rt, delivery_id, caller.name, body.reason)
        return Done(id=delivery_id, action="drop")

    @router.get("/incidents")
    def incidents(days: Annotated[int, Query(ge=1, le=366)] = 7, caller: Caller = viewer) -> list[Incident]:
        """Incidents with a report in the last `days`, latest report first, with their members (those
        that came to the caller's mailboxes)."""
        return views.incidents(store, days, caller.within)

    return router
