"""Retries, dead letters, timeouts and redelivery, on a real worker and real Redis."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from celery.signals import task_postrun
from pydantic import BaseModel

from agent.run import StepState
from tests.conftest import Pipeline
from tests.support import ScriptedPlanner, email_bytes, issue_plan, make_maildir, wait_for
from tools.base import RetryPolicy, ToolContext, tool
from tools.errors import PermanentToolError, RetryableToolError

pytestmark = pytest.mark.integration


class FlakyArgs(BaseModel):
    failures: int
    permanent: bool = False
    sleep_s: float = 0.0


class FlakyResult(BaseModel):
    attempt: int


@tool(
    name="flaky",
    description="Fails `failures` times, then succeeds.",
    args=FlakyArgs,
    result=FlakyResult,
    timeout_s=0.5,
    retry=RetryPolicy(max_attempts=4, base_s=1, cap_s=4),
)
def flaky(args: FlakyArgs, ctx: ToolContext) -> FlakyResult:
    attempt = ctx.ledger.next_number(f"attempts:{ctx.idempotency_key}")
    if args.sleep_s:
        time.sleep(args.sleep_s)
    if attempt <= args.failures:
        if args.permanent:
            raise PermanentToolError("the ticket system rejected the fields: summary is required")
        raise RetryableToolError(f"temporarily unavailable (attempt {attempt})", retry_after=0.01)
    return FlakyResult(attempt=attempt)


@pytest.fixture
def run_with(pipeline: Pipeline, use_planner: Any, add_tool: Any, tmp_path: Path) -> Callable[..., Any]:
    """Run one new ticket whose plan is a single `flaky` step with these arguments."""
    add_tool(flaky)
    counter = iter(range(1_000_000))

    def run(**args: Any) -> Any:
        use_planner(ScriptedPlanner(issue_plan({"id": "step", "tool": "flaky", "args": args})))
        message_id = f"<flaky-{time.time_ns()}-{next(counter)}@example.com>"
        [delivery] = pipeline.feed(
            make_maildir(tmp_path / message_id.strip("<>"), email_bytes(message_id=message_id))
        )
        return pipeline.wait_final(delivery.run_id or "")

    return run


def test_a_retryable_error_is_retried_with_backoff_until_it_succeeds(run_with: Callable[..., Any]) -> None:
    run = run_with(failures=2)
    assert run.status == "done"
    assert run.steps["step"].attempts == 3 and run.steps["step"].result == {"attempt": 3}


def test_exhausted_retries_put_the_run_in_dead_letters_with_the_last_error(
    pipeline: Pipeline, run_with: Callable[..., Any]
) -> None:
    run = run_with(failures=99)
    assert run.status == "dead_letter" and run.steps["step"].attempts == 4
    assert "gave up after 4 attempts: temporarily unavailable (attempt 4)" in (run.error or "")
    assert run.id in {r.id for r in pipeline.store.runs.dead_letters()}


def test_a_permanent_error_is_not_retried_and_is_dead_lettered_with_its_reason(
    run_with: Callable[..., Any],
) -> None:
    run = run_with(failures=1, permanent=True)
    assert run.status == "dead_letter" and run.steps["step"].attempts == 1
    assert "summary is required" in (run.error or "")


def test_a_tool_that_exceeds_its_timeout_is_retried_and_then_dead_lettered(
    run_with: Callable[..., Any],
) -> None:
    run = run_with(failures=0, sleep_s=1.0)
    assert run.status == "dead_letter"
    assert "flaky timed out after 0.5s" in (run.error or "")


def test_invalid_arguments_after_resolution_dead_letter_the_run(run_with: Callable[..., Any]) -> None:
    run = run_with(failures="many")
    assert run.status == "dead_letter"


def test_a_redelivered_side_effect_step_does_not_create_a_second_issue(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    from tasks.execute import execute_step

    [delivery] = pipeline.feed(
        make_maildir(tmp_path / "box", email_bytes(message_id="<redelivered-1@example.com>"))
    )
    run_id = delivery.run_id or ""
    done = pipeline.wait_final(run_id)
    issue_key = done.steps["create_issue"].result["issue_key"]  # type: ignore[index]
    # The worker died after Jira answered and before the step was recorded: the broker redelivers it.
    store = pipeline.store
    store.redis.hdel(store.keys.run(run_id), "finished_at")
    store.runs.set_status(run_id, "running")
    store.runs.save_step(run_id, "create_issue", StepState(status="running", attempts=1))
    ended: list[object] = []

    def count(args: Any = None, **_: Any) -> None:
        if list(args or []) == [run_id, "create_issue"]:
            ended.append(args)

    task_postrun.connect(count, weak=False)
    try:
        for _ in range(3):
            execute_step.apply_async((run_id, "create_issue"))
        wait_for(lambda: len(ended) == 3, 30, "the three redeliveries to end")  # each may see the others
    finally:
        task_postrun.disconnect(count)
    again = pipeline.wait_final(run_id)
    result = again.steps["create_issue"].result or {}
    assert again.status == "done" and result["issue_key"] == issue_key and result["created"] is False
    assert [line["kind"] for line in pipeline.outbox() if line["issue_key"] == issue_key] == ["create_issue"]


def test_a_plan_the_policy_rejects_dead_letters_the_run_with_every_reason(
    pipeline: Pipeline, use_planner: Any, tmp_path: Path
) -> None:
    use_planner(ScriptedPlanner([{"id": "x", "tool": "drop_database", "args": {}}]))
    [delivery] = pipeline.feed(
        make_maildir(tmp_path / "box", email_bytes(message_id="<bad-plan@example.com>"))
    )
    run = pipeline.wait_final(delivery.run_id or "")
    assert run.status == "dead_letter" and "unknown tool 'drop_database'" in (run.error or "")


class SlowArgs(BaseModel):
    seconds: float


class SlowResult(BaseModel):
    language: str


@tool(name="slow_step", description="Takes its time.", args=SlowArgs, result=SlowResult, timeout_s=10)
def slow_step(args: SlowArgs, ctx: ToolContext) -> SlowResult:
    time.sleep(args.seconds)
    return SlowResult(language="en")


def test_a_reply_waits_for_a_slow_ticket_without_using_up_its_attempts(
    pipeline: Pipeline, use_planner: Any, add_tool: Any, tmp_path: Path
) -> None:
    add_tool(slow_step)
    reply_plan = {
        "id": "comment",
        "tool": "comment_jira_issue",
        "args": {
            "parent_ticket_id": {"$ref": "ticket.thread_of"},
            "body": {"$ref": "ticket.body"},
            "sender": {"$ref": "ticket.sender"},
        },
    }

    class SlowParentPlanner(ScriptedPlanner):
        def make_plan(self, ticket: Any, recall: Any = None) -> Any:
            slow = {"id": "slow", "tool": "slow_step", "args": {"seconds": 4}}
            *firsts, issue = issue_plan(slow)  # the issue waits for the slow step's language
            issue["args"]["language"] = {"$ref": "steps.slow.language"}
            steps = [reply_plan] if ticket.thread_of else [*firsts, issue]
            return ScriptedPlanner(steps).make_plan(ticket)

    use_planner(SlowParentPlanner([]))
    parent = email_bytes(message_id="<slow-parent@example.com>")
    reply = email_bytes(
        message_id="<slow-reply@example.com>", headers={"In-Reply-To": "<slow-parent@example.com>"}
    )
    first, second = pipeline.feed(make_maildir(tmp_path / "box", parent, reply))
    done = pipeline.wait_final(second.run_id or "")
    assert done.status == "done", done.error
    comment = done.steps["comment"]
    assert comment.attempts == 1 and comment.waiting_since is not None  # many waits, one attempt
    assert pipeline.wait_final(first.run_id or "").status == "done"
