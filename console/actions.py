"""The console's actions, each a form posted with the session's CSRF token: approve or reject a held
run, retry or discard a dead letter, release or drop quarantined mail. Each acts only on what the
caller's mailboxes hold, then returns to the page it came from."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from agent.autonomy import Decision, Edits
from agent.run import now
from console import views
from console.web import Caller, Gate
from tasks.operate import Refused, discard_run, drop_mail, release_mail, retry_run
from tasks.review import decide
from workers.runtime import Runtime

DONE = {  # what a finished action says on the page it returns to (codes, so a link cannot put words there)
    "approved": "Approved: the run goes on.",
    "rejected": "Rejected: the run is closed without its side effects.",
    "retried": "Sent again.",
    "discarded": "Discarded.",
    "released": "Sent to a worker to be made a ticket; its delivery will say what it became.",
    "dropped": "Deleted.",
}


def actions_router(rt: Runtime, gate: Gate) -> APIRouter:
    """The forms' POST routes."""
    router = APIRouter(include_in_schema=False)
    store = rt.store

    async def act(
        request: Request, needed: str, do: Callable[[Caller, dict[str, str]], None], back: str, done: str
    ) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        caller = gate.require(request, needed, form.get("csrf", ""))  # type: ignore[arg-type]
        try:
            do(caller, form)  # Refused (and NotDecided) answer 409: console/app.py
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise HTTPException(422, f"not a valid edit: {problems}") from None
        return RedirectResponse(f"{back}?done={done}", status_code=303)

    @router.post("/review/{run_id}/approve")
    async def approve(request: Request, run_id: str) -> Response:
        def do(caller: Caller, form: dict[str, str]) -> None:
            views.require_run(store, run_id, caller.within)
            fields = {
                k: form.get(k, "").strip() or None for k in ("category", "urgency", "priority", "summary")
            }
            edits = Edits.model_validate(fields)
            decide(
                rt,
                run_id,
                Decision(
                    action="approve",
                    by=caller.name,
                    reason=form.get("reason", "")[:500],
                    at=now(),
                    edits=edits,
                ),
            )

        return await act(request, "approver", do, "/review", "approved")

    @router.post("/review/{run_id}/reject")
    async def reject(request: Request, run_id: str) -> Response:
        def do(caller: Caller, form: dict[str, str]) -> None:
            views.require_run(store, run_id, caller.within)
            reason = _reason(form)
            decide(rt, run_id, Decision(action="reject", by=caller.name, reason=reason, at=now()))

        return await act(request, "approver", do, "/review", "rejected")

    @router.post("/dead-letters/{run_id}/retry")
    async def retry(request: Request, run_id: str) -> Response:
        def do(caller: Caller, form: dict[str, str]) -> None:
            views.require_run(store, run_id, caller.within)
            retry_run(rt, run_id, caller.name, form.get("reason", "")[:500] or "replayed from the console")

        return await act(request, "admin", do, "/dead-letters", "retried")

    @router.post("/dead-letters/{run_id}/discard")
    async def discard(request: Request, run_id: str) -> Response:
        def do(caller: Caller, form: dict[str, str]) -> None:
            views.require_run(store, run_id, caller.within)
            discard_run(rt, run_id, caller.name, _reason(form))

        return await act(request, "admin", do, "/dead-letters", "discarded")

    @router.post("/quarantine/{delivery_id}/release")
    async def release(request: Request, delivery_id: str) -> Response:
        def do(caller: Caller, form: dict[str, str]) -> None:
            views.require_delivery(store, delivery_id, caller.within)
            release_mail(rt, delivery_id, caller.name, _reason(form))

        return await act(request, "admin", do, "/quarantine", "released")

    @router.post("/quarantine/{delivery_id}/drop")
    async def drop(request: Request, delivery_id: str) -> Response:
        def do(caller: Caller, form: dict[str, str]) -> None:
            views.require_delivery(store, delivery_id, caller.within)
            drop_mail(rt, delivery_id, caller.name, _reason(form))

        return await act(request, "admin", do, "/quarantine", "dropped")

    return router


def _reason(form: dict[str, str]) -> str:
    reason = form.get("reason", "").strip()[:500]
    if not reason:
        raise Refused("say why (the reason is kept in the audit trail)")
    return reason
