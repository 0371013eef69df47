"""Logging in and out of the console: the login form (with its own CSRF cookie, so nobody can log a
browser into their account), the throttle on failed attempts, and the session cookie."""

from __future__ import annotations

import hmac
import secrets

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from agent.store.operations import Operations
from console.sessions import LoginThrottle
from console.users import check_password, password_mark
from console.web import Gate, render

LOGIN_CSRF_COOKIE = "triage_login_csrf"


def safe_next(target: str | None) -> str:
    """Where to go after login: a path of this site only (never //host or a scheme: no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and len(target) < 500:
        return target
    return "/runs"


def auth_router(
    gate: Gate, throttle: LoginThrottle, audit: Operations, env: jinja2.Environment, lifetime_s: int
) -> APIRouter:
    """The /login and /logout routes."""
    router = APIRouter(include_in_schema=False)

    def login_page(
        request: Request,
        status: int = 200,
        error: str = "",
        name: str = "",
        headers: dict[str, str] | None = None,
    ) -> Response:
        token = secrets.token_urlsafe(24)
        html = render(
            env,
            request,
            "login.html",
            None,
            login_csrf=token,
            error=error,
            name=name,
            next=safe_next(request.query_params.get("next")),
        )
        page = HTMLResponse(html, status, headers=headers)
        page.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            max_age=3600,
            httponly=True,
            samesite="strict",
            secure=gate.secure_cookies,
        )
        return page

    @router.get("/login")
    def login_form(request: Request) -> Response:
        return login_page(request)

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        name = str(form.get("name", ""))[:64]
        password = str(form.get("password", ""))[:1024]
        presented = str(form.get("login_csrf", ""))
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
            return login_page(request, 403, "the login form expired: please try again", name)
        address = request.client.host if request.client else "?"
        if wait := throttle.wait_s(name, address):
            return login_page(
                request,
                429,
                f"too many failed logins: try again in {wait // 60 + 1} minute(s)",
                name,
                {"Retry-After": str(wait)},
            )
        user = gate.users.current().user(name)
        matched = await run_in_threadpool(check_password, user, password)  # argon2: off the event loop
        if user is None or not matched:
            if throttle.failed(name, address):
                reason = f"from {address} (more failures from it this minute are counted, not listed)"
                audit.record_audit("login_failed", None, reason, by=name)
            return login_page(request, 401, "wrong name or password", name)
        throttle.succeeded(name, address)
        session_id, _ = gate.sessions.start(user.name, user.role, password_mark(user))
        audit.record_audit("login", None, f"from {address}", by=user.name)
        target = safe_next(str(form.get("next", "")))
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            gate.cookie_name,
            session_id,
            max_age=lifetime_s,
            httponly=True,
            samesite="strict",
            secure=gate.secure_cookies,
            path="/",
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await request.form()
        caller = gate.require(request, "viewer", str(form.get("csrf", "")))
        gate.sessions.end(request.cookies.get(gate.cookie_name, ""))
        audit.record_audit("logout", None, "", by=caller.name)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(gate.cookie_name, path="/", secure=gate.secure_cookies, httponly=True)
        return response

    return router
