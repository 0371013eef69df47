"""A CPU-bound tool that overruns is stopped, and while it runs the worker's other threads go on."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from tests.support import wait_for
from tools.base import ToolConfig, ToolContext
from tools.catalog import CATALOG
from tools.errors import RetryableToolError
from tools.sandbox import Died, Sandbox, Stopped

# A pattern that is cubic in whitespace (three adjacent \s*). Settings refuse such a pattern at start-up;
# it stands here for any tool work that runs away on crafted text.
CUBIC = r"\border\s*(?:number)?\s*[:#]?\s*(\d{5,})"
RUNAWAY = {"subject": "my order", "body": "my order" + " " * 4000 + "x"}


def run_away_in_background(
    box: Sandbox, config: ToolConfig, limit_s: float
) -> tuple[threading.Thread, list[str]]:
    """Start the runaway call on another thread; the list receives what it raised."""
    outcome: list[str] = []

    def run_away() -> None:
        try:
            box.run("extract_entities", RUNAWAY, config, limit_s)
        except RetryableToolError as exc:
            outcome.append(str(exc))

    runaway = threading.Thread(target=run_away)
    runaway.start()
    return runaway, outcome


@pytest.fixture
def sandbox() -> Any:
    box = Sandbox()
    yield box
    box.close()


def test_an_overrunning_tool_is_stopped_and_the_next_call_gets_a_fresh_process(
    sandbox: Sandbox, ctx: ToolContext
) -> None:
    config = ctx.config.model_copy(update={"order_id_pattern": CUBIC})
    started = time.monotonic()
    with pytest.raises(
        RetryableToolError, match=r"extract_entities timed out after 1s; its process was stopped"
    ):
        sandbox.run("extract_entities", RUNAWAY, config, timeout_s=1)
    assert time.monotonic() - started < 10  # the old in-thread call ran for minutes and could not be stopped
    fine = sandbox.run(
        "extract_entities", {"subject": "Order 123456", "body": "order 123456 please"}, config, 10
    )
    assert fine["order_id"] == "123456"


def test_while_a_tool_runs_away_the_other_threads_of_the_worker_keep_working(
    sandbox: Sandbox, ctx: ToolContext
) -> None:
    config = ctx.config.model_copy(update={"order_id_pattern": CUBIC})
    sandbox.run("extract_entities", {"subject": "warm", "body": "up"}, config, 10)  # the helper is up
    runaway, outcome = run_away_in_background(sandbox, config, 3)
    began = time.monotonic()
    total = sum(i * i for i in range(2_000_000))  # this thread's own work, while the pattern runs
    took = time.monotonic() - began
    runaway.join()
    assert total > 0 and took < 2.5  # not frozen behind a GIL held by the regex for the whole 3 s
    assert outcome == ["extract_entities timed out after 3s; its process was stopped"]


def test_categorizing_offline_runs_in_a_helper_and_answers_as_it_would_in_the_worker(
    sandbox: Sandbox, ctx: ToolContext
) -> None:
    categorize = CATALOG["categorize_ticket"]
    ctx = replace(ctx, config=ctx.config.model_copy(update={"classifier": "tfidf"}))
    args = {"subject": "Refund please", "body": "I was charged twice, please refund the second payment"}
    isolated = sandbox.run(categorize.name, args, ctx.config, 10)
    assert isolated == categorize.run(args, ctx).model_dump(mode="json")
    assert isolated["category"] == "billing"


def test_which_calls_run_in_a_killable_helper_and_with_what_limit(ctx: ToolContext) -> None:
    extract, categorize = CATALOG["extract_entities"], CATALOG["categorize_ticket"]
    ctx = replace(ctx, config=ctx.config.model_copy(update={"classifier": "tfidf"}))
    with_llm = replace(ctx, llm=object())  # type: ignore[arg-type]
    embeddings = replace(ctx, config=ctx.config.model_copy(update={"classifier": "embeddings"}))
    # Offline, both judgement tools are CPU work on a stranger's text: in a helper, stopped at 10 s.
    assert (extract.isolation_limit(ctx), categorize.isolation_limit(ctx)) == (10, 10)
    # A shorter configured timeout is the helper's limit too.
    assert replace(categorize, timeout_s=2).isolation_limit(ctx) == 2
    # With an LLM they mostly wait on it, in the worker (extract's patterns were probed at start-up).
    assert (extract.isolation_limit(with_llm), categorize.isolation_limit(with_llm)) == (None, None)
    # The embeddings model reads a bounded window and is too heavy to load into each helper.
    assert (extract.isolation_limit(embeddings), categorize.isolation_limit(embeddings)) == (10, None)
    # Jira calls wait on the network and write a ledger a helper does not have.
    assert CATALOG["create_jira_issue"].isolation_limit(ctx) is None


def test_calls_beyond_the_helpers_wait_for_one_and_give_up_after_their_own_limit(ctx: ToolContext) -> None:
    """CPU-bound work gets a helper per core at most; a call that finds none free within its limit is
    retried later instead of starting yet another interpreter."""
    box = Sandbox(size=1)
    config = ctx.config.model_copy(update={"order_id_pattern": CUBIC})
    try:
        box.run("extract_entities", {"subject": "warm", "body": "up"}, config, 10)
        runaway, outcome = run_away_in_background(box, config, 3)
        wait_for(lambda: not box._idle, 5, "the runaway call to hold the one helper")
        with pytest.raises(RetryableToolError, match=r"all 1 tool processes stayed busy for 0.5s"):
            box.run("extract_entities", {"subject": "next", "body": "order 123456"}, config, 0.5)
        runaway.join()
        assert outcome == ["extract_entities timed out after 3s; its process was stopped"]
        fine = box.run("extract_entities", {"subject": "next", "body": "order 123456"}, config, 10)
        assert fine["order_id"] == "123456"
    finally:
        box.close()


def test_helpers_killed_while_idle_cost_no_call(ctx: ToolContext) -> None:
    box = Sandbox(2)
    box.prestart(2)
    dead = {helper.process.pid for helper in box._idle}
    for helper in box._idle:  # a signal to the worker's whole process group reaches its helpers too
        helper.process.terminate()
        helper.process.wait(5)
    try:
        pid = box.call("os:getpid", (), {}, timeout_s=30, wait_s=30)
    finally:
        box.close()
    assert pid not in dead  # a fresh helper took the call: not an "its process died" for the work


def test_a_helper_stopped_by_a_signal_at_the_work_is_not_the_works_fault(sandbox: Sandbox) -> None:
    # `docker stop` or systemd sends SIGTERM to the worker and its helpers at once: the work was
    # interrupted, not deadly; what the caller does with it (a mail stays unread) must not blame the mail.
    with pytest.raises(Stopped):
        sandbox.call("signal:raise_signal", (signal.SIGTERM,), {}, timeout_s=30, wait_s=30)


def test_a_helper_the_work_kills_is_said_to_have_died_at_it(sandbox: Sandbox) -> None:
    with pytest.raises(Died):  # a native crash in a parser: the work's fault (retried once by ingest)
        sandbox.call("os:abort", (), {}, timeout_s=30, wait_s=30)
