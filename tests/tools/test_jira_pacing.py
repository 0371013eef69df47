"""The shared pacer on the real Redis, and what the Jira client learns from Jira's answers: turns are
spaced by the configured rate for every caller at once; a 429 holds off the part of the API its reason
names (this kind of call, one issue, the whole site) for the time it said, and is a wait that spends no
attempt; a turn further off than the call may wait sends the step back to the queue."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from pydantic import SecretStr

from agent.attempt import Limits, Wait, decide
from agent.run import StepState, now
from agent.store import RunStore
from tests.jira_server import FakeJira, running_jira
from tests.support import wait_for
from tools import jira_client
from tools.base import RetryPolicy, ToolConfig, ToolContext
from tools.errors import NotReadyYet, RetryableToolError
from tools.jira_issue import IssueResult, create_jira_issue
from tools.jira_pacing import kind_of
from tools.pacing_port import Limit, RateLimited


@pytest.fixture
def jira(store: RunStore) -> Iterator[FakeJira]:
    """A Jira test server, and this process's Jira clients paced by the store's pacer."""
    with running_jira(FakeJira()) as server:
        before = jira_client.pace_with(store.pacing)
        try:
            yield server
        finally:
            jira_client.pace_with(before)


def config_for(ctx: ToolContext, jira: FakeJira) -> ToolConfig:
    update = {"jira_url": jira.url, "jira_user": jira.user, "jira_api_token": SecretStr(jira.token)}
    return replace(ctx, config=ctx.config.model_copy(update=update)).config


ISSUE = {
    "subject": "Charged twice",
    "body": "Please refund.",
    "sender": "jane@example.com",
    "category": "billing",
    "urgency": "high",
}


def site(jira: FakeJira) -> str:
    return jira.url.split("://")[1]


def test_turns_are_spaced_by_the_rate_for_every_caller_at_once(store: RunStore) -> None:
    limit = [Limit("api:x", per_s=2, burst=1)]
    first, second = store.pacing.reserve(limit), store.pacing.reserve(limit)
    assert first == 0 and 0.3 < second <= 0.5  # the next turn is half a second after the first
    bursty = [Limit("api:y", per_s=2, burst=3)]
    assert [store.pacing.reserve(bursty) > 0 for _ in range(4)] == [False, False, False, True]


def test_a_turn_is_taken_under_every_limit_at_once_or_under_none(store: RunStore) -> None:
    store.pacing.hold_off("site", 2)
    assert store.pacing.reserve([Limit("kind", per_s=1), Limit("site")]) > 1.5
    assert store.pacing.reserve([Limit("kind", per_s=1)]) == 0  # the refused call took no turn of it


@pytest.mark.parametrize(
    ("reason", "held", "free"),
    [
        ("jira-per-issue-on-write", "issue:SUP-1", "issue:SUP-2"),
        ("jira-burst-based", "comment", "create"),
        ("jira-quota-tenant-based", "", None),
    ],
)
def test_a_429_holds_off_what_its_reason_names_for_the_time_it_said(
    ctx: ToolContext, jira: FakeJira, store: RunStore, reason: str, held: str, free: str | None
) -> None:
    config = config_for(ctx, jira)
    key = jira_client.create_issue(
        config, {"project": {"key": "SUP"}, "summary": "x", "issuetype": {"name": "Task"}}
    )
    jira.fail_next("POST", f"/issue/{key}/comment", "429", retry_after=30, reason=reason)
    with pytest.raises(RateLimited, match="Jira answered 429") as caught:
        jira_client.add_comment(config, key, "hello")
    assert caught.value.retry_after == 30
    base = f"jira:{site(jira)}"
    assert store.pacing.reserve([Limit(f"{base}:{held}".rstrip(":"))]) > 25
    if free is not None:
        assert store.pacing.reserve([Limit(f"{base}:{free}")]) == 0


def test_a_turn_further_off_than_the_call_may_wait_sends_the_step_back_without_a_request(
    ctx: ToolContext, jira: FakeJira, store: RunStore
) -> None:
    config = config_for(ctx, jira)
    jira_client.client_for(config)  # connected (its one serverInfo request) before the quota ran out
    store.pacing.hold_off(f"jira:{site(jira)}", 60)  # the site's quota is spent for a minute
    before = len(jira.state.requests)
    with pytest.raises(RateLimited, match="no turn under its rate limits") as caught:
        jira_client.find_issue_by_label(config, "triage-T1")
    assert len(jira.state.requests) == before and (caught.value.retry_after or 0) > 55


def test_being_rate_limited_is_a_wait_that_spends_no_attempt() -> None:
    state = StepState(status="running", attempts=8)
    decision = decide(
        RateLimited("jira create: 429", retry_after=4),
        state,
        RetryPolicy(max_attempts=8),
        Limits(3600),
        now(),
    )
    assert isinstance(decision, Wait) and decision.delay_s >= 4


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("GET", "/rest/api/2/search/jql", "search"),
        ("POST", "/rest/api/2/issue", "create"),
        ("POST", "/rest/servicedeskapi/request", "create"),
        ("POST", "/rest/api/2/issue/SUP-1/comment", "comment"),
        ("POST", "/rest/api/2/issue/SUP-1/attachments", "attachments"),
        ("GET", "/rest/api/2/issue/SUP-1", "other"),
    ],
)
def test_each_call_is_of_one_kind(method: str, path: str, kind: str) -> None:
    assert kind_of(method, path) == kind


def test_a_create_that_waited_for_its_turn_counts_jiras_search_lag_from_when_it_went_out(
    ctx: ToolContext, store: RunStore
) -> None:
    """A create noted as sent, then held for its turn longer than the search lag, then answered by a
    dropped connection: the retry must not search (Jira's search cannot see the issue yet) and create a
    second issue."""
    with running_jira(FakeJira(deployment="Cloud", search_lag_s=0.5)) as server:
        before = jira_client.pace_with(store.pacing)
        try:
            config = config_for(ctx, server).model_copy(update={"jira_search_lag_s": 1.0})
            jctx = replace(ctx, config=config, step_id="create_issue")
            jira_client.client_for(config)
            store.pacing.hold_off(f"jira:{site(server)}:create", 1.2)  # the create's turn comes in 1.2 s
            server.fail_next("POST", "/issue", "drop_after_write")
            with pytest.raises(RetryableToolError, match="no answer from Jira"):
                create_jira_issue.run(ISSUE, jctx)
            with pytest.raises(NotReadyYet, match="may not be searchable yet"):
                create_jira_issue.run(ISSUE, jctx)  # at once: 1.2 s after the note, moments after the send

            def after_the_lag() -> IssueResult | None:
                try:
                    return create_jira_issue.run(ISSUE, jctx)
                except NotReadyYet:
                    return None

            again = wait_for(after_the_lag, 10, "the search lag to pass")
            assert not again.created and len(server.issues_with_label("triage-T1")) == 1
        finally:
            jira_client.pace_with(before)
