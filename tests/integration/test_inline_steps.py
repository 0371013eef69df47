"""A step that a task's own advance claimed runs in that task instead of going to the queue as a message
of its own: through the real worker (which also executes), a new ticket's whole plan costs no execute
message: the plan task runs categorize and extract (quick local work, no model to ask), then what they
unlock, create_issue and acknowledge. Work that waits on something (a model, simulated I/O) still runs in
parallel; a step whose time limit does not fit what is left of the message's, and every retry, is
still sent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from celery.signals import before_task_publish

from agent.planner import RulePlanner
from tasks.tool_call import message_limits, time_limits
from tests.agent.test_plan import ticket
from tests.conftest import Pipeline
from tests.jira_server import FakeJira, running_jira
from tests.support import email_bytes, make_maildir
from tools.catalog import CATALOG
from workers import runtime as runtime_module

pytestmark = pytest.mark.integration


@contextmanager
def published() -> Iterator[list[tuple[str, list[Any], dict[str, Any]]]]:
    """Every task message published meanwhile: (task name, its arguments, its headers)."""
    sent: list[tuple[str, list[Any], dict[str, Any]]] = []

    def record(body: Any = None, headers: dict[str, Any] | None = None, **_: Any) -> None:
        sent.append((str((headers or {}).get("task")), list(body[0]), dict(headers or {})))

    before_task_publish.connect(record, weak=False)
    try:
        yield sent
    finally:
        before_task_publish.disconnect(record)


def send(pipeline: Pipeline, folder: Path) -> Any:
    raw = email_bytes(subject="Charged twice", body="My card was charged twice. Account ACC12345.",
                      message_id=f"<{uuid.uuid4().hex}@example.com>",
                      sender=f"c{uuid.uuid4().hex[:6]}@customer.example")  # fmt: skip
    [delivery] = pipeline.feed(make_maildir(folder, raw))
    return pipeline.wait_final(delivery.run_id or "", timeout=60)


def steps_sent(sent: list[tuple[str, list[Any], dict[str, Any]]], run_id: str) -> list[str]:
    return [args[1] for name, args, _ in sent if name == "triage.execute_step" and args[0] == run_id]


def test_a_new_tickets_plan_costs_no_execute_message(pipeline: Pipeline, tmp_path: Path) -> None:
    with published() as sent:
        run = send(pipeline, tmp_path / "box")
    assert run.status == "done" and all(s.status == "done" and s.attempts == 1 for s in run.steps.values())
    assert set(run.steps) == {"categorize", "extract", "create_issue", "acknowledge"}
    assert steps_sent(sent, run.id) == []


def test_steps_that_wait_on_something_still_run_in_parallel(
    pipeline: Pipeline, swap_runtime: Any, tmp_path: Path
) -> None:
    settings = runtime_module.runtime().settings.model_copy(update={"simulated_tool_latency_s": 0.01})
    swap_runtime(settings=settings)  # every tool stands in for I/O
    with published() as sent:
        run = send(pipeline, tmp_path / "box")
    assert run.status == "done" and steps_sent(sent, run.id) == ["extract"]  # categorize ran in the plan task


def test_a_retry_of_a_step_run_in_another_steps_message_goes_as_its_own_message(
    pipeline: Pipeline, point_at_jira: Any, tmp_path: Path
) -> None:
    with running_jira(FakeJira()) as jira, published() as sent:
        point_at_jira(jira)
        jira.fail_next("POST", "/issue", "503")
        run = send(pipeline, tmp_path / "box")
    assert run.status == "done" and run.steps["create_issue"].attempts == 2 and len(jira.state.issues) == 1
    retries = [
        h for name, args, h in sent if name == "triage.execute_step" and args == [run.id, "create_issue"]
    ]
    assert len(retries) == 1 and retries[0]["eta"] is not None  # sent once, for later: the retry


def test_a_steps_message_has_room_for_the_longest_step_that_may_follow_it_and_no_more() -> None:
    plan = RulePlanner(acknowledge=True).make_plan(ticket()).plan
    own, create, ack = (
        time_limits(CATALOG[n]) for n in ("categorize_ticket", "create_jira_issue", "acknowledge")
    )
    assert message_limits(CATALOG, plan, "categorize") == (
        own[0] + max(create[0], ack[0]),
        own[1] + max(create[1], ack[1]),
    )
    assert message_limits(CATALOG, plan, "acknowledge") == ack  # nothing follows it
