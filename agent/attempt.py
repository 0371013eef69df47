"""What happens after one attempt at a step: done, retry later, wait for something, or give up.

A pure decision from the attempt's outcome, the step's state and the tool's retry policy; the execute
task only loads, runs the tool, asks here, and applies the answer. Kept apart so that each branch has a
test of its own and no branch needs Celery or Redis to be understood.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from agent.run import StepState
from tools.base import RetryPolicy
from tools.errors import NotReadyYet, PermanentToolError, RetryableToolError, field_errors

WAIT_BACKOFF_CAP = 10  # waits back off like attempts, but never beyond the tenth attempt's delay


@dataclass(frozen=True)
class Done:
    """The tool answered: record its result and dispatch what was waiting on it."""


@dataclass(frozen=True)
class Retry:
    """It failed in a way worth another attempt, after `delay_s`."""

    delay_s: float
    why: str


@dataclass(frozen=True)
class Wait:
    """Something outside the step is not there yet: try again after `delay_s` without using an attempt."""

    delay_s: float
    why: str
    since: datetime


@dataclass(frozen=True)
class GiveUp:
    """Retrying cannot help (or may not go on): the run goes to the dead-letter list with `why`."""

    why: str


Decision = Done | Retry | Wait | GiveUp


@dataclass(frozen=True)
class Limits:
    """The settings a decision depends on."""

    dependency_wait_s: float
    retry_scale: float = 1.0
    poison_threshold: int = 3


def decide(
    error: BaseException | None, state: StepState, retry: RetryPolicy, limits: Limits, at: datetime
) -> Decision:
    """The decision after an attempt that raised `error` (None: it succeeded); `state` counts this attempt."""
    if error is None:
        return Done()
    if isinstance(error, NotReadyYet):
        since = state.waiting_since or at
        waited = (at - since).total_seconds()
        if waited > limits.dependency_wait_s:
            return GiveUp(f"still waiting after {waited:.0f}s: {error}")
        delay = retry.delay(min(state.attempts, WAIT_BACKOFF_CAP), error.retry_after, limits.retry_scale)
        return Wait(delay, str(error), since)
    if isinstance(error, RetryableToolError):
        if state.attempts >= retry.max_attempts:
            return GiveUp(f"gave up after {state.attempts} attempts: {error}")
        return Retry(retry.delay(state.attempts, error.retry_after, limits.retry_scale), str(error))
    if isinstance(error, PermanentToolError):
        return GiveUp(f"PermanentToolError: {error}")
    if isinstance(error, ValidationError):
        return GiveUp(f"invalid arguments: {field_errors(error)}")
    return GiveUp(f"unexpected {error!r}")  # a bug or an unexpected failure: fail fast and visibly


def after_crash(state: StepState, owner_alive: bool, limits: Limits) -> tuple[StepState, GiveUp | None]:
    """Before an attempt: a step left `running` by a process that is gone was a crash. It is counted, and
    the step gives up once `poison_threshold` attempts have killed their worker."""
    if state.status != "running" or owner_alive:
        return state, None
    crashed = state.model_copy(update={"crashes": state.crashes + 1})
    if crashed.crashes >= limits.poison_threshold:
        return crashed, GiveUp(f"poison: its worker died {crashed.crashes} times running it")
    return crashed, None
