"""Autonomy by policy: which runs act on their own, which wait for a person's approval, and which a
person triages by hand; and what happens when nobody answers in time.

The policy file (YAML, TRIAGE_POLICY_PATH; examples/policy.yaml) holds rules. A rule's conditions are
ANDed, a list means any of its values; every rule that matches adds its restriction and the strictest
wins (manual over supervised). Rules can only restrict: the built-in policy (agent/policy.py: a reply
comments on its own thread, a new ticket opens one issue) always applies, and a run no rule matches
acts on its own. The policy is judged when a run is about to take its first side effect, so the
categorizer's and the extractor's findings are known by then.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.plan import FINDING_TOOLS, REF, Plan
from agent.run import Run
from tools.extract import normalised_account
from tools.llm_budget import REFUSED

Mode = Literal["autonomous", "supervised", "manual"]
OnTimeout = Literal["run", "needs_triage", "reject"]
NEEDS_TRIAGE_LABEL = "needs-triage"
_STRICTNESS = {"autonomous": 0, "supervised": 1, "manual": 2}


class PolicyError(Exception):
    """The policy file cannot be used; the message names the file and the rule."""


class Conditions(BaseModel):
    """When a rule applies: every condition given must hold (a list: any of its values)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: list[str] | None = None
    urgency: list[Literal["low", "medium", "high"]] | None = None
    planner: list[Literal["rule", "llm", "fallback"]] | None = None
    confidence_below: float | None = Field(None, gt=0, le=1, description="the categorizer's confidence")
    differs_from_rule_plan: bool | None = Field(None, description="the plan is not what the rules would do")
    sender_in: list[str] | None = Field(None, description="addresses (a VIP list)")
    account_in: list[str] | None = Field(None, description="account ids (a VIP list)")
    incident: bool | None = Field(None, description="a like ticket recalled belongs to an incident")
    llm_budget_spent: bool | None = Field(
        None,
        description="an LLM budget refused a call of its planning (a cheaper model or the rules planned)",
    )

    @field_validator("account_in")
    @classmethod
    def _as_extracted(cls, accounts: list[str] | None) -> list[str] | None:
        """Account ids as the extractor writes them (ACC-00042 is ACC00042), so a rule matches them."""
        return None if accounts is None else [normalised_account(a) for a in accounts]

    @field_validator("sender_in")
    @classmethod
    def _lower_case(cls, senders: list[str] | None) -> list[str] | None:
        return None if senders is None else [s.strip().lower() for s in senders]


class Rule(BaseModel):
    """A named restriction: when its conditions hold, the run is held as `then` says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,60}$")
    when: Conditions
    then: Literal["supervised", "manual"]


class Policy(BaseModel):
    """The rules, and what a hold nobody decided on becomes after TRIAGE_APPROVAL_TIMEOUT_S."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    on_timeout: OnTimeout = Field(
        "needs_triage", description="run: as planned; needs_triage: as planned with that label; reject"
    )
    rules: list[Rule] = Field(default_factory=list)


@dataclass(frozen=True)
class Facts:
    """What the policy looks at, gathered from the run when its first side effect is due."""

    sender: str
    planner: str | None
    differs_from_rule_plan: bool
    category: str | None = None
    confidence: float | None = None
    urgency: str | None = None
    account_id: str | None = None
    incident: bool = False
    llm_budget_spent: bool = False


@dataclass(frozen=True)
class Verdict:
    """The policy's answer for a run: its mode, and the rules that made it so (none: autonomous)."""

    mode: Mode
    rules: tuple[str, ...] = ()

    @property
    def holds(self) -> bool:
        """True when a person has to act before the run's side effects."""
        return self.mode != "autonomous"


class Hold(BaseModel):
    """A run waiting for a person (it holds no worker): why, until when, and the steps it parked."""

    run_id: str
    mode: Literal["supervised", "manual"]
    rules: list[str]
    held_at: datetime
    expires_at: datetime
    on_timeout: OnTimeout
    parked: list[str] = Field(description="steps claimed when the hold began, sent when it is approved")
    trace: str | None = Field(
        default=None, description="the hold's span (tracing on): its decision links to it"
    )


class Edits(BaseModel):
    """What a person may change in a held plan: its issue's category, urgency (and with it the priority),
    priority (a configured Jira priority, whatever the urgency), summary and extra labels. The edited plan
    is validated like any other."""

    model_config = ConfigDict(extra="forbid")

    category: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,40}$")
    urgency: Literal["low", "medium", "high"] | None = None
    summary: str | None = Field(None, min_length=1, max_length=240)
    priority: str | None = Field(None, pattern=r"^[A-Za-z0-9 _-]{1,40}$")
    labels: list[str] = Field(default_factory=list)


class Decision(BaseModel):
    """What became of a hold, once: approved (with edits), rejected, or decided by the timeout."""

    action: Literal["approve", "reject"]
    by: str = Field(description="who: a user, or policy:timeout")
    reason: str = ""
    at: datetime
    edits: Edits = Field(default_factory=Edits)


# How a planner says an LLM budget refused its call: a cheaper model answered, or the rules planned. Only
# a note's start counts: a rejected attempt's note may quote the mail, and the mail may say anything.
_BUDGET_NOTES = (REFUSED, f"fallback to rules: model unavailable: {REFUSED}")


def facts_of(run: Run, rule_plan: Plan, offline: Callable[[], dict[str, Any]] | None = None) -> Facts:
    """What the policy looks at in a run whose first side effect is due: the categorizer's and the
    extractor's results (whatever the steps are called); for a plan that lacks one of them, what the
    offline tools find (`offline`: a plan cannot switch the policy off by leaving them out); what the
    plan's issue step names itself only where neither says. Also its planner, whether its plan is the
    rule plan, its sender, whether a like ticket recalled belongs to an incident, and whether an LLM
    budget refused a call of its planning."""
    steps = run.plan.steps if run.plan else []
    named: dict[str, Any] = {}
    findings: dict[str, Any] = {}
    for step in steps:
        if step.tool == "create_jira_issue":
            named |= {k: v for k, v in step.args.items() if not (isinstance(v, dict) and REF in v)}
        result = run.steps[step.id].result if step.id in run.steps else None
        if result and step.tool in FINDING_TOOLS:
            findings.update({k: v for k, v in result.items() if v is not None})
    lacking = FINDING_TOOLS - {step.tool for step in steps}
    found = named | (offline() if lacking and offline else {}) | findings
    mine = run.plan.model_dump(include={"steps"}) if run.plan else None
    return Facts(
        sender=run.ticket.sender,
        planner=run.planner,
        differs_from_rule_plan=mine != rule_plan.model_dump(include={"steps"}),
        category=found.get("category"),
        confidence=found.get("confidence"),
        urgency=found.get("urgency"),
        account_id=found.get("account_id"),
        incident=any(n.incident for n in run.recall.similar) if run.recall else False,
        llm_budget_spent=any(note.startswith(_BUDGET_NOTES) for note in run.planner_notes),
    )


def judge(policy: Policy, facts: Facts) -> Verdict:
    """The strictest mode among the rules that match (autonomous when none does)."""
    matched = [rule for rule in policy.rules if _matches(rule.when, facts)]
    if not matched:
        return Verdict("autonomous")
    mode = max((rule.then for rule in matched), key=_STRICTNESS.__getitem__)
    return Verdict(mode, tuple(rule.name for rule in matched))


def _matches(when: Conditions, facts: Facts) -> bool:
    checks = [
        when.category is None or facts.category in when.category,
        when.urgency is None or facts.urgency in when.urgency,
        when.planner is None or facts.planner in when.planner,
        when.confidence_below is None
        or (facts.confidence is not None and facts.confidence < when.confidence_below),
        when.differs_from_rule_plan is None or facts.differs_from_rule_plan == when.differs_from_rule_plan,
        when.sender_in is None or facts.sender.lower() in when.sender_in,
        when.account_in is None or normalised_account(facts.account_id or "") in when.account_in,
        when.incident is None or facts.incident == when.incident,
        when.llm_budget_spent is None or facts.llm_budget_spent == when.llm_budget_spent,
    ]
    return all(checks)


def load_policy(path: Path, categories: Collection[str] | None = None) -> Policy:
    """Read and check a policy file; PolicyError names the file, the rule and what is wrong with it.
    `categories`: the taxonomy's, which a rule's categories must be among (a typo would never match)."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{path}: cannot read it as YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise PolicyError(f"{path}: must be a mapping with `rules` (see examples/policy.yaml)")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"{path}: " + "; ".join(_where(data, e) for e in exc.errors())) from None
    names = [rule.name for rule in policy.rules]
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise PolicyError(f"{path}: rule names must be unique: {', '.join(twice)}")
    if empty := [rule.name for rule in policy.rules if not rule.when.model_dump(exclude_none=True)]:
        raise PolicyError(f"{path}: rule {empty[0]!r} has no condition (it would hold every run)")
    for rule in policy.rules:
        unknown = [c for c in rule.when.category or [] if categories is not None and c not in categories]
        if unknown:
            raise PolicyError(
                f"{path}: rule {rule.name!r}: category {unknown[0]!r} is not in the taxonomy "
                f"(categories: {', '.join(sorted(categories or []))})"
            )
    return policy


def _where(data: Mapping[str, Any], error: Any) -> str:
    """An error located by rule name (`rule 'vip' (rules[0]).when.sender_in: ...`) where it has one."""
    loc = list(error["loc"])
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = data.get("rules") or []
        rule = rules[loc[1]] if loc[1] < len(rules) else {}
        name = rule.get("name", "?") if isinstance(rule, Mapping) else "?"
        rest = ".".join(str(p) for p in loc[2:])
        return f"rule {name!r} (rules[{loc[1]}]){'.' + rest if rest else ''}: {error['msg']}"
    return f"{'.'.join(str(p) for p in loc) or 'the file'}: {error['msg']}"
