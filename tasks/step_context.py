"""Where a step's tool call happens (tools.base.ToolContext), built one way for every caller: the
executor running a plan's step, and an assistant calling a side-effecting tool for a run over MCP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.mail_files import StoredMail
from agent.run import Run
from agent.store.runs import Runs
from monitoring import events
from tasks.tool_call import time_limits
from tools.base import Tool, ToolContext
from tools.llm import Usage
from workers.runtime import Runtime


@dataclass(frozen=True)
class RunUsage:
    """Where a step's LLM usage and the model's disagreements go: the run's totals and the LLM metrics
    (the tools report them here and know nothing of monitoring)."""

    runs: Runs

    def record_usage(self, run_id: str, usage: Usage) -> None:
        """Add a call's tokens to the run's totals and the metrics."""
        self.runs.record_usage(run_id, usage)
        events.llm_used("analysis", usage)

    def disagreed(self, run_id: str, field: str) -> None:
        """Count a field the model and the offline tools disagreed on."""
        events.model_disagreed(run_id, field)


def step_context(rt: Runtime, run: Run, step_id: str, tool: Tool[Any, Any]) -> ToolContext:
    """The context of `step_id` of the run calling `tool`: the run's ticket, its mailbox's desk, the
    ledger (keyed by ticket and step: a retried call finds what the first did) and the services."""
    desk = rt.desk(run.ticket.mailbox)
    return ToolContext(
        run.id,
        run.ticket.id,
        step_id,
        rt.store.ledger,
        desk.tool_config,
        llm=rt.llm,
        usage=RunUsage(rt.store.runs),
        hard_timeout_s=time_limits(tool)[1],
        memory=rt.memory,
        incidents=rt.store.incidents if rt.incidents else None,
        files=StoredMail(rt.store, rt.settings.file_limits()),
        kb=desk.kb,
        pacer=rt.pacer,
        sender_doubt=run.ticket.sender_doubt,
        sender_authenticated=run.ticket.sender_authenticated,
        mailbox=run.ticket.mailbox,
    )
