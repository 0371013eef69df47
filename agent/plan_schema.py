"""The plan as a model writes it: a strict JSON schema derived from the catalog, and conversions.

Each step is one `anyOf` variant per tool, and each argument is either a literal of its own type or
`{"ref": "..."}`, so a server that compiles the schema into a grammar can only emit known tools and
argument names. The model's `ref` becomes the internal `$ref` (a schema keyword that
schema-to-grammar converters would try to resolve, so the model never sees it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.arguments import bounded, fits, literal_by_person, literal_ok, person_only
from agent.memory.recall import Recall
from agent.pins import filled, system_written
from agent.plan import RECALLED, REF, Plan
from inbox.ticket import Ticket
from tools.base import Tool

LLM_REF = "ref"
_DROP = {"title", "default"}


def _ref_schema(catalog: Mapping[str, Tool[Any, Any]], target: Any = Any) -> dict[str, Any] | None:
    """A reference object whose path can only name a ticket field, a result field of a tool's step (its
    id is its tool's name) or a recalled field, whose type fits `target` (the argument's type): a grammar
    built from it cannot write an urgency from the ticket's subject, nor a step no tool makes. None when
    nothing fits."""
    tickets = [n for n, f in Ticket.model_fields.items() if fits(f.annotation, target)]
    results = {
        t.name: [n for n, f in t.result_model.model_fields.items() if fits(f.annotation, target)]
        for t in catalog.values()
    }
    recalled = [n for n in RECALLED if fits(Recall.model_fields[n].annotation, target)]
    # "[.]", not "\\.": llama-cpp-python's schema-to-grammar copies the escape into GBNF, which rejects it.
    choices = [
        *([f"ticket[.]({'|'.join(tickets)})"] if tickets else []),
        *(f"steps[.]{tool}[.]({'|'.join(fields)})" for tool, fields in results.items() if fields),
        *([f"recall[.]({'|'.join(recalled)})"] if recalled else []),
    ]
    if not choices:
        return None
    pattern = f"^({'|'.join(choices)})$"
    return {
        "type": "object",
        "properties": {
            LLM_REF: {
                "type": "string",
                "pattern": pattern,
                "description": "ticket.<field>, steps.<tool>.<field> or recall.<field>",
            }
        },
        "required": [LLM_REF],
        "additionalProperties": False,
    }


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A property schema without pydantic's titles and defaults (noise for a model)."""
    return {k: v for k, v in schema.items() if k not in _DROP}


def offered_arguments(tool: Tool[Any, Any]) -> dict[str, Any]:
    """The properties of a tool's argument schema a model is asked for: not the ones only a person may
    set, nor the ones with one right value, which are filled in (agent/pins.py)."""
    fields = tool.args_model.model_fields
    ours = system_written(tool.name)
    return {
        n: p
        for n, p in tool.args_schema().get("properties", {}).items()
        if not person_only(fields[n]) and n not in ours
    }


def plan_output_schema(
    catalog: Mapping[str, Tool[Any, Any]], tools: list[str] | None = None, max_steps: int = 20
) -> dict[str, Any]:
    """The JSON schema of a plan answer (strict: every property required, no extra properties), of at
    most `max_steps` steps (a grammar built from it ends the answer there, not at the token limit).

    `tools` narrows the step variants to what policy allows for the ticket at hand, so a server that
    compiles the schema into a grammar cannot even write a forbidden step. A step's id is its tool's
    name (each tool at most once in a model's plan), so references can only name steps tools make.
    """
    offered = {name: catalog[name] for name in tools or list(catalog)}
    variants = []
    for tool in offered.values():
        args = tool.args_schema()
        required = set(args.get("required", []))
        properties = {}
        fields = tool.args_model.model_fields
        for name, prop in offered_arguments(tool).items():
            offered_literal = literal_ok(fields[name]) and not literal_by_person(fields[name])
            literal = [compact_schema(prop)] if offered_literal else []  # free text: references only
            typed = _ref_schema(offered, fields[name].annotation) or _ref_schema(offered)
            ref = [] if bounded(fields[name]) else [typed]  # a bounded number: a literal only
            options = [*literal, *ref] + ([] if name in required else [{"type": "null"}])
            properties[name] = {"anyOf": options}
        variants.append(
            {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "enum": [tool.name]},
                    "tool": {"type": "string", "enum": [tool.name]},
                    "args": {
                        "type": "object",
                        "properties": properties,
                        "required": list(properties),
                        "additionalProperties": False,
                    },
                },
                "required": ["id", "tool", "args"],
                "additionalProperties": False,
            }
        )
    # No free-text field: a small model fills free text until max_tokens cuts the JSON short.
    return {
        "type": "object",
        "properties": {"steps": {"type": "array", "items": {"anyOf": variants}, "maxItems": max_steps}},
        "required": ["steps"],
        "additionalProperties": False,
    }


def _to_internal(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {LLM_REF}:
        return {REF: value[LLM_REF]}
    if isinstance(value, dict):
        return {k: _to_internal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_internal(v) for v in value]
    return value


def plan_from_answer(answer: dict[str, Any], around: Plan | None = None) -> Plan:
    """The internal Plan from a model's answer (null optional arguments are left out; the arguments with
    one right value filled in where it left them out; `around`: the plan these steps extend)."""
    steps = []
    for step in answer.get("steps") or []:
        if isinstance(step, dict) and isinstance(step.get("args"), dict):
            step = {**step, "args": {k: _to_internal(v) for k, v in step["args"].items() if v is not None}}
        steps.append(step)
    return filled(Plan.model_validate({"steps": steps, "rationale": "written by the LLM planner"}), around)


def _to_llm(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {REF}:
        return {LLM_REF: value[REF]}
    return value


def canonical_answer(plan: Plan) -> dict[str, Any]:
    """A plan in the form the answer's schema asks of a model: each step's id is its tool's name, and
    references to steps follow (the prompt's examples are written so); no argument the model is not
    asked for."""
    renamed = {step.id: step.tool for step in plan.steps}

    def rename(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {REF} and str(value[REF]).startswith("steps."):
            _, step, field = str(value[REF]).split(".", 2)
            return {LLM_REF: f"steps.{renamed.get(step, step)}.{field}"}
        return _to_llm(value)

    steps = [
        {
            "id": s.tool,
            "tool": s.tool,
            "args": {k: rename(v) for k, v in s.args.items() if k not in system_written(s.tool)},
        }
        for s in plan.steps
    ]
    return {"steps": steps}


def plan_to_answer(plan: Plan) -> dict[str, Any]:
    """A plan in the form a model writes it (for few-shot examples)."""
    return {
        "steps": [
            {"id": s.id, "tool": s.tool, "args": {k: _to_llm(v) for k, v in s.args.items()}}
            for s in plan.steps
        ],
    }
