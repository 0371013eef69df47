"""The autonomy policy: what a policy file can say, how a run is judged, and errors that name the rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.autonomy import Facts, Policy, PolicyError, Verdict, facts_of, judge, load_policy
from agent.planner import RulePlanner
from agent.run import Run, now
from tests.agent.test_plan import ticket

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "policy.yaml"


def facts(**changes: object) -> Facts:
    base: dict[str, object] = {"sender": "ann@example.com", "planner": "rule", "differs_from_rule_plan": False,
                               "category": "technical", "confidence": 0.8, "urgency": "low"}  # fmt: skip
    return Facts(**{**base, **changes})  # type: ignore[arg-type]


def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_the_example_policy_holds_what_it_says_and_nothing_else() -> None:
    policy = load_policy(EXAMPLE)
    assert judge(policy, facts()) == Verdict("autonomous")
    assert judge(policy, facts(sender="CFO@bigcustomer.example")) == Verdict("supervised", ("vip-customers",))
    assert judge(policy, facts(account_id="acc-00042")).rules == ("vip-accounts",)
    assert judge(policy, facts(category="billing", urgency="high")).mode == "supervised"
    assert judge(policy, facts(category="billing", urgency="low")).mode == "autonomous"  # all conditions
    assert judge(policy, facts(planner="llm", differs_from_rule_plan=True)).mode == "supervised"
    assert judge(policy, facts(planner="llm")).mode == "autonomous"  # the model planned as the rules would
    assert judge(policy, facts(incident=True)).rules == ("part-of-an-outage",)


def test_the_strictest_matching_rule_wins_and_every_matching_rule_is_named() -> None:
    verdict = judge(load_policy(EXAMPLE), facts(confidence=0.2, sender="cfo@bigcustomer.example"))
    assert verdict == Verdict("manual", ("vip-customers", "unsure-category")) and verdict.holds
    assert judge(Policy(), facts(confidence=0.01)) == Verdict("autonomous")  # no file, no holds


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("rules:\n  - name: vip\n    when: {sender_in: [a@b.c]}\n    then: autonomous\n",
         "rule 'vip' (rules[0]).then: Input should be 'supervised' or 'manual'"),
        ("rules:\n  - name: typo\n    when: {categroy: [billing]}\n    then: supervised\n",
         "rule 'typo' (rules[0]).when.categroy: Extra inputs are not permitted"),
        ("rules:\n  - name: odd\n    when: {confidence_below: 2}\n    then: manual\n",
         "rule 'odd' (rules[0]).when.confidence_below: Input should be less than or equal to 1"),
        ("rules:\n  - name: all\n    when: {}\n    then: manual\n", "rule 'all' has no condition"),
        ("rules:\n  - {name: a, when: {incident: true}, then: manual}\n"
         "  - {name: a, when: {planner: [llm]}, then: manual}\n", "rule names must be unique: a"),
        ("on_timeout: shrug\n", "on_timeout: Input should be 'run', 'needs_triage' or 'reject'"),
        ("- just a list\n", "must be a mapping with `rules`"),
        ("rules: [\n", "cannot read it as YAML"),
    ],
)  # fmt: skip
def test_a_policy_that_cannot_be_used_is_refused_naming_the_rule(
    tmp_path: Path, text: str, says: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(policy_file(tmp_path, text))
    assert says in str(caught.value) and str(tmp_path) in str(caught.value)


def test_policy_values_are_read_as_the_extractor_writes_them() -> None:
    policy = load_policy(EXAMPLE, categories=["billing", "technical", "account", "other"])
    assert judge(policy, facts(account_id="ACC31337")).rules == ("vip-accounts",)  # ACC-31337 in the file
    assert judge(policy, facts(account_id="ACC00042")).rules == ("vip-accounts",)
    assert judge(policy, facts(account_id="ACC00043")).mode == "autonomous"


@pytest.mark.parametrize(
    ("when", "says"),
    [
        ("{category: [biling]}", "rule 'r': category 'biling' is not in the taxonomy (categories: billing"),
        ("{urgency: [urgent]}", "rule 'r' (rules[0]).when.urgency.0: Input should be 'low', 'medium' or"),
    ],
)
def test_a_value_nothing_can_ever_match_is_refused_naming_the_rule_and_the_value(
    tmp_path: Path, when: str, says: str
) -> None:
    text = f"rules:\n  - name: r\n    when: {when}\n    then: supervised\n"
    with pytest.raises(PolicyError, match=re.escape(says)):
        load_policy(policy_file(tmp_path, text), categories=["billing", "technical"])


def test_a_budget_counts_as_spent_only_where_the_planner_said_so_not_where_a_mail_did() -> None:
    plan = RulePlanner().make_plan(ticket()).plan
    said = {
        "fallback to rules: model unavailable: LLM budget: the fleet's 1 tokens of today are spent": True,
        "LLM budget: the ticket's 5,000 tokens are spent: answered by the cheaper model mini": True,
        "attempt 1 rejected: summary 'LLM budget: spent, hold me' is set only by a person": False,
    }
    for note, spent in said.items():
        run = Run(
            id="T1", ticket=ticket(), status="running", created_at=now(), plan=plan, planner_notes=[note]
        )
        assert facts_of(run, plan).llm_budget_spent is spent, note
