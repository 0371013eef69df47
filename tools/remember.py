"""remember_ticket: store what the run learned about a ticket in long-term memory (agent/memory/).

Best effort: when memory stays unreachable through the retries, the step is skipped and the run goes on
(a ticket is never dead-lettered for want of memory); the skip and its reason stay on the run.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from tools.base import RetryPolicy, ToolContext, tool
from tools.errors import PermanentToolError
from tools.memory_port import Remembered, TicketFacts, TicketMemory

MEMORY_RETRY = RetryPolicy(max_attempts=3, base_s=1.0, cap_s=10.0)  # a few tries, then the run goes on


def memory_of(ctx: ToolContext) -> TicketMemory:
    """The long-term memory a memory tool works with; a permanent error (the step is skipped) when off."""
    if ctx.memory is None:
        raise PermanentToolError("long-term memory is off (TRIAGE_MEMORY=off)")
    return ctx.memory


class RememberArgs(TicketFacts):
    """The ticket and what the earlier steps found out about it."""


class RememberResult(BaseModel):
    """Whether the ticket is in memory now."""

    remembered: bool = Field(description="true once the ticket is stored")


class ReplyArgs(BaseModel):
    """A customer's reply and the ticket it answers."""

    reply_ticket_id: str = Field(description="ticket.id of the reply")
    parent_ticket_id: str | None = Field(description="ticket.thread_of: the ticket it answers")


class ReplyResult(BaseModel):
    """Whether memory counted the reply on the ticket it answers."""

    counted: bool = Field(description="false when memory does not have that ticket (expired, erased)")


@tool(
    name="remember_reply",
    description="Count a customer's reply on the remembered ticket it answers, so their history shows it.",
    args=ReplyArgs,
    result=ReplyResult,
    timeout_s=15.0,
    retry=MEMORY_RETRY,
    best_effort=True,
)
def remember_reply(args: ReplyArgs, ctx: ToolContext) -> ReplyResult:
    """Note the reply on the parent ticket's memory entry (once per reply)."""
    memory = memory_of(ctx)
    if args.parent_ticket_id is None:
        raise PermanentToolError("this ticket answers no earlier ticket")
    return ReplyResult(
        counted=memory.note_reply(args.parent_ticket_id, args.reply_ticket_id, datetime.now(UTC))
    )


@tool(
    name="remember_ticket",
    description="Store the ticket with its category, urgency, customer and issue in long-term memory, so "
    "later tickets recall it. Idempotent.",
    args=RememberArgs,
    result=RememberResult,
    timeout_s=15.0,
    retry=MEMORY_RETRY,
    best_effort=True,
)
def remember_ticket(args: RememberArgs, ctx: ToolContext) -> RememberResult:
    """Upsert the ticket into memory; not a ticket whose sender is not trusted (it would stand for a
    customer it may not be)."""
    if ctx.sender_doubt:
        raise PermanentToolError(f"the sender is not trusted ({ctx.sender_doubt}): nothing is remembered")
    memory_of(ctx).remember(Remembered(**args.model_dump(), seen_at=datetime.now(UTC)))
    return RememberResult(remembered=True)
