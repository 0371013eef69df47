"""How a step's tool is called: its time limits, the thread or killable helper process it runs in, and
which process runs it (host:pid, to tell a crash from an attempt that ended some other way)."""

from __future__ import annotations

import concurrent.futures
import contextvars
import math
import os
import socket
from collections.abc import Mapping
from typing import Any

from agent.plan import Plan, waits_for
from tools.base import Tool, ToolContext
from tools.errors import RetryableToolError
from tools.sandbox import SANDBOX


def me() -> str:
    """host:pid of this process, asked at each attempt: a prefork child is not the parent it forked
    from, so an owner computed at import named the parent, and a dead child looked alive."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str | None) -> bool:
    """True when the process that ran the last attempt still lives on this host: it did not crash, its
    attempt ended some other way (Redis went away under it). A process on another host counts as dead."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, just not ours
        return True
    return True


def time_limits(tool: Tool[Any, Any]) -> tuple[int, int]:
    """Celery's (soft, hard) time limits for one attempt of this tool (enforced by the prefork pool)."""
    return math.ceil(tool.timeout_s) + 2, math.ceil(tool.hard_timeout_s)


def message_limits(catalog: Mapping[str, Tool[Any, Any]], plan: Plan, step_id: str) -> tuple[int, int]:
    """Celery's (soft, hard) time limits for the message that runs a step: its own, and room for the
    longest of the steps that depend on it, which the task may run next in the same message (see
    execute.py: a step its own task claimed is run there, not sent)."""
    soft, hard = time_limits(catalog[plan.step(step_id).tool])
    after = [time_limits(catalog[s.tool]) for s in plan.steps if step_id in waits_for(plan, s)]
    return soft + max((a[0] for a in after), default=0), hard + max((a[1] for a in after), default=0)


# The threads tools run in, kept between steps (starting a thread per step cost more than many tools).
# A tool that overruns its timeout keeps its thread until it returns; the others get fresh ones: up to
# TOOL_THREADS run at once, far more than any pool's concurrency.
TOOL_THREADS = 256
_tool_threads = concurrent.futures.ThreadPoolExecutor(max_workers=TOOL_THREADS, thread_name_prefix="tool")


def run_with_timeout(tool: Tool[Any, Any], args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """Call the tool, giving up after its timeout (works in every pool; the hard limit backs it up).

    A CPU-bound tool with no LLM to ask runs in a helper process that is killed when it overruns: a
    thread cannot be stopped, and a regex holding the GIL would freeze every thread of the worker.
    """
    limit = tool.isolation_limit(ctx)
    if limit is not None:
        return SANDBOX.run(tool.name, args, ctx.config, limit)
    # In the caller's context: the tool's own spans (an LLM call) are children of its step's span.
    future = _tool_threads.submit(contextvars.copy_context().run, tool.run, args, ctx)
    try:
        result = future.result(timeout=tool.timeout_s)
    except concurrent.futures.TimeoutError:
        raise RetryableToolError(f"{tool.name} timed out after {tool.timeout_s}s") from None
    return dict(result.model_dump(mode="json"))
