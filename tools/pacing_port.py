"""The pacer the tools consult before they call an API that the whole fleet shares (Jira, the LLM, the
SMTP relay): its limits hold over every worker process on every host, not per worker as Celery's
rate_limit does. agent/store/pacing.py keeps it in Redis; workers/pacing.py counts what it does."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from tools.errors import NotReadyYet


@dataclass(frozen=True)
class Limit:
    """One limit a call counts against: `key` names it (`jira:<site>:create`); `per_s` units (calls, or
    tokens) a second over the fleet with bursts of `burst` units; `per_s` 0: no pace of its own, only
    what the API said (a hold-off on the whole site, or on one issue)."""

    key: str
    per_s: float = 0.0
    burst: int = 1
    cost: float = 1.0  # units this call takes (tokens, for a tokens-a-minute limit); at most `burst`


class Pacer(Protocol):
    """Turns under shared limits."""

    def reserve(self, limits: list[Limit]) -> float:
        """Take a turn under every limit at once and return 0, or take none and return the seconds until
        all of them may have a turn."""
        ...

    def hold_off(self, key: str, seconds: float) -> None:
        """No turn under `key` for `seconds`: the API said so (a 429's Retry-After)."""
        ...

    def waited(self, api: str, seconds: float) -> None:
        """A call to `api` waited this long for its turn (counted, for the dashboards)."""
        ...

    def refused(self, api: str, reason: str) -> None:
        """`api` refused a call for its rate (a 429), for this reason."""
        ...


class RateLimited(NotReadyYet):
    """The API's turn for this call is further off than the call may wait (or the API refused it for its
    rate): try again then, without spending an attempt."""


def take_turn(pacer: Pacer, limits: list[Limit], api: str, budget_s: float) -> None:
    """Wait for a turn under every limit, for at most `budget_s`; a turn further off raises RateLimited
    (the step goes back to the queue for when it comes, rather than holding its worker)."""
    waited = 0.0
    while (wait := pacer.reserve(limits)) > 0:
        if waited + wait > budget_s:
            pacer.waited(api, waited)
            raise RateLimited(f"{api}: no turn under its rate limits for {wait:.1f}s", retry_after=wait)
        time.sleep(wait)
        waited += wait
    if waited:
        pacer.waited(api, waited)
