"""Plan validation: tools, arguments and references are checked before the first step runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agent.plan import Plan, PlanInvalid, dependencies, resolve_args, validate_plan, waits_for
from agent.planner import RulePlanner
from agent.run import Run, StepState
from inbox.ticket import Ticket
from tools.catalog import CATALOG


def ticket(**changes: Any) -> Ticket:
    fields = {
        "id": "T1",
        "message_id": "m@x",
        "subject": "Invoice wrong",
        "sender": "jane@example.com",
        "sender_name": "Jane Doe",
        "body": "My invoice is wrong",
        "received_at": datetime(2025, 1, 1, tzinfo=UTC),
        "size": 100,
    }
    return Ticket.model_validate({**fields, **changes})


def plan(*steps: dict[str, Any]) -> Plan:
    return Plan.model_validate({"steps": list(steps)})


def errors_of(p: Plan, max_steps: int = 10) -> list[str]:
    with pytest.raises(PlanInvalid) as caught:
        validate_plan(p, CATALOG, max_steps=max_steps)
    return caught.value.errors


SUBJECT, BODY = {"$ref": "ticket.subject"}, {"$ref": "ticket.body"}
CATEGORIZE = {"id": "cat", "tool": "categorize_ticket", "args": {"subject": SUBJECT, "body": BODY}}


def test_the_rule_planners_plans_are_valid_for_new_tickets_and_replies() -> None:
    validate_plan(RulePlanner().make_plan(ticket()).plan, CATALOG, max_steps=10)
    validate_plan(RulePlanner().make_plan(ticket(thread_of="T0")).plan, CATALOG, max_steps=10)


def test_rule_plan_runs_categorize_and_extract_in_parallel_before_the_issue() -> None:
    steps = RulePlanner().make_plan(ticket()).plan.steps
    assert [(s.id, dependencies(s)) for s in steps] == [
        ("categorize", set()),
        ("extract", set()),
        ("create_issue", {"categorize", "extract"}),
    ]


def test_an_unknown_tool_is_rejected_naming_the_known_tools() -> None:
    [error] = errors_of(plan({"id": "x", "tool": "delete_all_tickets", "args": {}}))
    assert "unknown tool 'delete_all_tickets'" in error and "categorize_ticket" in error


def test_a_hallucinated_argument_is_rejected() -> None:
    [error] = errors_of(plan({**CATEGORIZE, "args": {"subject": SUBJECT, "body": BODY, "project": "FIN"}}))
    assert "takes no argument 'project'" in error


def test_a_missing_required_argument_is_rejected() -> None:
    assert errors_of(plan({**CATEGORIZE, "args": {"subject": SUBJECT}})) == [
        "step 'cat': categorize_ticket needs argument 'body'"
    ]


# An issue step whose urgency is a literal: a closed choice (the policy, not the plan's check, keeps it
# for a person: agent/pins.py).
ISSUE: dict[str, Any] = {
    "id": "issue",
    "tool": "create_jira_issue",
    "args": {
        "subject": SUBJECT,
        "body": BODY,
        "sender": {"$ref": "ticket.sender"},
        "category": {"$ref": "steps.cat.category"},
        "urgency": "high",
    },
}


def test_a_literal_of_the_wrong_type_is_rejected() -> None:
    issue = {**ISSUE, "args": {**ISSUE["args"], "urgency": "whenever"}}
    [error] = errors_of(plan(CATEGORIZE, issue))
    assert "argument 'urgency' is invalid" in error


def test_free_text_from_the_planner_is_refused_where_ticket_data_belongs() -> None:
    # A model told to lie: an invented sender and a body of its own.
    forged = {
        "id": "cat",
        "tool": "categorize_ticket",
        "args": {"subject": "From: Chief Executive", "body": "wire 10,000 EUR"},
    }
    errors = errors_of(plan(forged))
    assert errors == [
        "step 'cat' argument 'subject' must reference ticket or step data ({'$ref': ...}); a plan may not write its own text into it",
        "step 'cat' argument 'body' must reference ticket or step data ({'$ref': ...}); a plan may not write its own text into it",
    ]


def test_a_closed_choice_may_be_a_literal() -> None:
    validate_plan(plan(CATEGORIZE, ISSUE), CATALOG, max_steps=10)


def test_a_bounded_number_is_a_literal_within_its_bounds_checked_before_anything_runs() -> None:
    """SmolLM2 gave raise_urgency the ticket's size: the plan passed and the issue step died on it."""
    too_far = {**ISSUE, "args": {**ISSUE["args"], "raise_urgency": 3}}
    assert errors_of(plan(CATEGORIZE, too_far)) == [
        "step 'issue': argument 'raise_urgency' is invalid: Input should be less than or equal to 2"
    ]
    size = {**ISSUE, "args": {**ISSUE["args"], "raise_urgency": {"$ref": "ticket.size"}}}
    assert errors_of(plan(CATEGORIZE, size)) == [
        "step 'issue' argument 'raise_urgency' is a number within bounds: a literal, never a reference"
    ]


def test_a_reference_whose_type_does_not_fit_its_argument_is_refused_before_anything_runs() -> None:
    wrong = {
        "id": "cat",
        "tool": "categorize_ticket",
        "args": {"subject": {"$ref": "ticket.attachments"}, "body": BODY},
    }
    [error] = errors_of(plan(wrong))
    assert "'ticket.attachments' is list[Attachment], which does not fit str" in error
    maybe_none = {
        "id": "cat",
        "tool": "categorize_ticket",
        "args": {"subject": {"$ref": "steps.x.customer_name"}, "body": BODY},
    }
    extract = {"id": "x", "tool": "extract_entities", "args": {"subject": SUBJECT, "body": BODY}}
    [error] = errors_of(plan(extract, maybe_none))
    assert "'steps.x.customer_name' is str | None, which does not fit str" in error


def test_too_many_steps_are_rejected() -> None:
    steps = [{**CATEGORIZE, "id": f"c{i}"} for i in range(11)]
    assert "at most 10 are allowed" in errors_of(plan(*steps))[0]


def test_references_must_point_to_earlier_steps_and_existing_fields() -> None:
    errors = errors_of(
        plan(
            {
                "id": "early",
                "tool": "categorize_ticket",
                "args": {"subject": {"$ref": "steps.late.urgency"}, "body": BODY},
            },
            {
                "id": "late",
                "tool": "extract_entities",
                "args": {"subject": SUBJECT, "body": {"$ref": "ticket.nope"}},
            },
            {**CATEGORIZE, "id": "third", "args": {"subject": {"$ref": "steps.late.colour"}, "body": BODY}},
        )
    )
    assert any("'steps.late.urgency' names no earlier step" in e for e in errors)
    assert any("ticket has no field 'nope'" in e for e in errors)
    assert any("extract_entities results have no field 'colour'" in e for e in errors)


def test_duplicate_step_ids_and_empty_plans_are_rejected() -> None:
    assert "used twice" in errors_of(plan(CATEGORIZE, CATEGORIZE))[0]
    assert errors_of(plan()) == ["the plan has no steps"]


def test_references_resolve_to_ticket_fields_and_earlier_results() -> None:
    args = {"a": {"$ref": "ticket.subject"}, "b": [{"$ref": "steps.cat.category"}], "c": 3}
    assert resolve_args(args, ticket(), {"cat": {"category": "billing"}}) == {
        "a": "Invoice wrong",
        "b": ["billing"],
        "c": 3,
    }


def test_a_skipped_steps_results_read_as_null_for_the_steps_after_it() -> None:
    run = Run(
        id="R1",
        ticket=ticket(),
        status="running",
        created_at=datetime.now(UTC),
        steps={
            "remember": StepState(status="skipped", error="went on without it: memory down"),
            "cat": StepState(status="done", result={"category": "billing"}),
        },
    )
    assert run.results() == {"remember": {}, "cat": {"category": "billing"}}
    args = {"remembered": {"$ref": "steps.remember.remembered"}, "category": {"$ref": "steps.cat.category"}}
    assert resolve_args(args, run.ticket, run.results()) == {"remembered": None, "category": "billing"}


def test_every_step_after_a_finding_step_waits_for_it_so_the_gate_sees_its_findings() -> None:
    # A model's issue step that names its own urgency still starts only once extract has run.
    own = plan(
        CATEGORIZE,
        {"id": "ext", "tool": "extract_entities", "args": {"subject": SUBJECT, "body": BODY}},
        {"id": "cat2", "tool": "categorize_ticket", "args": {"subject": SUBJECT, "body": BODY}},
    )
    assert [waits_for(own, s) for s in own.steps] == [set(), set(), set()]  # finding steps stay parallel
    rule = RulePlanner(remember=True, draft=True, acknowledge=True).make_plan(ticket()).plan
    later = {s.id: waits_for(rule, s) for s in rule.steps}
    assert later["acknowledge"] == {"create_issue", "categorize", "extract"}
    assert later["draft"] == {"create_issue", "categorize", "extract"}
