"""What a plan may put in a tool argument: a literal only where the argument is a closed choice, else a
reference whose type fits. A model told to lie can then pick among known values, but never write text
(an invented sender, an account id, a 200,000-character description) into a ticket."""

from __future__ import annotations

import enum
import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic.fields import FieldInfo

_SCALARS = (bool, int, float)


def _members(annotation: Any) -> tuple[Any, ...]:
    """The alternatives of a union (X | Y, Optional[X]), or the type itself."""
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def person_only(info: FieldInfo) -> bool:
    """Whether only a person may set this argument (approving a held run, agent/autonomy.py): no planner
    is offered it, and a plan from one that sets it is refused (json_schema_extra={"person": True})."""
    extra = info.json_schema_extra
    return isinstance(extra, dict) and extra.get("person") is True


def literal_by_person(info: FieldInfo) -> bool:
    """Whether only a person may give this argument as a literal value, a planner referencing a step's
    finding instead (json_schema_extra={"literal": "person"}): a category is checked against the
    mailbox's taxonomy by the step that finds it, never by the model that would write it."""
    extra = info.json_schema_extra
    return isinstance(extra, dict) and extra.get("literal") == "person"


def bounded(info: FieldInfo) -> bool:
    """Whether the argument is a number within bounds (ge, le, gt, lt): a reference could bring any
    number (SmolLM2 gave raise_urgency a ticket's size), so it takes a literal, checked before the plan
    runs."""
    return any(hasattr(m, bound) for m in info.metadata for bound in ("ge", "le", "gt", "lt"))


def literal_ok(info: FieldInfo) -> bool:
    """Whether a plan may give this argument as a literal value: a closed set (Literal, Enum), a number
    or a flag. Free text must reference ticket or step data. A field may allow literals explicitly with
    json_schema_extra={"literal": True}, or to a person only with {"literal": "person"}."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and extra.get("literal") in (True, "person"):
        return True
    kinds = [m for m in _members(info.annotation) if m is not type(None)]
    return bool(kinds) and all(
        get_origin(m) is Literal or (isinstance(m, type) and issubclass(m, (enum.Enum, *_SCALARS)))
        for m in kinds
    )


def fits(source: Any, target: Any) -> bool:
    """True when every value of type `source` is a valid value of type `target` (as far as types tell:
    a value that may be None does not fit an argument that may not be)."""
    if target is Any or source == target:
        return True
    targets = _members(target)
    return all(any(_fits_one(s, t) for t in targets) for s in _members(source))


def _fits_one(source: Any, target: Any) -> bool:
    if target is Any or source == target:
        return True
    s_origin, t_origin = get_origin(source), get_origin(target)
    if s_origin is Literal:
        values = get_args(source)
        if t_origin is Literal:
            return set(values) <= set(get_args(target))
        return isinstance(target, type) and all(isinstance(v, target) for v in values)
    if t_origin is Literal:
        return False  # an open type into a closed set: not provable
    if s_origin in (list, tuple, set) and t_origin is list:
        inner = get_args(target)[0] if get_args(target) else Any
        return all(fits(s, inner) for s in get_args(source) if s is not Ellipsis)
    if s_origin is dict and t_origin is dict:
        return all(fits(s, t) for s, t in zip(get_args(source), get_args(target), strict=False))
    if source is int and target is float:
        return True
    return isinstance(source, type) and isinstance(target, type) and issubclass(source, target)
