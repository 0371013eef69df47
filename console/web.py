"""What every console request shares: who is calling (a session cookie or an API token), the checks of
role and CSRF token, the templates (escaping everything), and times in the viewer's zone."""

from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from fastapi import HTTPException, Request
from markupsafe import Markup

from agent.store.run_listing import Within, sees
from console.sessions import Session, Sessions
from console.users import Role, UsersFile, allowed, password_mark

SESSION_COOKIE = "triage_session"
ZONE_COOKIE = "tz"  # the browser's IANA time zone, set by static/console.js
CSRF_HEADER = "X-CSRF-Token"
_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Caller:
    """Who sent a request: a logged-in person (with their session) or an API token (session None), and
    the mailboxes their role is limited to (None: every mailbox)."""

    name: str
    role: str
    session: Session | None
    within: Within = None

    def may(self, needed: Role) -> bool:
        """True when the caller's role allows what needs `needed`."""
        return allowed(self.role, needed)

    def sees(self, mailbox: str) -> bool:
        """True when the caller may see and act on what came to `mailbox`."""
        return sees(self.within, mailbox)


class LoginNeeded(Exception):
    """No valid session or token: a page sends the browser to log in, the API answers 401."""


@dataclass(frozen=True)
class Gate:
    """Finds the caller of a request and checks what they may do."""

    users: UsersFile
    sessions: Sessions
    secure_cookies: bool

    @property
    def cookie_name(self) -> str:
        """`__Host-` pins a secure cookie to this host and path / (no subdomain can set or read it)."""
        return f"__Host-{SESSION_COOKIE}" if self.secure_cookies else SESSION_COOKIE

    def caller(self, request: Request) -> Caller | None:
        """The caller, or None when the request carries no valid credential."""
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and credential:
            token = self.users.current().token(credential.strip())
            return Caller(token.name, token.role, None, _within(token.mailboxes)) if token else None
        session = self.sessions.find(request.cookies.get(self.cookie_name, ""))
        user = self.users.current().user(session.user) if session is not None else None
        if session is None or user is None or session.mark != password_mark(user):
            return None  # a removed user, or one whose password changed, is logged out
        # the role and mailboxes as the users file says now
        return Caller(session.user, user.role, session, _within(user.mailboxes))

    def require(self, request: Request, needed: Role, csrf: str | None = None) -> Caller:
        """The caller if they may do what needs `needed`. A state-changing request from a session must
        carry its CSRF token (a form field, or the X-CSRF-Token header); one with a token needs none."""
        found = self.caller(request)
        if found is None:
            raise LoginNeeded()
        if request.method not in ("GET", "HEAD") and found.session is not None:
            presented = csrf if csrf is not None else request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(presented.encode(), found.session.csrf.encode()):
                raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
        if not found.may(needed):
            raise HTTPException(403, f"{found.name} is a {found.role}; this needs the {needed} role")
        return found


def _within(mailboxes: list[str] | None) -> Within:
    return None if mailboxes is None else frozenset(mailboxes)


def viewer_zone(request: Request) -> ZoneInfo:
    """The viewer's time zone (the browser tells it in a cookie), UTC when unknown."""
    name = request.cookies.get(ZONE_COOKIE, "UTC")[:64]
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def templates() -> jinja2.Environment:
    """The page templates. Autoescape is on for every template: mail text shows as text, always."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=shown_directions,
    )
    env.filters["when"] = _when
    env.filters["pretty"] = lambda value: json.dumps(value, indent=1, ensure_ascii=False, default=str)
    return env


_DIRECTION_MARKS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown_directions(value: Any) -> Any:
    """Text as a page shows it: the invisible marks that turn text around (`invoice\u202efdp.exe` reads as
    `invoiceexe.pdf`) shown by name instead, [U+202E]. The page's own markup is left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _DIRECTION_MARKS.sub(lambda m: f"[U+{ord(m.group()):04X}]", value)
    return value


def _when(value: datetime | str | None, zone: ZoneInfo) -> Markup:
    """A time (or an ISO 8601 text) in the viewer's zone, the exact UTC instant in its title."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return Markup("{}").format(value)
    if value is None:
        return Markup("-")
    local = value.astimezone(zone)
    utc = value.astimezone(UTC).isoformat(timespec="seconds")
    return Markup('<time datetime="{0}" title="{0}">{1}</time>').format(
        utc, local.strftime("%Y-%m-%d %H:%M %Z")
    )


def render(
    env: jinja2.Environment, request: Request, template: str, caller: Caller | None, **context: Any
) -> str:
    """A page, with the caller, their CSRF token and zone at hand for the template."""
    token = caller.session.csrf if caller and caller.session else ""
    zone = viewer_zone(request)
    context.setdefault("done", "")
    return env.get_template(template).render(request=request, me=caller, csrf=token, zone=zone, **context)
