"""The Tool contract: declared safely, schemas derived and pinned, retry policy bounded and jittered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from tools.base import RetryPolicy, ToolContext, tool
from tools.catalog import CATALOG, get_tool

SNAPSHOTS = Path(__file__).parent / "snapshots"


class Args(BaseModel):
    x: int


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_the_schema_each_planner_sees_is_derived_from_the_args_model_and_pinned(name: str) -> None:
    # A change here changes what planners are told: update the snapshot on purpose, never by accident.
    snapshot = json.loads((SNAPSHOTS / f"{name}.json").read_text())
    assert CATALOG[name].args_schema() == snapshot


def test_every_catalog_tool_says_what_it_does_and_how_long_it_may_take() -> None:
    for t in CATALOG.values():
        assert t.description and 0 < t.timeout_s < t.hard_timeout_s


def test_side_effecting_tools_are_marked() -> None:
    assert {n for n, t in CATALOG.items() if t.side_effect} == {
        "create_jira_issue",
        "comment_jira_issue",
        "link_incident",
        "acknowledge",
        "attach_files",
        "draft_reply",
    }


def test_an_unknown_tool_name_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known tools: acknowledge, attach_files, categorize_ticket"):
        get_tool(CATALOG, "nope")


def test_a_tool_with_a_bad_name_or_no_description_fails_at_declaration() -> None:
    def fn(args: Args, ctx: ToolContext) -> Args:
        return args

    with pytest.raises(ValueError, match="snake_case"):
        tool(name="Bad Name", description="d", args=Args, result=Args)(fn)
    with pytest.raises(ValueError, match="needs a description"):
        tool(name="good_name", description=" ", args=Args, result=Args)(fn)
    with pytest.raises(TypeError):
        tool(name="good_name", description="d", args=Args, result=Args, retries=3)(fn)  # type: ignore[call-arg]


def test_retry_delay_grows_exponentially_up_to_the_cap_with_jitter_below() -> None:
    policy = RetryPolicy(max_attempts=10, base_s=1, cap_s=8, jitter=0.5)
    for attempt, full in [(1, 1), (2, 2), (3, 4), (4, 8), (9, 8)]:
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(full * 0.5 <= d <= full for d in delays)
        assert len(set(delays)) > 1  # jittered, so retries of many tasks spread out


def test_retry_after_from_the_server_is_honoured() -> None:
    assert RetryPolicy(base_s=1, cap_s=2).delay(1, retry_after=30) == 30


def test_a_retry_policy_is_validated_and_reads_well() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    assert repr(RetryPolicy()) == "RetryPolicy(max_attempts=5, backoff=1.0s*2^n capped at 60.0s, jitter=50%)"
