"""Tidying a model's plan before it is checked: what a small model gets wrong without meaning anything by
it, and what has one right reading, is put right and said so; anything else is left for the check to
reject. A step written twice over, word for word, is kept once; a step written before a step whose
result it uses moves after it (the order that the references already say)."""

from __future__ import annotations

from agent.plan import Plan, Step, dependencies


def tidied(plan: Plan) -> tuple[Plan, list[str]]:
    """The plan with repeated identical steps dropped and each step after the steps it references, and
    a note for each change; the plan unchanged (no notes) when there is nothing to tidy or when two
    different steps share an id (the check says so)."""
    kept: dict[str, Step] = {}
    for step in plan.steps:
        if step.id in kept and kept[step.id] != step:
            return plan, []
        kept.setdefault(step.id, step)
    notes = []
    if (dropped := len(plan.steps) - len(kept)) > 0:
        notes.append(f"tidied: {dropped} repeated step(s) dropped")
    ordered = _after_what_they_use(list(kept.values()))
    if ordered is None:
        return plan, []
    if [s.id for s in ordered] != list(kept):
        notes.append("tidied: steps moved after the steps whose results they use")
    return plan.model_copy(update={"steps": ordered}), notes


def _after_what_they_use(steps: list[Step]) -> list[Step] | None:
    """The steps in their written order as far as their references allow (a stable topological order);
    None when references go round in a circle."""
    ids = {s.id for s in steps}
    placed: list[Step] = []
    done: set[str] = set()
    waiting = list(steps)
    while waiting:
        ready = next((s for s in waiting if dependencies(s) & ids <= done), None)
        if ready is None:
            return None
        placed.append(ready)
        done.add(ready.id)
        waiting.remove(ready)
    return placed
