"""`triage mcp` as assistants meet it, through the official `mcp` client: over stdio (a real `triage mcp`
process, the operator's rights) and over streamable HTTP (uvicorn, console API tokens and their roles),
on the tests' real worker and Redis."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import uvicorn
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from agent.planner import RulePlanner
from assistants.server import http_app
from console.users import UsersFile, add_token
from tests.conftest import Pipeline
from tests.console.conftest import VIP, People, send_mail
from tests.console.server import running
from tests.smtp_server import SmtpServer
from tests.support import wait_for
from workers import runtime as runtime_module

READS = {
    "find_runs",
    "get_run",
    "review_queue",
    "dead_letters",
    "incidents",
    "categorize_ticket",
    "extract_entities",
}

DECISIONS = {"approve_run", "reject_run"}
ACTS = {
    "create_jira_issue",
    "comment_jira_issue",
    "link_incident",
    "acknowledge",
    "attach_files",
    "draft_reply",
}


def answer(result: Any) -> Any:
    """What a tool answered, as JSON (an error's text as a string)."""
    text = result.content[0].text
    return text if result.is_error else json.loads(text)


@contextmanager
def serving(people: People) -> Iterator[str]:
    """`triage mcp --http` in a thread of the test process, on the worker's runtime: its /mcp URL."""

    def config(port: int) -> uvicorn.Config:
        app = http_app(runtime_module.runtime(), UsersFile(people.path), f"http://127.0.0.1:{port}")
        return uvicorn.Config(app, log_level="warning")

    with running(config) as port:
        yield f"http://127.0.0.1:{port}/mcp"


async def over_http(
    url: str, token: str, calls: list[tuple[str, dict[str, Any]]]
) -> tuple[set[str], list[Any]]:
    """The tools a token's holder is shown, and what each call answered."""
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        return listed, [answer(await client.call_tool(name, args)) for name, args in calls]


def test_over_stdio_the_operators_assistant_finds_a_mail_by_its_message_id_and_judges_a_text(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    run_id = send_mail(
        pipeline, tmp_path / "mail", "ann@example.com", "Cannot log in", "Locked out since noon."
    )
    message_id = pipeline.wait_final(run_id).ticket.message_id
    env = {
        **os.environ,
        "TRIAGE_REDIS_URL": pipeline.settings.redis_url,
        "TRIAGE_NAMESPACE": pipeline.settings.namespace,
        "TRIAGE_MEMORY": "off",
    }
    server = StdioServerParameters(command=str(Path(sys.executable).parent / "triage"), args=["mcp"], env=env)

    async def session() -> tuple[set[str], Any, Any]:
        async with Client(server) as client:
            listed = {t.name for t in (await client.list_tools()).tools}
            found = answer(await client.call_tool("find_runs", {"query": message_id}))
            billing = {"subject": "Invoice charged twice", "body": "We were billed twice for March."}
            judged = answer(await client.call_tool("categorize_ticket", billing))
            return listed, found, judged

    listed, found, judged = anyio.run(session)
    assert listed == READS | DECISIONS | ACTS  # the operator may do everything
    assert [r["id"] for r in found["runs"]] == [run_id]
    assert judged["category"] == "billing"


def test_over_http_a_viewers_token_lists_and_calls_reads_only_and_no_token_gets_nothing(
    pipeline: Pipeline, people: People
) -> None:
    with serving(people) as url:
        calls = [("review_queue", {}), ("approve_run", {"run_id": "T1"})]
        listed, [queue, refused] = anyio.run(over_http, url, people.tokens["viewer"], calls)
        assert listed == READS and isinstance(queue, list)
        assert refused == "no tool 'approve_run' for this caller"
        assert httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).status_code == 401
        assert httpx.post(url, headers={"Authorization": "Bearer forged"}, json={}).status_code == 401


def test_over_http_a_token_limited_to_a_mailbox_finds_nothing_of_another(
    pipeline: Pipeline, people: People, tmp_path: Path
) -> None:
    run_id = send_mail(pipeline, tmp_path / "mail", "bo@example.com", "Export broken", "The export is empty.")
    message_id = pipeline.wait_final(run_id).ticket.message_id
    token = add_token(people.path, f"bot-sales-{uuid.uuid4().hex[:6]}", "viewer", ["sales"])
    calls = [("find_runs", {"query": message_id}), ("get_run", {"run_id": run_id})]
    with serving(people) as url:
        _, [found, shown] = anyio.run(over_http, url, token, calls)
    assert found == {"runs": [], "more": False} and shown == f"no run {run_id}"


def test_over_http_an_approver_decides_a_hold_once_and_the_audit_trail_names_the_token(
    pipeline: Pipeline, people: People, held_policy: Any, tmp_path: Path
) -> None:
    token = add_token(people.path, f"bot-approver-{uuid.uuid4().hex[:6]}", "approver")
    run_id = send_mail(pipeline, tmp_path / "mail", VIP, "Contract question", "Please call me.")
    wait_for(lambda: pipeline.store.reviews.held(run_id), 30, "the run to be held")
    with serving(people) as url:
        calls = [
            ("review_queue", {}),
            ("approve_run", {"run_id": run_id, "reason": "known customer"}),
            ("approve_run", {"run_id": run_id}),
        ]
        listed, [queue, approved, again] = anyio.run(over_http, url, token, calls)
    assert listed == READS | DECISIONS  # an approver decides holds; side effects are an admin's
    assert run_id in [w["hold"]["run_id"] for w in queue]
    assert approved == {"id": run_id, "action": "approve"}
    assert "decided already" in again  # approving twice runs once
    assert pipeline.wait_final(run_id).status == "done"
    [entry] = [e for e in pipeline.store.operations.audit_trail() if e["run"] == run_id]
    assert entry["action"] == "approve" and entry["by"].startswith("bot-approver-")


TEXT = {"subject": {"$ref": "ticket.subject"}, "body": {"$ref": "ticket.body"}}
ACK_ARGS = {
    "subject": {"$ref": "ticket.subject"},
    "issue_key": {"$ref": "steps.create_issue.issue_key"},
    "name": {"$ref": "steps.extract.customer_name"},
}


def test_an_admins_assistant_acknowledges_a_run_once_under_its_key_and_the_policy_still_holds(
    pipeline: Pipeline, people: People, smtp: SmtpServer, swap_runtime: Any, tmp_path: Path
) -> None:
    swap_runtime(planner=RulePlanner(acknowledge=False))  # a desk that did not acknowledge this one
    quiet = send_mail(pipeline, tmp_path / "a", "cy@example.com", "Wrong invoice", "The total is wrong.")
    swap_runtime(planner=RulePlanner(acknowledge=True))
    acked = send_mail(pipeline, tmp_path / "b", "di@example.com", "Wrong invoice", "The total is wrong.")
    assert pipeline.wait_final(quiet).status == pipeline.wait_final(acked).status == "done"
    sent_before = len(smtp.messages())
    call = {"run_id": quiet, "idempotency_key": "ack-0001", "args": ACK_ARGS}
    calls = [
        ("acknowledge", call),
        ("acknowledge", call),  # retried: the same key finds what the first call did
        ("acknowledge", {**call, "idempotency_key": "ack-0002"}),
        ("acknowledge", {"run_id": acked, "idempotency_key": "ack-0003", "args": ACK_ARGS}),
        ("create_jira_issue", {"run_id": quiet, "idempotency_key": "issue-0001", "args": TEXT}),
    ]
    with serving(people) as url:
        listed, [first, again, other_key, twice, second_issue] = anyio.run(
            over_http, url, people.tokens["admin"], calls
        )
        viewer_sees, _ = anyio.run(over_http, url, people.tokens["viewer"], [])
    assert isinstance(first, dict), first
    assert first["sent"] is True and again == first
    assert len(smtp.messages()) == sent_before + 1
    [ack] = smtp.messages()[sent_before:]
    assert ack["To"].addresses[0].addr_spec == "cy@example.com"
    assert other_key == f"acknowledge was called for run {quiet} already, with another idempotency key"
    assert twice.startswith("the policy refuses the call: ") and "acknowledged, once" in twice
    assert second_issue.startswith("the policy refuses the call: ") and "exactly one issue" in second_issue
    assert "acknowledge" in listed and "acknowledge" not in viewer_sees
    trail = [e for e in pipeline.store.operations.audit_trail() if e["action"] == "mcp:acknowledge"]
    assert [(e["run"], e["by"], e["reason"]) for e in trail] == [(quiet, "bot-admin", "done")] * 2
