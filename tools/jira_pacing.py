"""Jira's rate limits, kept by the whole fleet: every request the jira client sends first takes a turn
under the shared limits of its kind (tools/pacing_port.py), and every answer teaches them.

Jira Cloud limits calls per endpoint and method in bursts, writes per issue, and a site's hourly quota,
each answered with 429, `Retry-After` (seconds), `X-RateLimit-Reset` (when, ISO 8601) and
`RateLimit-Reason` (`jira-burst-based`, `jira-per-issue-on-write`, `jira-quota-...`). So the kinds of
call are paced by configured rates (TRIAGE_JIRA_RATES, calls a second over the fleet), and an answer
that says "not now" holds off the part of the API it names: the endpoint's kind, the one issue, or the
whole site. A call that would wait past its budget does not block its worker: RateLimited (a wait,
never a failed attempt) sends the step back to the queue for when its turn comes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from tools.pacing_port import Limit, Pacer, take_turn

DEFAULT_HOLD_OFF_S = 5.0  # a 429 that says nothing of when: wait this long
_ISSUE = re.compile(r"/issue/([A-Z][A-Z0-9_]*-\d+)")


_before_sending: ContextVar[Callable[[], None] | None] = ContextVar("before_sending", default=None)


@contextmanager
def before_sending(note: Callable[[], None]) -> Iterator[None]:
    """Call `note` when a request of this thread's calls inside the block goes on the wire, after its
    wait for a turn (a create notes its send time there: Jira's search lag counts from it)."""
    token = _before_sending.set(note)
    try:
        yield
    finally:
        _before_sending.reset(token)


def kind_of(method: str, path: str) -> str:
    """The kind of a Jira call, as its limits are kept: search, create, comment, attachments or other."""
    if "/search" in path:
        return "search"
    if "/comment" in path:
        return "comment"
    if "/attachments" in path:
        return "attachments"
    if method == "POST" and (path.rstrip("/").endswith(("/issue", "/request"))):
        return "create"
    return "other"


class PacedAdapter(HTTPAdapter):
    """A transport that waits for the call's turn under the shared limits before it sends, and holds
    off what an answer says is exhausted."""

    def __init__(self, pacer: Pacer, rates: Mapping[str, float], budget_s: float) -> None:
        super().__init__(max_retries=0)
        self.pacer, self.rates, self.budget_s = pacer, dict(rates), budget_s

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        """Send once the turn has come (or raise RateLimited); learn from the answer."""
        site, path = _site_and_path(request.url or "")
        kind = kind_of(request.method or "GET", path)
        take_turn(self.pacer, self._limits(site, kind, path), f"jira {kind}", self.budget_s)
        if (note := _before_sending.get()) is not None:
            note()
        response = super().send(request, *args, **kwargs)
        self._learn(response, site, kind, path)
        return response

    def _limits(self, site: str, kind: str, path: str) -> list[Limit]:
        rate = self.rates.get(kind) or self.rates.get("other") or 0.0
        # Evenly spaced, no bursts of our own: Jira's burst allowance stays free to absorb the jitter
        # between a turn given here and its request's arrival there.
        limits = [Limit(f"jira:{site}:{kind}", rate, 1), Limit(f"jira:{site}")]
        if issue := _ISSUE.search(path):
            limits.append(Limit(f"jira:{site}:issue:{issue.group(1)}"))
        return limits

    def _learn(self, response: requests.Response, site: str, kind: str, path: str) -> None:
        """Hold off what the answer says is exhausted: on a 429 (or a 503 with Retry-After), the part
        of the API its reason names; after any answer with no requests remaining, the site until reset."""
        headers = response.headers
        reason = headers.get("RateLimit-Reason", "")
        told = _seconds_from(headers)
        if response.status_code == 429 or (response.status_code == 503 and told is not None):
            self.pacer.refused(f"jira {kind}", reason or f"http {response.status_code}")
            self.pacer.hold_off(_held_part(site, kind, path, reason), told or DEFAULT_HOLD_OFF_S)
        elif headers.get("X-RateLimit-Remaining") == "0" and told:
            self.pacer.hold_off(f"jira:{site}", told)


def _held_part(site: str, kind: str, path: str, reason: str) -> str:
    """The limit a refusal names: one issue's writes, the whole site's quota, or this kind of call."""
    if reason == "jira-per-issue-on-write" and (issue := _ISSUE.search(path)):
        return f"jira:{site}:issue:{issue.group(1)}"
    if "quota" in reason:
        return f"jira:{site}"
    return f"jira:{site}:{kind}"


def _seconds_from(headers: Mapping[str, str]) -> float | None:
    """How long to hold off: Retry-After (seconds), else until X-RateLimit-Reset; None if neither says."""
    try:
        if (after := headers.get("Retry-After")) is not None:
            return max(0.0, float(after))
        if (reset := headers.get("X-RateLimit-Reset")) is not None:
            at = datetime.fromisoformat(reset.replace("Z", "+00:00"))
            return max(0.0, (at - datetime.now(UTC)).total_seconds())
    except ValueError:
        return None
    return None


def _site_and_path(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.netloc.lower(), parts.path
