"""categorize_ticket: the ticket's category from a taxonomy file, with a confidence, offline."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from tools.base import RetryPolicy, ToolContext, tool
from tools.classifier import CentroidClassifier
from tools.errors import PermanentToolError

ABSTAIN = "other"


class Category(BaseModel):
    """One entry of the taxonomy: a name, what it means, and example requests."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    description: str
    examples: list[str] = Field(min_length=1)


class Taxonomy(BaseModel):
    """The categories file: what a user edits to change what tickets are sorted into."""

    version: int = 1
    categories: list[Category] = Field(min_length=2)


@lru_cache(maxsize=8)
def _trained(raw: bytes) -> CentroidClassifier:
    taxonomy = Taxonomy.model_validate_json(raw)
    return CentroidClassifier({c.name: [c.description, *c.examples] for c in taxonomy.categories})


def classifier_for(path: Path) -> CentroidClassifier:
    """The classifier trained on a categories file, cached by the file's content."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read categories file {path}: {exc}") from exc
    try:
        return _trained(raw)
    except ValueError as exc:
        raise ValueError(f"categories file {path} is invalid: {exc}") from exc


class CategorizeArgs(BaseModel):
    """What the categorizer reads."""

    subject: str = Field(description="the e-mail subject")
    body: str = Field(description="the e-mail text, without quoted history")


class CategorizeResult(BaseModel):
    """The category, how sure the classifier is, and whether a human should look."""

    category: str
    confidence: float = Field(ge=0, le=1)
    needs_review: bool
    probabilities: dict[str, float]


@tool(
    name="categorize_ticket",
    description="Sort a support ticket into one category of the configured taxonomy, with a confidence.",
    args=CategorizeArgs,
    result=CategorizeResult,
    timeout_s=5,
    retry=RetryPolicy(max_attempts=2),
)
def categorize_ticket(args: CategorizeArgs, ctx: ToolContext) -> CategorizeResult:
    """Classify subject and body; below the review threshold the answer is `other`, flagged for review."""
    try:
        model = classifier_for(ctx.config.categories_file)
    except ValueError as exc:
        raise PermanentToolError(str(exc)) from exc
    # The subject is the most topical line of an e-mail: count it twice.
    prediction = model.predict(f"{args.subject}\n{args.subject}\n{args.body}")
    confident = prediction.confidence >= ctx.config.review_threshold
    return CategorizeResult(
        category=prediction.label if confident else ABSTAIN,
        confidence=round(prediction.confidence, 4),
        needs_review=not confident,
        probabilities={k: round(v, 4) for k, v in prediction.probabilities.items()},
    )
