"""categorize_ticket: the ticket's category from a taxonomy file, with a confidence, offline."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tools.base import RetryPolicy, ToolContext, tool
from tools.errors import PermanentToolError
from tools.llm_analysis import ANALYSIS_TIMEOUT_S, analyse_or_why_not
from tools.memory_port import Correction
from tools.model_arbiter import Answer, arbitrate
from tools.taxonomy import classifier_for

ABSTAIN = "other"


class CategorizeArgs(BaseModel):
    """What the categorizer reads."""

    subject: str = Field(description="the e-mail subject")
    body: str = Field(description="the e-mail text, without quoted history")
    signature: str = Field(default="", description="the signature block (helps an LLM analysis)")
    sender_name: str = Field(default="", description="the From display name (helps an LLM analysis)")
    corrections: list[Correction] = Field(
        default_factory=list,
        description="recall.corrections: people's categories of like tickets; the most alike one wins",
    )


class CategorizeResult(BaseModel):
    """The category, how sure the classifier is, whether a human should look, and who decided."""

    category: str
    confidence: float = Field(ge=0, le=1)
    needs_review: bool
    probabilities: dict[str, float]
    source: str = Field(
        default="offline",
        description="who decided: offline, llm (the classifier unsure), llm and offline (they agree), or "
        "offline after an LLM failure or disagreement",
    )
    model_confidence: float | None = Field(
        default=None, description="the model's confidence, when it was taken"
    )
    disagreements: list[str] = Field(
        default_factory=list, description="where the model said otherwise and the offline answer stood"
    )
    correction: Literal["applied", "flagged"] | None = Field(
        default=None,
        description="what a person's category for a like ticket did: applied (the classifier's runner-up "
        "agrees, or like tickets were corrected to it twice), or flagged this one for review",
    )


@tool(
    name="categorize_ticket",
    description="Sort a support ticket into one category of the configured taxonomy, with a confidence.",
    args=CategorizeArgs,
    result=CategorizeResult,
    timeout_s=ANALYSIS_TIMEOUT_S + 10,  # offline it takes milliseconds; with an LLM, its timeout
    retry=RetryPolicy(max_attempts=2),
    isolated_offline_s=10,  # offline it is CPU work on a stranger's text: stoppable, in a process
    # The embeddings model reads a bounded window of the text (EmbeddingClassifier.WINDOW_CHARS) and would
    # cost every helper the model's training again: it stays in the worker.
    in_worker_when=lambda config: config.classifier == "embeddings",
)
def categorize_ticket(args: CategorizeArgs, ctx: ToolContext) -> CategorizeResult:
    """Classify subject and body (below the review threshold the answer is `other`, flagged for
    review); a person's category for like tickets wins where it is corroborated."""
    judged = _classified(args, ctx)
    return _corrected(judged, args.corrections) if args.corrections else judged


def _corrected(judged: CategorizeResult, corrections: list[Correction]) -> CategorizeResult:
    """A person's category for the most alike corrected ticket, where something besides that one
    correction stands behind it: the classifier (its choice, or a close runner-up), or another like
    ticket corrected to it too. Else one relabel of a look-alike would steer every like ticket: the
    classifier's answer stands, flagged for review."""
    best = max(corrections, key=lambda c: c.similarity)
    like = sorted({c.ticket_id for c in corrections if c.category == best.category})
    said = f"a person gave like ticket {best.ticket_id} the category {best.category}"
    if _supports(judged.probabilities, best.category) or len(like) >= 2:
        similarity = round(min(1.0, max(0.0, best.similarity)), 4)
        return CategorizeResult(
            category=best.category,
            confidence=similarity,
            needs_review=False,
            probabilities=judged.probabilities,
            source=f"correction: {said}" + (f" (and {len(like) - 1} more)" if len(like) > 1 else ""),
            correction="applied",
        )
    why = f"{judged.source}; {said}, which nothing else supports: for review"
    return judged.model_copy(update={"needs_review": True, "source": why, "correction": "flagged"})


def _supports(probabilities: dict[str, float], category: str) -> bool:
    """Whether the classifier stands behind a category: its choice, or its runner-up at a quarter of the
    choice's probability at least (a runner-up at 1% is noise, not support)."""
    ranked = sorted(probabilities, key=probabilities.__getitem__, reverse=True)
    return category in ranked[:2] and probabilities[category] * 4 >= probabilities[ranked[0]]


def _classified(args: CategorizeArgs, ctx: ToolContext) -> CategorizeResult:
    """The offline classifier's category, or the LLM analysis's (when configured) where the classifier
    agrees or is unsure (tools/model_arbiter.py); a disagreement is kept and reported."""
    analysis, failure = analyse_or_why_not(ctx, args.subject, args.body, args.signature, args.sender_name)
    offline = _offline(args, ctx, f"offline (LLM failed: {failure})" if failure else "offline")
    if analysis is None or analysis.confidence < ctx.config.review_threshold:
        return offline  # no model, or a model unsure of itself: the classifier's answer
    sides = Answer(offline.category, offline.source, sure=not offline.needs_review)
    found = arbitrate("category", sides, analysis.category)
    if found.disagreement is not None:
        if ctx.usage is not None:
            ctx.usage.disagreed(ctx.run_id, "category")
        return offline.model_copy(update={"source": found.source, "disagreements": [found.disagreement]})
    return CategorizeResult(
        category=found.value,
        confidence=round(max(analysis.confidence, offline.confidence), 4),
        needs_review=False,
        probabilities=offline.probabilities,
        source=found.source,
        model_confidence=round(analysis.confidence, 4),
    )


def _offline(args: CategorizeArgs, ctx: ToolContext, source: str) -> CategorizeResult:
    """What the offline classifier says of the ticket (below the review threshold: `other`, for review)."""
    threshold = ctx.config.review_threshold
    try:
        model = classifier_for(ctx.config.categories_file, ctx.config.classifier)
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
