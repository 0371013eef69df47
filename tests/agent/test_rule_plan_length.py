"""How long a rule plan gets, which a worker checks against TRIAGE_MAX_PLAN_STEPS when it starts."""

from __future__ import annotations

import itertools

import pytest

from agent.planner import RulePlanner
from tests.agent.test_plan import ticket
from workers.checks import plan_length_problems
from workers.settings import load_settings

WITH_FILES = ticket(attachments=[{"filename": "a.pdf", "content_type": "application/pdf", "size": 10}])


@pytest.mark.parametrize("on", list(itertools.product((False, True), repeat=4)))
def test_the_longest_rule_plan_is_a_new_tickets_with_files(on: tuple[bool, bool, bool, bool]) -> None:
    rules = RulePlanner(*on)
    assert rules.most_steps() == len(rules.make_plan(WITH_FILES).plan.steps)
    assert rules.most_steps() >= len(rules.make_plan(ticket()).plan.steps)


def test_a_step_limit_shorter_than_the_rule_plan_is_refused_at_start() -> None:
    everything = RulePlanner(remember=True, incidents=True, acknowledge=True, draft=True)
    [problem] = plan_length_problems(load_settings(max_plan_steps=5), everything)
    assert "TRIAGE_MAX_PLAN_STEPS=5" in str(problem) and "raise it to 8" in str(problem)
    assert plan_length_problems(load_settings(max_plan_steps=8), everything) == []
