"""The console as one ASGI application: pages, the JSON API and its OpenAPI schema, behind a login.

Every response carries a Content-Security-Policy that allows no inline script and nothing from another
origin: even a mail's text that escaped escaping could not run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from console.actions import actions_router
from console.api import api_router
from console.auth import auth_router
from console.limits import BodyLimit
from console.pages import pages_router
from console.sessions import LoginThrottle, Sessions
from console.users import UsersFile
from console.web import Gate, LoginNeeded, render, templates
from tasks.operate import Refused
from workers.runtime import Runtime

log = logging.getLogger("triage")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def server_config(app: FastAPI, trusted_proxies: list[str], **options: Any) -> uvicorn.Config:
    """How the console is served: X-Forwarded-For is read only from the proxies the operator names
    (TRIAGE_CONSOLE_TRUSTED_PROXIES). Anyone else could name any client in it and so pass the login
    throttle, which counts by client address; uvicorn by default believes it from 127.0.0.1."""
    return uvicorn.Config(
        app,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=trusted_proxies or None,
        server_header=False,
        **options,
    )


def create_app(rt: Runtime, users: UsersFile) -> FastAPI:
    """The console for one runtime (its store, policy and settings) and the people in the users file."""
    settings = rt.settings
    app = FastAPI(
        title="Triage console",
        version=version("ticket-triage"),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        description=__doc__,
    )
    env = templates()
    gate = Gate(
        users,
        Sessions(rt.store.redis, rt.store.keys, settings.console_session_s),
        settings.console_secure_cookies,
    )
    throttle = LoginThrottle(
        rt.store.redis, rt.store.keys, settings.console_login_attempts, settings.console_login_window_s
    )
    app.add_middleware(BodyLimit)
    app.include_router(auth_router(gate, throttle, rt.store.operations, env, settings.console_session_s))
    app.include_router(api_router(rt, gate))
    app.include_router(pages_router(rt, gate, env))
    app.include_router(actions_router(rt, gate))
    app.mount("/static", StaticFiles(directory=Path(__file__).resolve().parent / "static"), name="static")

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> JSONResponse:
        gate.require(request, "viewer")
        return JSONResponse(app.openapi())

    @app.exception_handler(LoginNeeded)
    def login_needed(request: Request, _: LoginNeeded) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse(
                {"detail": "log in or send an API token"}, 401, {"WWW-Authenticate": "Bearer"}
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(HTTPException)
    def refused(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": exc.detail}, exc.status_code, exc.headers)
        back = urlsplit(request.headers.get("referer", "")).path or "/runs"  # the page it was sent from
        html = render(env, request, "refused.html", gate.caller(request), message=str(exc.detail), back=back)
        return HTMLResponse(html, exc.status_code)

    @app.exception_handler(Refused)
    def not_done(request: Request, exc: Refused) -> Response:
        return refused(request, HTTPException(409, str(exc)))

    @app.exception_handler(Exception)
    def failed(request: Request, exc: Exception) -> Response:
        # Starlette answers a 500 outside every middleware: the security headers are set here too.
        log.error("console error %s %s: %r", request.method, request.url.path, exc, exc_info=exc)
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": "internal error (logged)"}, 500, SECURITY_HEADERS)
        return HTMLResponse(
            "<!doctype html><title>Error · Triage console</title><h1>Something went wrong</h1>"
            '<p>It is logged. <a href="/runs">Back to the runs</a></p>',
            500,
            SECURITY_HEADERS,
        )

    @app.middleware("http")
    async def secure_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.scheme == "https":  # served over TLS (or by a trusted proxy that says so): stay there
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    return app
