"""A lookup of the customer by the ticket's own sender (a CRM's, consumed over MCP and configured as a
finder) gives an issue its account in place of the extract step's reading of the mail, and may look up
no one but the sender (agent/pins.py, agent/policy.py)."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.types import Tool as RemoteTool
from mcp.types import ToolAnnotations

from agent.pins import filled, with_findings
from agent.plan import REF, Plan, PlanInvalid, Step
from agent.planner import RulePlanner
from agent.policy import review_plan
from tests.agent.test_plan import ticket
from tools.base import Tool
from tools.catalog import CATALOG
from tools.mcp_config import McpServer
from tools.mcp_remote import as_catalog_tool

NEW = ticket()
EMAIL = {"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]}
ACCOUNT = {"type": "object", "properties": {"account_id": {"type": "string"}}, "required": ["account_id"]}


def crm_catalog() -> dict[str, Tool[Any, Any]]:
    """The catalog with a CRM whose find_account the operator made a finder (and a look-alike not)."""
    server = McpServer.model_validate(
        {
            "name": "crm",
            "command": ["unused"],
            "read_only": ["find_account", "guess_account"],
            "finders": {"find_account": {"by": "email", "finds": ["account_id"]}},
        }
    )
    read = ToolAnnotations(read_only_hint=True)
    tools = [
        RemoteTool(name=n, description=n, input_schema=EMAIL, output_schema=ACCOUNT, annotations=read)
        for n in ("find_account", "guess_account")
    ]
    return dict(CATALOG) | {t.name: t for t in (as_catalog_tool(server, r) for r in tools)}


CRM = crm_catalog()


def with_step(step: dict[str, Any]) -> Plan:
    """The rules' plan of a new ticket with one step more, first (where the issue's reference to it
    puts it: agent/plan_tidy.py)."""
    plan = RulePlanner().make_plan(NEW).plan
    return plan.model_copy(update={"steps": [Step.model_validate(step), *plan.steps]})


def issue_args(plan: Plan) -> dict[str, Any]:
    [issue] = [s for s in plan.steps if s.tool == "create_jira_issue"]
    return issue.args


def test_a_lookup_by_sender_gives_the_issue_its_account() -> None:
    lookup = {"id": "crm", "tool": "crm__find_account", "args": {}}
    plan = filled(with_findings(with_step(lookup)), catalog=CRM)
    assert issue_args(plan)["account_id"] == {REF: "steps.crm.account_id"}
    assert plan.steps[0].args == {"email": {REF: "ticket.sender"}}  # whom it looks up: the sender
    review_plan(plan, NEW, CRM, max_steps=10)
    assert issue_args(filled(with_step(lookup)))["account_id"] == {REF: "steps.extract.account_id"}


def test_a_lookup_of_anyone_but_the_sender_is_refused() -> None:
    someone = {"id": "crm", "tool": "crm__find_account", "args": {"email": {REF: "ticket.body"}}}
    with pytest.raises(PlanInvalid, match="'crm': email must be"):
        review_plan(filled(with_step(someone), catalog=CRM), NEW, CRM, max_steps=10)


def test_an_account_from_a_tool_no_operator_made_a_finder_is_refused() -> None:
    guess = {"id": "guess", "tool": "crm__guess_account", "args": {"email": {REF: "ticket.sender"}}}
    plan = filled(with_step(guess), catalog=CRM)
    assert issue_args(plan)["account_id"] == {REF: "steps.extract.account_id"}
    [issue] = [s for s in plan.steps if s.tool == "create_jira_issue"]
    lying = issue.model_copy(update={"args": {**issue.args, "account_id": {REF: "steps.guess.account_id"}}})
    steps = [lying if s is issue else s for s in plan.steps]
    with pytest.raises(PlanInvalid, match="account_id may only be"):
        review_plan(plan.model_copy(update={"steps": steps}), NEW, CRM, max_steps=10)


def test_an_account_a_person_wrote_is_kept() -> None:
    plan = with_step({"id": "crm", "tool": "crm__find_account", "args": {}})
    [issue] = [s for s in plan.steps if s.tool == "create_jira_issue"]
    edited = issue.model_copy(update={"args": {**issue.args, "account_id": "ACC-10001"}})
    plan = plan.model_copy(update={"steps": [edited if s is issue else s for s in plan.steps]})
    assert issue_args(filled(plan, catalog=CRM))["account_id"] == "ACC-10001"
