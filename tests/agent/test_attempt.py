"""After each attempt at a step, one decision: done, retry later, wait, or give up. Every branch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel, ValidationError

from agent.attempt import Done, GiveUp, Limits, Retry, Wait, after_crash, decide
from agent.run import StepState
from tools.base import RetryPolicy
from tools.errors import NotReadyYet, OutcomeUnknown, PermanentToolError, RetryableToolError

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NO_JITTER = RetryPolicy(max_attempts=3, base_s=1.0, cap_s=8.0, jitter=0.0)
LIMITS = Limits(dependency_wait_s=600, retry_scale=1.0, poison_threshold=2)


def attempt(n: int, **changes: object) -> StepState:
    """The state of a step during its n-th attempt."""
    return StepState(status="running", attempts=n, **changes)  # type: ignore[arg-type]


def test_an_attempt_without_error_is_done() -> None:
    assert decide(None, attempt(1), NO_JITTER, LIMITS, AT) == Done()


def test_a_retryable_error_is_retried_with_exponential_backoff() -> None:
    assert decide(RetryableToolError("503"), attempt(1), NO_JITTER, LIMITS, AT) == Retry(1.0, "503")
    assert decide(RetryableToolError("503"), attempt(2), NO_JITTER, LIMITS, AT) == Retry(2.0, "503")


def test_the_backoff_is_capped_scaled_and_never_shorter_than_retry_after() -> None:
    policy = RetryPolicy(max_attempts=20, base_s=1.0, cap_s=8.0, jitter=0.0)
    assert decide(RetryableToolError("x"), attempt(10), policy, LIMITS, AT) == Retry(8.0, "x")
    scaled = Limits(dependency_wait_s=600, retry_scale=0.01)
    assert decide(RetryableToolError("x"), attempt(10), policy, scaled, AT) == Retry(0.08, "x")
    slow_down = RetryableToolError("429", retry_after=30)
    assert decide(slow_down, attempt(1), policy, LIMITS, AT) == Retry(30.0, "429")


def test_jitter_draws_the_delay_below_the_backoff_never_above() -> None:
    policy = RetryPolicy(max_attempts=5, base_s=4.0, cap_s=60.0, jitter=0.5)
    delays = {decide(RetryableToolError("x"), attempt(1), policy, LIMITS, AT).delay_s for _ in range(50)}  # type: ignore[union-attr]
    assert all(2.0 <= d <= 4.0 for d in delays) and len(delays) > 1


def test_an_unknown_outcome_is_retried_like_any_retryable_error() -> None:
    assert isinstance(decide(OutcomeUnknown("timeout"), attempt(1), NO_JITTER, LIMITS, AT), Retry)


def test_the_last_allowed_attempt_gives_up_saying_how_many_and_why() -> None:
    decision = decide(RetryableToolError("503 from Jira"), attempt(3), NO_JITTER, LIMITS, AT)
    assert decision == GiveUp("gave up after 3 attempts: 503 from Jira")


def test_a_permanent_error_gives_up_at_once() -> None:
    decision = decide(PermanentToolError("project SUP does not exist"), attempt(1), NO_JITTER, LIMITS, AT)
    assert decision == GiveUp("PermanentToolError: project SUP does not exist")


def test_invalid_arguments_give_up_naming_the_field_never_the_value() -> None:
    class Args(BaseModel):
        body: str

    with pytest.raises(ValidationError) as caught:
        Args.model_validate({"body": {"secret": "Jane Roe's card 4111"}})
    decision = decide(caught.value, attempt(1), NO_JITTER, LIMITS, AT)
    assert decision == GiveUp("invalid arguments: body: Input should be a valid string")
    assert "4111" not in decision.why


def test_an_unexpected_error_gives_up_instead_of_retrying_blindly() -> None:
    assert decide(KeyError("category"), attempt(1), NO_JITTER, LIMITS, AT) == GiveUp(
        "unexpected KeyError('category')"
    )


def test_a_missing_dependency_waits_without_using_an_attempt_and_remembers_since_when() -> None:
    decision = decide(NotReadyYet("issue not created yet"), attempt(3), NO_JITTER, LIMITS, AT)
    assert decision == Wait(
        4.0, "issue not created yet", since=AT
    )  # the third attempt's backoff, not a give-up
    later = attempt(3, waiting_since=AT - timedelta(seconds=100))
    assert decide(NotReadyYet("still"), later, NO_JITTER, LIMITS, AT) == Wait(
        4.0, "still", AT - timedelta(seconds=100)
    )


def test_waits_back_off_no_further_than_the_tenth_attempt() -> None:
    policy = RetryPolicy(max_attempts=5, base_s=1.0, cap_s=10_000.0, jitter=0.0)
    assert decide(NotReadyYet("x"), attempt(40), policy, LIMITS, AT) == Wait(512.0, "x", AT)


def test_a_wait_beyond_the_dependency_limit_gives_up() -> None:
    long_ago = attempt(1, waiting_since=AT - timedelta(seconds=601))
    assert decide(NotReadyYet("no issue"), long_ago, NO_JITTER, LIMITS, AT) == GiveUp(
        "still waiting after 601s: no issue"
    )


def test_a_step_left_running_by_a_live_process_is_not_a_crash() -> None:
    running = attempt(1, owner="host:1")
    assert after_crash(running, owner_alive=True, limits=LIMITS) == (running, None)
    pending = StepState()
    assert after_crash(pending, owner_alive=False, limits=LIMITS) == (pending, None)


def test_a_step_left_running_by_a_dead_process_counts_a_crash() -> None:
    state, poisoned = after_crash(attempt(1, owner="host:1"), owner_alive=False, limits=LIMITS)
    assert (state.crashes, poisoned) == (1, None)


def test_a_step_that_killed_its_worker_poison_threshold_times_gives_up() -> None:
    state, poisoned = after_crash(attempt(2, crashes=1), owner_alive=False, limits=LIMITS)
    assert state.crashes == 2
    assert poisoned == GiveUp("poison: its worker died 2 times running it")
