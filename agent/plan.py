"""Plan and Step, references between steps, and the validation every plan passes before it runs.

One reference syntax: an argument value `{"$ref": "ticket.<field>"}`, `{"$ref": "steps.<id>.<field>"}` or
`{"$ref": "recall.<field>"}` (what memory recalled for the ticket; empty when there is no memory).
A step depends on the steps it references; steps that do not depend on each other run in parallel.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, get_args

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from agent.arguments import bounded, fits, literal_ok
from agent.memory.recall import Recall
from inbox.ticket import Ticket
from tools.base import Tool

REF = "$ref"
# The tools whose findings the autonomy policy judges a run on (agent/autonomy.py: facts_of). Every later
# step of a plan waits for them, so the policy is judged with their results stored before anything
# that follows them can act.
FINDING_TOOLS: frozenset[str] = frozenset({"categorize_ticket", "extract_entities"})
RECALLED = ("corrections", "similar")  # the fields of what memory recalled that a plan may pass to a tool


class Step(BaseModel):
    """One tool call of a plan."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class Plan(BaseModel):
    """An ordered list of steps; references point only backwards."""

    steps: list[Step]
    rationale: str = ""

    def step(self, step_id: str) -> Step:
        """The step with this id."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"plan has no step {step_id!r}")


class PlanInvalid(Exception):
    """The plan cannot run as written; `errors` says every reason (a planner may repair and retry)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def is_ref(value: Any) -> bool:
    """Whether an argument's value is a reference to ticket or step data (not a literal)."""
    return isinstance(value, dict) and REF in value


def refs_in(value: Any) -> Iterator[Any]:
    """Every reference object inside an argument value (nested lists and dicts included)."""
    if is_ref(value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from refs_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs_in(item)


def dependencies(step: Step) -> set[str]:
    """Ids of the steps whose results this step references."""
    found = set()
    for ref in refs_in(step.args):
        path = str(ref.get(REF, "")).split(".")
        if len(path) == 3 and path[0] == "steps":
            found.add(path[1])
    return found


def waits_for(plan: Plan, step: Step) -> set[str]:
    """Ids of the steps that must be settled before this one may start: those it references and, unless
    it finds facts itself, every step before it that does (FINDING_TOOLS)."""
    if step.tool in FINDING_TOOLS:
        return dependencies(step)
    earlier = plan.steps[: plan.steps.index(step)]
    return dependencies(step) | {s.id for s in earlier if s.tool in FINDING_TOOLS}


def _check_ref(ref: Any, seen: Mapping[str, Tool[Any, Any]], where: str, target: Any) -> list[str]:
    if set(ref) != {REF} or not isinstance(ref[REF], str):
        return [f"{where}: a reference is exactly {{{REF!r}: 'ticket.<field>' or 'steps.<id>.<field>'}}"]
    path = ref[REF].split(".")
    if path[0] == "ticket" and len(path) == 2:
        if path[1] not in Ticket.model_fields:
            return [f"{where}: ticket has no field {path[1]!r} (fields: {', '.join(Ticket.model_fields)})"]
        source_type = Ticket.model_fields[path[1]].annotation
    elif path[0] == "recall" and len(path) == 2:
        if path[1] not in RECALLED:
            return [f"{where}: recall has no field {path[1]!r} (fields: {', '.join(RECALLED)})"]
        source_type = Recall.model_fields[path[1]].annotation
    elif path[0] == "steps" and len(path) == 3:
        source = seen.get(path[1])
        if source is None:
            return [f"{where}: {ref[REF]!r} names no earlier step"]
        if path[2] not in source.result_model.model_fields:
            fields = ", ".join(source.result_model.model_fields)
            return [f"{where}: {source.name} results have no field {path[2]!r} (fields: {fields})"]
        source_type = source.result_model.model_fields[path[2]].annotation
    else:
        return [
            f"{where}: cannot read reference {ref[REF]!r}; use 'ticket.<field>', 'steps.<id>.<field>' "
            "or 'recall.<field>'"
        ]
    if target is not None and not fits(source_type, target):
        return [
            f"{where}: {ref[REF]!r} is {_type_name(source_type)}, which does not fit {_type_name(target)}"
        ]
    return []


def _type_name(annotation: Any) -> str:
    """A type as a person writes it: list[Attachment], str | None."""
    if isinstance(annotation, type) and not get_args(annotation):
        return annotation.__name__
    return re.sub(r"\b(?:\w+\.)+(\w)", r"\1", str(annotation))


def _check_args(step: Step, tool: Tool[Any, Any], seen: Mapping[str, Tool[Any, Any]]) -> list[str]:
    errors = []
    fields = tool.args_model.model_fields
    for name in step.args.keys() - fields.keys():
        errors.append(
            f"step {step.id!r}: {tool.name} takes no argument {name!r} (takes: {', '.join(fields)})"
        )
    for name, info in fields.items():
        if name not in step.args:
            if info.is_required():
                errors.append(f"step {step.id!r}: {tool.name} needs argument {name!r}")
            continue
        value = step.args[name]
        refs = list(refs_in(value))
        where = f"step {step.id!r} argument {name!r}"
        for ref in refs:
            errors += _check_ref(ref, seen, where, info.annotation if is_ref(value) else None)
        if not is_ref(value) and not literal_ok(info):
            errors.append(
                f"{where} must reference ticket or step data ({{{REF!r}: ...}}); "
                "a plan may not write its own text into it"
            )
        elif refs and bounded(info):
            errors.append(f"{where} is a number within bounds: a literal, never a reference")
        elif not refs:
            try:
                TypeAdapter(info.rebuild_annotation()).validate_python(value)  # with its bounds
            except ValidationError as exc:
                problem = exc.errors()[0]["msg"]
                errors.append(f"step {step.id!r}: argument {name!r} is invalid: {problem}")
    return errors


def validate_plan(plan: Plan, catalog: Mapping[str, Tool[Any, Any]], *, max_steps: int) -> None:
    """Check tools, arguments and references of every step; raise PlanInvalid listing all problems."""
    errors: list[str] = []
    if not plan.steps:
        errors.append("the plan has no steps")
    if len(plan.steps) > max_steps:
        errors.append(f"the plan has {len(plan.steps)} steps; at most {max_steps} are allowed")
    seen: dict[str, Tool[Any, Any]] = {}
    for step in plan.steps:
        if step.id in seen:
            errors.append(f"step id {step.id!r} is used twice")
        tool = catalog.get(step.tool)
        if tool is None:
            errors.append(
                f"step {step.id!r}: unknown tool {step.tool!r} (tools: {', '.join(sorted(catalog))})"
            )
        else:
            errors += _check_args(step, tool, seen)
            seen[step.id] = tool
    if errors:
        raise PlanInvalid(errors)


def resolve_args(
    value: Any, ticket: Ticket, results: Mapping[str, Mapping[str, Any]], recall: Recall | None = None
) -> Any:
    """Replace every reference in an argument value by what it points to (recall None: nothing
    recalled, so each recall field is empty)."""
    if is_ref(value):
        path = value[REF].split(".")
        if path[0] == "ticket":
            return ticket.model_dump(mode="json")[path[1]]
        if path[0] == "recall":
            return (recall or Recall()).model_dump(mode="json")[path[1]]
        return results[path[1]].get(path[2])  # None: the step was skipped (Run.results)
    if isinstance(value, dict):
        return {k: resolve_args(v, ticket, results, recall) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_args(v, ticket, results, recall) for v in value]
    return value
