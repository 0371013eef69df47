"""categorize_ticket: the ticket's category from a taxonomy file, with a confidence, offline."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from tools.base import RetryPolicy, ToolContext, tool
from tools.classifier import CentroidClassifier
from tools.errors import PermanentToolError
from tools.llm import LLMUnavailable

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
def _parsed(raw: bytes) -> Taxonomy:
    return Taxonomy.model_validate_json(raw)


@lru_cache(maxsize=8)
def _trained(raw: bytes) -> CentroidClassifier:
    taxonomy = _parsed(raw)
    return CentroidClassifier({c.name: [c.description, *c.examples] for c in taxonomy.categories})


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read categories file {path}: {exc}") from exc


def taxonomy_for(path: Path) -> Taxonomy:
    """The taxonomy in a categories file, cached by the file's content."""
    try:
        return _parsed(_read(path))
    except ValueError as exc:
        raise ValueError(f"categories file {path} is invalid: {exc}") from exc


def classifier_for(path: Path) -> CentroidClassifier:
    """The classifier trained on a categories file, cached by the file's content."""
    try:
        return _trained(_read(path))
    except ValueError as exc:
        raise ValueError(f"categories file {path} is invalid: {exc}") from exc


class CategorizeArgs(BaseModel):
    """What the categorizer reads."""

    subject: str = Field(description="the e-mail subject")
    body: str = Field(description="the e-mail text, without quoted history")
    signature: str = Field(default="", description="the signature block (helps an LLM analysis)")
    sender_name: str = Field(default="", description="the From display name (helps an LLM analysis)")


class CategorizeResult(BaseModel):
    """The category, how sure the classifier is, whether a human should look, and who decided."""

    category: str
    confidence: float = Field(ge=0, le=1)
    needs_review: bool
    probabilities: dict[str, float]
    source: str = Field(default="offline", description="llm, offline, or offline after an LLM failure")


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
    from tools.llm_analysis import analyse  # it reads this module's taxonomy

    threshold = ctx.config.review_threshold
    try:
        analysis = analyse(ctx, args.subject, args.body, args.signature, args.sender_name)
        source = "offline"
    except (LLMUnavailable, ValueError, ValidationError) as exc:
        analysis, source = None, f"offline (LLM failed: {str(exc)[:200]})"
    if analysis is not None:
        confident = analysis.confidence >= threshold
        return CategorizeResult(
            category=analysis.category if confident else ABSTAIN,
            confidence=round(analysis.confidence, 4),
            needs_review=not confident,
            probabilities={analysis.category: round(analysis.confidence, 4)},
            source="llm",
        )
    try:
        model = classifier_for(ctx.config.categories_file)
    except ValueError as exc:
        raise PermanentToolError(str(exc)) from exc
    # The subject is the most topical line of an e-mail: count it twice.
    prediction = model.predict(f"{args.subject}\n{args.subject}\n{args.body}")
    confident = prediction.confidence >= threshold
    return CategorizeResult(
        category=prediction.label if confident else ABSTAIN,
        confidence=round(prediction.confidence, 4),
        needs_review=not confident,
        probabilities={k: round(v, 4) for k, v in prediction.probabilities.items()},
        source=source,
    )
