"""Jira Service Management through real workers and the real jira client against the Jira test server's
request API: with TRIAGE_JIRA_SERVICE_DESK a ticket is raised as the customer's own request (the customer
is its reporter, made a customer first if need be), colleagues in Cc are its participants and strangers
in Cc are not, a request whose answer was lost is not raised twice, and the start-up check names a
request type that cannot take what the system sends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Pipeline
from tests.jira_server import FakeJira, running_jira
from tests.support import email_bytes, make_maildir
from tools.jira_site import check_site
from workers import runtime as runtime_module

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

DESK, REQUEST_TYPE = "7", "25"


@pytest.fixture
def desk(pipeline: Pipeline, point_at_jira: Any) -> Iterator[FakeJira]:
    """A Jira Cloud site with a service desk (project HELP) and the worker raising requests on it."""
    with running_jira(FakeJira(deployment="Cloud")) as server:
        server.add_service_desk(
            DESK, "HELP", {REQUEST_TYPE: ["summary", "description", "labels"], "26": ["summary"]}
        )
        point_at_jira(server, jira_project="HELP", jira_service_desk=DESK, jira_request_type=REQUEST_TYPE)
        yield server


def mail(pipeline: Pipeline, folder: Path, cc: str) -> str:
    raw = email_bytes(
        message_id=f"<{uuid.uuid4().hex}@acme.example>",
        subject="Invoice shows the wrong VAT",
        body="Our invoice INV-7 has the wrong VAT rate. Account ACC-10234.",
        sender="Ann Lee <ann@acme.example>",
        headers={"Cc": cc},
    )
    [delivery] = pipeline.feed(make_maildir(folder, raw))
    assert delivery.run_id is not None
    return delivery.run_id


def test_a_ticket_is_the_customers_own_request_with_colleagues_as_participants(
    pipeline: Pipeline, desk: FakeJira, tmp_path: Path
) -> None:
    run = pipeline.wait_final(
        mail(pipeline, tmp_path / "box", "Bob <bob@acme.example>, eve@elsewhere.example")
    )
    assert run.status == "done", run.error
    [issue] = desk.issues_with_label(f"triage-{run.ticket.id}")
    assert issue["key"].startswith("HELP-") and issue["key"] == run.steps["create_issue"].result["issue_key"]  # type: ignore[index]
    assert issue["fields"]["reporter"]["emailAddress"] == "ann@acme.example"
    assert (
        desk.service_desk.customers["ann@acme.example"]["displayName"] == "Ann Lee"
    )  # made a customer first
    assert desk.service_desk.participants[issue["key"]] == ["bob@acme.example"]  # not the stranger
    assert "Cc: bob@acme.example, eve@elsewhere.example" in issue["fields"]["description"]
    assert issue["fields"]["priority"] == {"name": "Medium"}  # set on the issue: the request type has none
    [request] = desk.service_desk.requests
    assert (request["serviceDeskId"], request["requestTypeId"]) == (DESK, REQUEST_TYPE)


def test_a_request_whose_answer_was_lost_is_not_raised_twice(
    pipeline: Pipeline, desk: FakeJira, point_at_jira: Any, tmp_path: Path
) -> None:
    point_at_jira(
        desk,
        jira_project="HELP",
        jira_service_desk=DESK,
        jira_request_type=REQUEST_TYPE,
        jira_search_lag_s=0.5,
    )
    desk.fail_next("POST", "/servicedeskapi/request", "drop_after_write")
    desk.fail_next("POST", "/servicedeskapi/request", "429", retry_after=1)
    run = pipeline.wait_final(mail(pipeline, tmp_path / "box", ""), timeout=60)
    assert run.status == "done", run.error
    assert len(desk.issues_with_label(f"triage-{run.ticket.id}")) == 1
    assert desk.state.faults == []


def test_a_request_type_that_cannot_take_the_labels_is_named_at_start(desk: FakeJira) -> None:
    config = runtime_module.runtime().tool_config
    assert check_site(config) == []
    wrong = config.model_copy(update={"jira_request_type": "26"})
    [problem] = check_site(wrong)
    assert problem.startswith(
        "TRIAGE_JIRA_REQUEST_TYPE: request type 26 of desk 7 does not take description, labels"
    )
    [missing] = check_site(config.model_copy(update={"jira_request_type": "99"}))
    assert "TRIAGE_JIRA_SERVICE_DESK / TRIAGE_JIRA_REQUEST_TYPE" in missing and "does not exist" in missing
