"""extract_entities: the customer's name, account id and urgency, each with where it was found."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field

from tools.base import RetryPolicy, ToolContext, tool
from tools.llm_analysis import ANALYSIS_TIMEOUT_S, Analysis, analyse_or_why_not
from tools.model_arbiter import Answer, arbitrate, equal, same_person
from tools.names import NAME_LINE, find_customer_name
from tools.urgency import Urgency, find_urgency


class ExtractArgs(BaseModel):
    """The parts of a ticket the extractor reads."""

    subject: str
    body: str
    signature: str = ""
    sender_name: str = Field(default="", description="the From display name")


class ExtractResult(BaseModel):
    """The entities found; each `*_source` says where the value came from (llm: the model said so)."""

    customer_name: str | None
    customer_name_source: str | None
    account_id: str | None
    account_id_source: str | None
    urgency: Urgency
    urgency_source: str
    order_id: str | None = None
    invoice_id: str | None = None
    account_type: str | None = None
    people: list[str] = Field(default_factory=list, description="other people the text names")
    evidence: dict[str, str] = Field(
        default_factory=dict,
        description="field -> the words of the mail it was read from (quoted as written)",
    )
    disagreements: list[str] = Field(
        default_factory=list, description="where the model said otherwise and the rules' answer stood"
    )


EVIDENCE_CHARS = 120  # of each quoted span


def flattened(*texts: str) -> tuple[str, ...]:
    """The texts with every run of whitespace one space (wrapped lines read as one), for `quoted`."""
    return tuple(" ".join(text.split()) for text in texts)


def quoted(span: str | None, flat_texts: tuple[str, ...]) -> str | None:
    """The span as the mail wrote it, when it occurs in one of the (flattened) texts, case aside, else
    None: what is shown as evidence was checked to be in the mail, whoever claimed it (rules or a model)."""
    needle = " ".join((span or "").split())
    if not needle or len(needle) > EVIDENCE_CHARS:
        return None
    literal = re.compile(re.escape(needle), re.IGNORECASE)  # a literal: linear in the text
    found = (literal.search(text) for text in flat_texts)
    return next((match.group(0) for match in found if match), None)


@lru_cache(maxsize=16)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_ACCOUNT_TYPE = re.compile(
    r"\b(freemium|free|premium|platinum|pro|gold|silver|standard|basic|business|enterprise)\b"
    r"(?=\s+(?:\w+\s+)?(?:ac+o?u?n?t|acount|cacount|acconut|accoynt|profile|plan|membership|subscription)s?\b)",
    re.IGNORECASE,
)
_TITLED_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s+[A-Z][a-z'\u2019-]+(?:\s+[A-Z][a-z'\u2019-]+)?")
_FROM_NAME = re.compile(r"\bfrom\s+([A-Z][a-z'\u2019-]+\s+[A-Z][a-z'\u2019-]+)\b")


def _first_group(pattern: str, text: str) -> tuple[str | None, str | None]:
    """The pattern's (last) group in its first match, and the whole match as written."""
    found = _pattern(pattern).search(text)
    if not found:
        return None, None
    return found.group(found.lastindex or 0), found.group(0)


def find_people(text: str) -> list[str]:
    """Names the text mentions: with a title (Mr. Smith) or after "from" (a bill from Anna Freeman)."""
    names = [m.group(0) for m in _TITLED_NAME.finditer(text)] + [
        m.group(1) for m in _FROM_NAME.finditer(text)
    ]
    return list(dict.fromkeys(names))


def normalised_account(words: str) -> str:
    """An account id as the system stores and compares it: upper case, no separators (acc-00042 is
    ACC00042)."""
    return re.sub(r"[-_ ]", "", words).upper()


def find_account_id(pattern: str, **texts: str) -> tuple[str | None, str | None, str | None]:
    """The first account id matching the configured pattern, normalised (upper case, no separators);
    where it was found, and the words as written."""
    for where, text in texts.items():
        found = _pattern(pattern).search(text)
        if found:
            return normalised_account(found.group(0)), where, found.group(0)
    return None, None, None


@tool(
    name="extract_entities",
    description="Find the customer's name, their account id and the urgency (low, medium, high) of a ticket.",
    args=ExtractArgs,
    result=ExtractResult,
    timeout_s=ANALYSIS_TIMEOUT_S + 10,  # offline it takes milliseconds; with an LLM, its timeout
    retry=RetryPolicy(max_attempts=2),
    isolated_offline_s=10,  # its patterns (configurable) run on strangers' text: stoppable, in a process
)
def extract_entities(args: ExtractArgs, ctx: ToolContext) -> ExtractResult:
    """Extract the entities by rules, and take the LLM's answer (when there is one) where the rules agree
    or are unsure (tools/model_arbiter.py); each says where it came from and the mail's words for it."""
    texts = flattened(args.subject, args.body, args.signature, args.sender_name)
    read = _read_by_rules(args, ctx.config.account_id_pattern)
    text = f"{args.subject}\n{args.body}"
    account_type = _ACCOUNT_TYPE.search(text)
    order_id, order_words = _first_group(ctx.config.order_id_pattern, text)
    invoice_id, invoice_words = _first_group(ctx.config.invoice_id_pattern, text)
    analysis, failure = analyse_or_why_not(ctx, args.subject, args.body, args.signature, args.sender_name)
    if failure:
        read["urgency"] = replace(read["urgency"], source=f"{read['urgency'].source} (LLM failed: {failure})")
    disagreements: dict[str, str] = {}
    if analysis is not None:
        read, disagreements = _arbitrated(read, _model_says(analysis, texts))
    for field in disagreements:
        if ctx.usage is not None:
            ctx.usage.disagreed(ctx.run_id, field)
    words = {field: r.words for field, r in read.items()} | {
        "order_id": order_words,
        "invoice_id": invoice_words,
    }
    name, account, urgency = read["customer_name"], read["account_id"], read["urgency"]
    return ExtractResult(
        customer_name=name.value,
        customer_name_source=name.source if name.value else None,
        account_id=account.value,
        account_id_source=account.source if account.value else None,
        urgency=urgency.value,
        urgency_source=urgency.source,
        order_id=order_id,
        invoice_id=invoice_id,
        account_type=account_type.group(1).lower() if account_type else None,
        people=find_people(text),
        evidence={field: q for field, span in words.items() if span and (q := quoted(span, texts))},
        disagreements=list(disagreements.values()),
    )


@dataclass(frozen=True)
class _Read:
    """One field as read: its value, where it came from, the mail's words for it, and whether the rules
    are sure of it (a name only the From line gives, an urgency no wording says: not sure)."""

    value: Any
    source: str
    words: str | None
    sure: bool


def _read_by_rules(args: ExtractArgs, account_pattern: str) -> dict[str, _Read]:
    """The customer's name, account id and urgency as the rules read them."""
    name, name_source = find_customer_name(args.body, args.signature, args.sender_name)
    display = name_source is not None and "From display name" in name_source
    account, account_source, account_words = find_account_id(
        account_pattern, subject=args.subject, body=args.body, signature=args.signature
    )
    urgency, urgency_source, urgency_words = find_urgency(args.subject, args.body)
    return {
        "customer_name": _Read(
            name, name_source or "no name", args.sender_name if display else name, bool(name) and not display
        ),
        "account_id": _Read(account, account_source or "no account id", account_words, account is not None),
        # No urgency words is an answer too (medium): where a model read urgency into other words (SmolLM2
        # on the held-out mailbox: "rejected", "413"), it was wrong 3 times in 3, so only agreement counts.
        "urgency": _Read(urgency, urgency_source, urgency_words, True),
    }


def _model_says(analysis: Analysis, texts: tuple[str, ...]) -> dict[str, tuple[Any, str | None]]:
    """The model's value of each field and its words; a name or account id counts only when the mail
    says it (a mail must not talk the model into a customer or an account of its choosing), an urgency
    other than medium only with the words of the mail that say it (a tiny model finds everything urgent)."""
    name = analysis.customer_name if quoted(analysis.customer_name, texts) else None
    if name is not None and not NAME_LINE.match(" ".join(name.split())):
        name = None  # "Tom Becker\nCTO, Acme Logistics" is a signature, not a name
    account = analysis.account_id if quoted(analysis.account_id, texts) else None
    words = quoted(analysis.urgency_words, texts)
    urgency = analysis.urgency if words or analysis.urgency == "medium" else None  # a guess is no answer
    return {
        "customer_name": (name, name),
        "account_id": (normalised_account(account) if account else None, account),
        "urgency": (urgency, words),
    }


def _arbitrated(
    read: dict[str, _Read], said: dict[str, tuple[Any, str | None]]
) -> tuple[dict[str, _Read], dict[str, str]]:
    """Each field as arbitrated between the rules and the model, and the disagreements by field."""
    out, disagreements = {}, {}
    for field, mine in read.items():
        value, words = said[field]
        agree = same_person if field == "customer_name" else equal
        found = arbitrate(field, Answer(mine.value, mine.source, mine.sure), value, agree)
        taken = found.value != mine.value
        out[field] = _Read(found.value, found.source, words if taken else mine.words, mine.sure)
        if found.disagreement is not None:
            disagreements[field] = found.disagreement
    return out, disagreements
