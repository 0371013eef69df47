"""The real `jira` client against a Jira-compatible server: exactly once, whatever Jira answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.jira_server import FakeJira, running_jira
from tests.support import wait_for
from tools.base import ToolContext
from tools.errors import NotReadyYet, PermanentToolError, RetryableToolError
from tools.jira_client import (
    JiraUnreachable,
    check_jira,
    create_issue,
    find_issue_by_label,
    issue_links,
    link_issues,
)
from tools.jira_comment import comment_jira_issue
from tools.jira_issue import IssueResult, create_jira_issue

ARGS = {
    "subject": "Charged twice", "body": "Please refund.", "sender": "jane@example.com", "category": "billing",
    "urgency": "high", "customer_name": "Jane Doe", "account_id": "ACC12345",
}  # fmt: skip
REPLY = {"parent_ticket_id": "T1", "body": "Any news?", "sender": "jane@example.com"}


@pytest.fixture(params=["Server", "Cloud"])
def jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    """Jira Server (Data Center) and Jira Cloud, whose search API is another endpoint."""
    with running_jira(FakeJira(deployment=request.param)) as server:
        yield server


@pytest.fixture
def jctx(ctx: ToolContext, jira: FakeJira) -> ToolContext:
    config = ctx.config.model_copy(
        update={
            "jira_url": jira.url,
            "jira_user": jira.user,
            "jira_api_token": SecretStr(jira.token),
            "jira_components": {"billing": "Billing"},
        }
    )
    return replace(ctx, config=config)


def reply_ctx(ctx: ToolContext) -> ToolContext:
    return replace(ctx, run_id="T2", ticket_id="T2", step_id="comment")


def test_the_issue_carries_the_configured_fields_the_idempotency_label_and_the_component(
    jctx: ToolContext, jira: FakeJira
) -> None:
    result = create_jira_issue.run(ARGS, jctx)
    assert result.created and not result.dry_run and result.issue_key == "SUP-1"
    fields = jira.state.issues["SUP-1"]["fields"]
    assert fields["priority"] == {"name": "High"} and fields["issuetype"] == {"name": "Task"}
    assert fields["labels"] == ["triage", "category-billing", "triage-T1"]
    assert fields["components"] == [{"name": "Billing"}]
    assert "jane@example.com" in fields["description"] and "ACC12345" in fields["description"]
    assert "triage show T1" in fields["description"]
    assert jctx.ledger.get("T1:create_issue")["issue_key"] == "SUP-1"  # type: ignore[index]


def test_a_lost_create_response_is_found_by_its_label_on_retry_not_created_again(
    jctx: ToolContext, jira: FakeJira
) -> None:
    jira.fail_next("POST", "/issue", "drop_after_write")
    with pytest.raises(RetryableToolError, match="no answer from Jira"):
        create_jira_issue.run(ARGS, jctx)
    assert len(jira.state.issues) == 1  # Jira did create it
    again = create_jira_issue.run(ARGS, jctx)
    assert again.issue_key == "SUP-1" and not again.created
    assert len(jira.issues_with_label("triage-T1")) == 1


def test_a_record_in_the_ledger_answers_without_asking_jira(jctx: ToolContext, jira: FakeJira) -> None:
    create_jira_issue.run(ARGS, jctx)
    before = len(jira.state.requests)
    assert not create_jira_issue.run(ARGS, jctx).created
    assert len(jira.state.requests) == before


@pytest.mark.parametrize(("kind", "retry_after"), [("429", 7), ("503", 3), ("500", None)])
def test_throttling_and_server_errors_are_retryable_and_honour_retry_after(
    jctx: ToolContext, jira: FakeJira, kind: str, retry_after: int | None
) -> None:
    jira.fail_next("POST", "/issue", kind, retry_after=retry_after)
    with pytest.raises(RetryableToolError, match=f"Jira answered {kind}") as caught:
        create_jira_issue.run(ARGS, jctx)
    assert caught.value.retry_after == retry_after
    assert create_jira_issue.run(ARGS, jctx).created


def test_field_errors_are_permanent_and_carry_jiras_messages(jctx: ToolContext, jira: FakeJira) -> None:
    jira.fail_next("POST", "/issue", "400")
    with pytest.raises(
        PermanentToolError, match=r"rejected the request \(400\): summary: You must specify a summary"
    ):
        create_jira_issue.run(ARGS, jctx)


def test_bad_credentials_are_permanent_and_the_token_is_never_in_the_message(
    jctx: ToolContext, jira: FakeJira
) -> None:
    wrong = replace(jctx, config=jctx.config.model_copy(update={"jira_api_token": SecretStr("wrong-secret")}))
    with pytest.raises(PermanentToolError, match=r"refused the credentials \(401\)") as caught:
        create_jira_issue.run(ARGS, wrong)
    assert "wrong-secret" not in str(caught.value) and jira.token not in str(caught.value)


def test_a_reply_comments_once_even_when_the_response_is_lost(jctx: ToolContext, jira: FakeJira) -> None:
    create_jira_issue.run(ARGS, jctx)
    jira.fail_next("POST", r"/issue/SUP-1/comment", "drop_after_write")
    with pytest.raises(RetryableToolError):
        comment_jira_issue.run(REPLY, reply_ctx(jctx))
    result = comment_jira_issue.run(REPLY, reply_ctx(jctx))
    assert result.issue_key == "SUP-1" and not result.created
    [comment] = jira.state.comments["SUP-1"]
    assert "Any news?" in comment["body"] and "[triage-ref T2:comment]" in comment["body"]


def test_a_marker_in_someone_elses_comment_does_not_stand_for_our_reply(
    jctx: ToolContext, jira: FakeJira
) -> None:
    # A stranger wrote the victim's next marker into a mail an agent pasted into the issue.
    create_jira_issue.run(ARGS, jctx)
    jira.add_comment_by("SUP-1", "agent@example.com", "customer wrote: [triage-ref T2:comment]")
    result = comment_jira_issue.run(REPLY, reply_ctx(jctx))
    assert result.created and len(jira.state.comments["SUP-1"]) == 2


def test_a_reply_waits_while_the_original_ticket_has_no_issue(jctx: ToolContext, jira: FakeJira) -> None:
    with pytest.raises(RetryableToolError, match="T1 has no issue yet"):
        comment_jira_issue.run(REPLY, reply_ctx(jctx))
    assert jira.state.issues == {}


def test_a_reply_finds_the_issue_by_label_when_the_ledger_lost_it(jctx: ToolContext, jira: FakeJira) -> None:
    create_jira_issue.run(ARGS, jctx)
    jctx.ledger.redis.delete(jctx.ledger.keys.ledger("jira-issue:T1"))  # type: ignore[attr-defined]
    assert comment_jira_issue.run(REPLY, reply_ctx(jctx)).issue_key == "SUP-1"


def test_a_comment_on_a_deleted_issue_is_permanent_with_a_clear_reason(
    jctx: ToolContext, jira: FakeJira
) -> None:
    create_jira_issue.run(ARGS, jctx)
    jira.delete_issue("SUP-1")
    with pytest.raises(
        PermanentToolError, match=r"SUP-1: not found in Jira \(404, deleted\?\): Issue Does Not Exist"
    ):
        comment_jira_issue.run(REPLY, reply_ctx(jctx))


def test_check_accepts_a_configuration_that_matches_the_server(jctx: ToolContext) -> None:
    assert check_jira(jctx.config) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"jira_priorities": {"low": "Low", "medium": "Normal", "high": "High"}},
            "TRIAGE_JIRA_PRIORITIES: medium -> 'Normal'",
        ),
        (
            {"jira_issue_type": "Incident"},
            "TRIAGE_JIRA_ISSUE_TYPE: 'Incident' is not an issue type of project SUP",
        ),
        ({"jira_components": {"technical": "Backend"}}, "TRIAGE_JIRA_COMPONENTS: technical -> 'Backend'"),
        ({"jira_project": "NOPE"}, "No project could be found with key 'NOPE'"),
        ({"jira_api_token": SecretStr("wrong")}, "refused the credentials (401)"),
    ],
)
def test_check_names_what_is_wrong(jctx: ToolContext, change: dict[str, object], problem: str) -> None:
    problems = check_jira(jctx.config.model_copy(update=change))
    assert any(problem in p for p in problems), problems


def test_an_unreachable_jira_is_not_a_wrong_setting(jctx: ToolContext, tmp_path: Path) -> None:
    config = jctx.config.model_copy(update={"jira_url": "http://127.0.0.1:1", "jira_timeout_s": 2})
    with pytest.raises(JiraUnreachable, match="no answer from Jira"):
        check_jira(config)


@pytest.fixture
def lagging(ctx: ToolContext) -> Iterator[tuple[FakeJira, ToolContext]]:
    """Jira Cloud whose search index shows a new issue only after 1 s, as Cloud's may."""
    with running_jira(FakeJira(deployment="Cloud", search_lag_s=1.0)) as server:
        config = ctx.config.model_copy(update={"jira_url": server.url, "jira_user": server.user,
                                               "jira_api_token": SecretStr(server.token), "jira_search_lag_s": 2.0})  # fmt: skip
        yield server, replace(ctx, config=config)


def test_on_cloud_the_client_searches_with_the_new_endpoint_and_never_the_removed_one(
    lagging: tuple[FakeJira, ToolContext],
) -> None:
    jira, jctx = lagging
    create_jira_issue.run(ARGS, jctx)
    paths = {path for _, path in jira.state.requests}
    assert "/search/jql" in paths and "/search" not in paths


def test_the_test_servers_cloud_search_lags_behind_a_create(lagging: tuple[FakeJira, ToolContext]) -> None:
    jira, jctx = lagging
    create_jira_issue.run(ARGS, jctx)
    assert "SUP-1" in jira.state.issues
    assert find_issue_by_label(jctx.config, "triage-T1") is None  # created, not yet searchable
    assert wait_for(lambda: find_issue_by_label(jctx.config, "triage-T1"), timeout=5) == "SUP-1"


def test_a_lost_create_is_not_repeated_while_clouds_search_may_still_miss_it(
    lagging: tuple[FakeJira, ToolContext],
) -> None:
    jira, jctx = lagging
    jira.fail_next("POST", "/issue", "drop_after_write")
    with pytest.raises(RetryableToolError, match="no answer from Jira"):
        create_jira_issue.run(ARGS, jctx)
    # At once, the label search misses the issue Jira did create: the retry waits instead of creating.
    with pytest.raises(NotReadyYet, match="may not be searchable yet") as waited:
        create_jira_issue.run(ARGS, jctx)
    assert 0 < (waited.value.retry_after or 0) <= 2.0

    def retried() -> IssueResult | None:
        try:
            return create_jira_issue.run(ARGS, jctx)
        except NotReadyYet:
            return None

    again = wait_for(retried, timeout=10, what="the retry after the consistency window")
    assert again.issue_key == "SUP-1" and not again.created
    assert len(jira.state.issues) == 1


def test_without_a_consistency_window_the_lag_would_create_a_duplicate(
    lagging: tuple[FakeJira, ToolContext],
) -> None:
    # Why TRIAGE_JIRA_SEARCH_LAG_S exists: the same lost answer, retried at once with no window.
    jira, jctx = lagging
    jctx = replace(jctx, config=jctx.config.model_copy(update={"jira_search_lag_s": 0.0}))
    jira.fail_next("POST", "/issue", "drop_after_write")
    with pytest.raises(RetryableToolError):
        create_jira_issue.run(ARGS, jctx)
    create_jira_issue.run(ARGS, jctx)
    assert len(jira.issues_with_label("triage-T1")) == 2


def test_a_huge_body_and_control_characters_fit_jiras_limits(jctx: ToolContext, jira: FakeJira) -> None:
    hostile = {
        **ARGS,
        "subject": "Refund\x00 now\x1b[31m\nplease " + "x" * 400,
        "body": "A\x07" + "y" * 9_400_000,
    }
    result = create_jira_issue.run(hostile, jctx)
    fields = jira.state.issues[result.issue_key]["fields"]
    assert len(fields["summary"]) == 255 and fields["summary"].startswith(
        "[billing] Refund now [31m please x"
    )
    assert len(fields["description"]) <= 32_767 and "\x07" not in fields["description"]
    assert fields["description"].endswith("more characters; the whole text: triage show T1]")


def test_jira_refuses_what_real_jira_refuses(jctx: ToolContext, jira: FakeJira) -> None:
    fields = {"project": {"key": "SUP"}, "issuetype": {"name": "Task"}, "summary": "two\nlines",
              "description": "z" * 32_768}  # fmt: skip
    with pytest.raises(PermanentToolError, match="newline characters.*|.*32,767 characters"):
        create_issue(jctx.config, fields)


def test_issues_are_linked_once_and_each_end_sees_the_other(jctx: ToolContext, jira: FakeJira) -> None:
    member = create_jira_issue.run(ARGS, jctx).issue_key
    problem = create_issue(
        jctx.config, {"project": {"key": "SUP"}, "summary": "Outage", "issuetype": {"name": "Task"}}
    )
    for _ in range(2):  # a retry after a lost answer links nothing twice
        link_issues(jctx.config, "Relates", member, problem)
    assert jira.links_of(problem) == [("Relates", member, problem)]
    assert issue_links(jctx.config, member) == [("Relates", problem)]
    assert issue_links(jctx.config, problem) == [("Relates", member)]


def test_an_unknown_link_type_or_issue_is_a_permanent_error_in_jiras_words(
    jctx: ToolContext, jira: FakeJira
) -> None:
    member = create_jira_issue.run(ARGS, jctx).issue_key
    with pytest.raises(PermanentToolError, match="No issue link type with name 'Problem/Incident' found"):
        link_issues(jctx.config, "Problem/Incident", member, member)
    with pytest.raises(PermanentToolError, match="Issue Does Not Exist"):
        link_issues(jctx.config, "Relates", member, "SUP-999")
