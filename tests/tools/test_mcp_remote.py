"""Tools someone else serves over MCP as catalog tools (tools/mcp_remote.py), against a real server
written for the tests (tests/mcp_crm_server.py: 100 tools over stdio, some misbehaving on purpose), and
through the tests' real worker."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis
import uvicorn
from mcp.types import Tool as RemoteTool
from mcp.types import ToolAnnotations

from agent.llm_planner import LLMPlanner
from agent.plan_schema import plan_to_answer
from agent.store import RunStore
from tests import mcp_crm_server
from tests.agent.test_plan import ticket
from tests.conftest import Pipeline
from tests.console.server import running
from tests.llm_server import running_openai
from tests.support import TRIAGE, ScriptedPlanner, email_bytes, issue_plan, make_maildir, wait_for
from tools.base import ToolContext
from tools.errors import PermanentToolError, RetryableToolError
from tools.llm_client import OpenAICompatibleLLM
from tools.mcp_config import McpServer
from tools.mcp_remote import RemoteProblem, as_catalog_tool, remote_catalog
from tools.pacing_port import Limit, RateLimited
from workers import runtime as runtime_module
from workers.pacing import MeteredPacer
from workers.runtime import model_planners, tool_catalog
from workers.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "tests.mcp_crm_server"]


def crm(**changes: Any) -> McpServer:
    """The test server as an operator configures it (its lookups vouched read-only)."""
    config = {
        "name": "crm",
        "command": COMMAND,
        "env": {"PYTHONPATH": str(ROOT)},
        "read_only": ["find_account", "slow_lookup", "huge_report", "drifting_lookup", "whoami"],
    }
    return McpServer.model_validate(config | changes)


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    return remote_catalog([crm(timeout_s=5)])


def test_a_servers_hundred_tools_join_the_catalog_under_its_prefix(catalog: dict[str, Any]) -> None:
    assert len(catalog) == 100 and all(name.startswith("crm__") for name in catalog)
    lookup = catalog["crm__find_account"]
    assert lookup.args_schema()["required"] == ["email"] and "account_id" in lookup.result_model.model_fields


def test_a_tool_is_read_only_only_when_the_server_and_the_operator_both_say_so(
    catalog: dict[str, Any],
) -> None:
    assert not catalog["crm__find_account"].side_effect  # the server's hint and the operator's list
    assert catalog["crm__add_note"].side_effect  # no hint
    assert catalog["crm__inventory_00"].side_effect  # the server's hint alone
    unvouched = remote_catalog([crm(read_only=[])])
    assert unvouched["crm__find_account"].side_effect


def test_the_crm_lookup_finds_a_customers_account(catalog: dict[str, Any], ctx: ToolContext) -> None:
    found = catalog["crm__find_account"].run({"email": "Ann@Example.com"}, ctx)
    assert (found.account_id, found.plan) == ("ACC-77120", "pro")
    with pytest.raises(PermanentToolError, match="no account for bo@example.com"):
        catalog["crm__find_account"].run({"email": "bo@example.com"}, ctx)


def test_a_misbehaving_server_costs_the_step_never_the_worker(
    catalog: dict[str, Any], ctx: ToolContext
) -> None:
    with pytest.raises(PermanentToolError, match="an answer of 1000000 characters"):
        catalog["crm__huge_report"].run({"email": "ann@example.com"}, ctx)
    with pytest.raises(
        PermanentToolError, match="does not fit its schema .*'account_id' is a required property"
    ):
        catalog["crm__drifting_lookup"].run({"email": "ann@example.com"}, ctx)
    with pytest.raises(RetryableToolError, match="no answer within 5s"):
        catalog["crm__slow_lookup"].run({"email": "ann@example.com"}, ctx)
    gone = as_catalog_tool(crm(command=[sys.executable, "-c", "pass"], timeout_s=5), _remote("find_account"))
    with pytest.raises(RetryableToolError, match="crm"):
        gone.run({"email": "ann@example.com"}, ctx)


def test_a_side_effecting_tool_is_called_at_most_once_per_step(
    catalog: dict[str, Any], ctx: ToolContext
) -> None:
    note = catalog["crm__add_note"]
    first = note.run({"email": "ann@example.com"}, ctx)
    assert first.text == "add_note: ok" and note.run({"email": "ann@example.com"}, ctx) == first
    lost = replace(ctx, step_id="note_again")
    ctx.ledger.claim(f"{lost.idempotency_key}:sent", {"tool": "add_note"})  # sent; the answer never came
    with pytest.raises(PermanentToolError, match="a call was sent and its answer lost; not sent again"):
        note.run({"email": "ann@example.com"}, lost)


def test_a_call_to_a_server_that_cannot_be_reached_was_not_sent_and_is_tried_again(
    ctx: ToolContext,
) -> None:
    email = {"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]}
    unreachable = crm(command=[sys.executable, "-c", "pass"], timeout_s=5)
    note = as_catalog_tool(unreachable, _remote("add_note", email))
    with pytest.raises(RetryableToolError, match="crm"):
        note.run({"email": "ann@example.com"}, ctx)
    assert ctx.ledger.get(f"{ctx.idempotency_key}:sent") is None
    back = as_catalog_tool(crm(timeout_s=5), _remote("add_note", email))
    assert back.run({"email": "ann@example.com"}, ctx).text == "add_note: ok"


def _remote(name: str, schema: dict[str, Any] | None = None) -> RemoteTool:
    return RemoteTool(
        name=name, description="a tool", input_schema=schema or {"type": "object", "properties": {}}
    )


def test_a_tool_that_cannot_join_refuses_the_start_naming_server_and_tool() -> None:
    with pytest.raises(RemoteProblem, match="no name a plan can carry"):
        as_catalog_tool(crm(), _remote("x" * 60))
    odd = {"type": "object", "properties": {"when": {"type": "string", "format": "date"}, "n": {"anyOf": []}}}
    with pytest.raises(RemoteProblem, match="property 'n' has a type we cannot take"):
        as_catalog_tool(crm(), _remote("odd", odd))
    with pytest.raises(ConfigError, match="TRIAGE_MCP_SERVERS: MCP server 'crm': cannot list its tools"):
        tool_catalog(load_settings(mcp_servers=[crm(command=["/nonexistent/server"], timeout_s=5)]))


def test_a_plan_finds_the_customers_account_through_the_crm_on_a_real_worker(
    pipeline: Pipeline, catalog: dict[str, Any], swap_runtime: Any, tmp_path: Path
) -> None:
    rt = runtime_module.runtime()
    swap_runtime(catalog={**rt.catalog, **catalog})
    lookup = {"id": "crm", "tool": "crm__find_account", "args": {"email": {"$ref": "ticket.sender"}}}
    swap_runtime(planner=ScriptedPlanner(issue_plan(lookup)))
    raw = email_bytes(sender="Ann Example <ann@example.com>", message_id="<crm-1@example.com>")
    [delivery] = pipeline.feed(make_maildir(tmp_path / "box", raw))
    run = pipeline.wait_final(delivery.run_id or "")
    assert run.status == "done", run.error
    assert run.steps["crm"].result == {"account_id": "ACC-77120", "name": "Ann Example", "plan": "pro"}


def test_a_model_shown_part_of_a_large_catalog_finds_the_account_through_the_crm_on_a_real_worker(
    pipeline: Pipeline, swap_runtime: Any, tmp_path: Path
) -> None:
    rt = runtime_module.runtime()
    finder = {"find_account": {"by": "email", "finds": ["account_id"]}}
    full = {**rt.catalog, **remote_catalog([crm(timeout_s=5, finders=finder)])}
    lookup = {
        "id": "crm__find_account",
        "tool": "crm__find_account",
        "args": {"email": {"ref": "ticket.sender"}},
    }
    answer = plan_to_answer(rt.rules().make_plan(ticket()).plan)  # the lookup last, the issue not told
    with running_openai() as server:
        server.default = lambda request: json.dumps({"steps": [*answer["steps"], lookup]})
        settings = load_settings(llm_model="test-model", llm_base_url=server.url, llm_prompt_budget=20_000)
        llm = OpenAICompatibleLLM(settings.llm_config())
        planner, _ = model_planners(settings, llm, full, rt.abilities, rt.rules())
        assert isinstance(planner, LLMPlanner)
        swap_runtime(catalog=full, planner=planner)
        runs = []
        for n, sender in enumerate(("Ann Example <ann@example.com>", "Bo Stranger <bo@example.com>")):
            raw = email_bytes(
                sender=sender,
                subject="Which account are we on?",
                body="I look after our subscription but can't remember which of your accounts is ours.",
                message_id=f"<crm-{n}@example.com>",
            )
            [delivery] = pipeline.feed(make_maildir(tmp_path / f"box{n}", raw))
            runs.append(pipeline.wait_final(delivery.run_id or ""))

    system = server.requests[0]["messages"][0]["content"]
    shown = re.findall(r"^- ([a-z][a-z0-9_]*): ", system, flags=re.MULTILINE)
    assert len(shown) == settings.planner_max_tools and "- crm__find_account: " in system
    offered = len(planner.showing.catalog)  # the tools this worker can use (memory is off here)
    known, stranger = runs
    assert known.status == "done" and known.planner == "llm", known.error
    assert known.planner_notes[0] == f"shown {settings.planner_max_tools} of the catalog's {offered} tools"
    assert known.steps["crm__find_account"].result["account_id"] == "ACC-77120"
    assert "Account: ACC-77120" in json.dumps(known.steps["create_issue"].result["request"])
    assert stranger.status == "done" and stranger.steps["crm__find_account"].status == "skipped"
    assert "Account: unknown" in json.dumps(stranger.steps["create_issue"].result["request"])


def test_a_finder_reads_only_takes_the_senders_address_and_answers_what_it_finds(ctx: ToolContext) -> None:
    finder = {"by": "email", "finds": ["account_id"]}
    made = remote_catalog([crm(finders={"find_account": finder})])["crm__find_account"]
    assert made.sender_argument == "email" and made.finds == {"account_id"} and made.best_effort
    doubted = replace(ctx, sender_doubt="its From and its envelope sender differ")
    with pytest.raises(PermanentToolError, match="the sender is not trusted .*: not looked up"):
        made.run({"email": "ann@example.com"}, doubted)  # skipped (best effort): the issue has no account
    email = {"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]}
    with pytest.raises(RemoteProblem, match="a finder must be read-only"):
        as_catalog_tool(crm(finders={"add_note": finder}), _remote("add_note", email))
    lookup = RemoteTool(
        name="find_account",
        description="a lookup",
        input_schema=email,
        output_schema={"type": "object", "properties": {"account_id": {"type": "string"}}},
        annotations=ToolAnnotations(read_only_hint=True),
    )
    by_phone = crm(finders={"find_account": {"by": "phone", "finds": ["account_id"]}})
    with pytest.raises(RemoteProblem, match="as string argument 'phone'"):
        as_catalog_tool(by_phone, lookup)
    names = crm(finders={"find_account": {"by": "email", "finds": ["customer_name"]}})
    with pytest.raises(RemoteProblem, match="output schema has no customer_name"):
        as_catalog_tool(names, lookup)
    with pytest.raises(RemoteProblem, match="MCP server 'crm' lists no find_acount \\(its finders\\)"):
        remote_catalog([crm(finders={"find_acount": finder})])  # misspelt, it would never apply


def test_calls_to_a_server_share_its_rate_limit_over_the_fleet(
    store: RunStore, redis_url: str, ctx: ToolContext
) -> None:
    paced = remote_catalog([crm(timeout_s=5, per_s=0.01)])["crm__find_account"]  # one call in 100 s
    with_pacer = replace(ctx, pacer=MeteredPacer(store.pacing))
    assert paced.run({"email": "ann@example.com"}, with_pacer).account_id == "ACC-77120"
    namespace = store.keys.prefix.rstrip(":")
    elsewhere = RunStore(redis.Redis.from_url(redis_url), namespace, retention_s=3600)
    other_worker = replace(ctx, pacer=MeteredPacer(elsewhere.pacing))  # another process's connection
    with pytest.raises(RateLimited, match="mcp:crm: no turn under its rate limits") as later:
        paced.run({"email": "ann@example.com"}, other_worker)
    assert later.value.retry_after > 60  # the step goes back to the queue for then, not failed


REFUSING = threading.Event()  # while set, the HTTP test server refuses every request for its rate


@pytest.fixture(scope="module")
def crm_over_http() -> Iterator[str]:
    """The test server over streamable HTTP, answering the bearer token `s3cret`; its URL."""

    def config(_: int) -> uvicorn.Config:
        app = mcp_crm_server.http_app("s3cret", REFUSING)
        return uvicorn.Config(app, log_level="warning", lifespan="on")

    with running(config) as port:
        yield f"http://127.0.0.1:{port}/mcp"


def test_a_server_over_streamable_http_is_reached_with_its_bearer_token(
    crm_over_http: str, ctx: ToolContext
) -> None:
    server = crm(command=None, url=crm_over_http, token="s3cret", timeout_s=5)
    catalog = remote_catalog([server])
    assert len(catalog) == 100
    assert catalog["crm__find_account"].run({"email": "ann@example.com"}, ctx).account_id == "ACC-77120"
    with pytest.raises(PermanentToolError, match="an answer of 1000000 characters"):
        catalog["crm__huge_report"].run({"email": "ann@example.com"}, ctx)
    with pytest.raises(RetryableToolError, match="no answer within 5s"):
        catalog["crm__slow_lookup"].run({"email": "ann@example.com"}, ctx)
    with pytest.raises(RemoteProblem, match="MCP server 'crm': cannot list its tools"):
        remote_catalog([crm(command=None, url=crm_over_http, token="forged", timeout_s=5)])


def test_a_process_keeps_one_session_per_server_and_opens_another_when_the_server_dies(
    catalog: dict[str, Any], ctx: ToolContext
) -> None:
    whoami = catalog["crm__whoami"]
    first = int(whoami.run({}, ctx).text)
    assert int(whoami.run({}, ctx).text) == first  # the same server process: not started again
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: not _alive(first) or None, 10, "the server to die")
    again = int(whoami.run({}, ctx).text)  # the dead session is found before the call and replaced
    assert again != first and catalog["crm__add_note"].run({"email": "a@example.com"}, ctx).text


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") < 0  # a zombie is gone too


def test_a_command_that_runs_no_plan_neither_starts_the_servers_nor_needs_them(
    redis_url: str, tmp_path: Path
) -> None:
    unreachable = json.dumps([{"name": "crm", "command": ["/nonexistent/server"], "timeout_s": 5}])
    env = {
        **os.environ,
        "TRIAGE_MCP_SERVERS": unreachable,
        "TRIAGE_REDIS_URL": redis_url,
        "TRIAGE_NAMESPACE": f"test-cli-{uuid.uuid4().hex[:8]}",
    }
    listed = subprocess.run([TRIAGE, "runs"], env=env, cwd=tmp_path, capture_output=True, text=True)
    mail = tmp_path / "mail.eml"
    mail.write_bytes(email_bytes())
    planned = subprocess.run(
        [TRIAGE, "plan", "--show", str(mail)], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    assert planned.returncode == 2 and "MCP server 'crm': cannot list its tools" in planned.stderr


def test_a_server_that_refuses_for_its_rate_holds_the_fleet_off_and_nothing_is_lost(
    crm_over_http: str, store: RunStore, ctx: ToolContext
) -> None:
    catalog = remote_catalog([crm(command=None, url=crm_over_http, token="s3cret", timeout_s=5)])
    paced = replace(ctx, pacer=MeteredPacer(store.pacing))
    REFUSING.set()
    try:
        with pytest.raises(RateLimited, match="refused the call for its rate") as refused:
            catalog["crm__find_account"].run({"email": "ann@example.com"}, paced)
        with pytest.raises(RateLimited):  # a side-effecting call: refused, so not sent
            catalog["crm__add_note"].run({"email": "ann@example.com"}, paced)
    finally:
        REFUSING.clear()
    assert refused.value.retry_after == 17  # the step waits as long as the server asked
    assert store.pacing.reserve([Limit("mcp:crm")]) > 10  # and so does every other worker
    sent_again = catalog["crm__add_note"].run({"email": "ann@example.com"}, ctx)  # once the wait is over
    assert sent_again.text == "add_note: ok"
