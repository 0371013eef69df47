"""A model's plan is tidied where it has one right reading (word-for-word repeats, steps written before
what they use) and said so; where it has not, it is left for the check to reject."""

from __future__ import annotations

from typing import Any

from agent.plan import REF, Plan
from agent.plan_tidy import tidied


def step(step_id: str, tool: str, **args: Any) -> dict[str, Any]:
    return {"id": step_id, "tool": tool, "args": args}


def plan(*steps: dict[str, Any]) -> Plan:
    return Plan.model_validate({"steps": list(steps)})


CATEGORIZE = step("categorize_ticket", "categorize_ticket", subject={REF: "ticket.subject"})
CREATE = step("create_jira_issue", "create_jira_issue", category={REF: "steps.categorize_ticket.category"})


def test_a_step_written_before_what_it_uses_moves_after_it_and_repeats_are_dropped() -> None:
    tidy, notes = tidied(plan(CREATE, CATEGORIZE, CREATE, CREATE))
    assert [s.id for s in tidy.steps] == ["categorize_ticket", "create_jira_issue"]
    assert notes == [
        "tidied: 2 repeated step(s) dropped",
        "tidied: steps moved after the steps whose results they use",
    ]


def test_a_plan_in_order_is_left_as_it_is() -> None:
    written = plan(CATEGORIZE, CREATE)
    assert tidied(written) == (written, [])


def test_two_different_steps_under_one_id_or_a_circle_are_left_for_the_check() -> None:
    other = step("create_jira_issue", "create_jira_issue", category="billing")
    assert tidied(plan(CATEGORIZE, CREATE, other)) == (plan(CATEGORIZE, CREATE, other), [])
    a = step("a", "x", v={REF: "steps.b.f"})
    b = step("b", "y", v={REF: "steps.a.f"})
    assert tidied(plan(a, b)) == (plan(a, b), [])
