"""Whose answer a field takes when the model and the offline tools both answered: never worse than the
rules. The model's value is taken where the offline tools agree or are unsure (a category below the
review threshold, an urgency no wording says, a name only the From line gives, no account id in the
mail); where they are sure and the model says otherwise, the offline answer stands and the disagreement
is kept with the result (and counted: UsageSink.disagreed), for people to see which was right."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

V = TypeVar("V")


@dataclass(frozen=True)
class Answer(Generic[V]):
    """One side's value of a field, where it came from, and whether that side is sure of it."""

    value: V
    source: str
    sure: bool = True


@dataclass(frozen=True)
class Arbitrated(Generic[V]):
    """The value a field takes, who gave it, and the disagreement (None when there was none)."""

    value: V
    source: str
    disagreement: str | None = None


def equal(offline: Any, model: Any) -> Any:
    """The agreed value of two answers that agree only when equal; None when they differ."""
    return offline if offline == model else None


def same_person(offline: str | None, model: str | None) -> str | None:
    """Two names agree when one's words are all in the other ("Jane" and "Jane Doe"): the fuller one."""
    if not offline or not model:
        return None
    short, full = sorted((offline, model), key=lambda n: len(n.split()))
    return full if set(short.casefold().split()) <= set(full.casefold().split()) else None


def arbitrate(
    field: str, offline: Answer[V], model: V | None, agree: Callable[[V, V], V | None] = equal
) -> Arbitrated[V]:
    """The field's value from the offline answer and the model's (None: the model gave none); `agree`
    says what two answers agree on (None: they differ)."""
    if model is None:
        return Arbitrated(offline.value, offline.source)
    if offline.value is not None and (agreed := agree(offline.value, model)) is not None:
        return Arbitrated(agreed, f"llm and {offline.source}")
    if not offline.sure:
        return Arbitrated(model, f"llm (offline unsure: {offline.source})")
    said = f"{field}: the model said {model!r}, {offline.source} {offline.value!r} stands"
    return Arbitrated(offline.value, f"{offline.source} (the model disagreed)", said)
