"""An MCP server written for the tests (the official SDK's low-level server, over stdio or streamable
HTTP with a bearer token): 100 tools of a company's other systems, among them a CRM lookup the planner
can use to find a customer's account, and tools that misbehave on purpose (slow, huge answers, answers
off their schema).

    python -m tests.mcp_crm_server [--drop TOOL]    # --drop: list one tool fewer (a server that changed)
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    Tool,
    ToolAnnotations,
)
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

ACCOUNTS = {"ann@example.com": {"account_id": "ACC-77120", "name": "Ann Example", "plan": "pro"}}
READ = ToolAnnotations(read_only_hint=True)
EMAIL = {"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]}
ACCOUNT = {
    "type": "object",
    "properties": {"account_id": {"type": "string"}, "name": {"type": "string"}, "plan": {"type": "string"}},
    "required": ["account_id"],
}


def tools() -> list[Tool]:
    """The CRM lookup, the misbehaving tools, a writing tool, and filler up to 100."""
    lookup = "Find a customer's account in the CRM by e-mail address."
    special = [
        Tool(
            name="find_account",
            description=lookup,
            input_schema=EMAIL,
            output_schema=ACCOUNT,
            annotations=READ,
        ),
        Tool(
            name="slow_lookup",
            description="A lookup that takes a minute.",
            input_schema=EMAIL,
            annotations=READ,
        ),
        Tool(name="huge_report", description="A report of a megabyte.", input_schema=EMAIL, annotations=READ),
        Tool(
            name="drifting_lookup",
            description="Answers off its schema.",
            input_schema=EMAIL,
            output_schema=ACCOUNT,
            annotations=READ,
        ),
        Tool(name="add_note", description="Add a note to the customer's CRM record.", input_schema=EMAIL),
        Tool(
            name="whoami",
            description="The server's process id.",
            input_schema={"type": "object", "properties": {}},
            annotations=READ,
        ),
    ]
    sku = {"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]}
    filler = [
        Tool(
            name=f"inventory_{n:02d}",
            description=f"Stock level of warehouse {n}.",
            input_schema=sku,
            annotations=READ,
        )
        for n in range(100 - len(special))
    ]
    return special + filler


def answer(name: str, arguments: dict[str, Any]) -> CallToolResult:
    """What each tool answers."""
    email = str(arguments.get("email", "")).lower()
    if name == "find_account":
        found = ACCOUNTS.get(email)
        if found is None:
            return CallToolResult(content=[TextContent(text=f"no account for {email}")], is_error=True)
        return CallToolResult(content=[TextContent(text=json.dumps(found))], structured_content=found)
    if name == "slow_lookup":
        time.sleep(60)
    if name == "huge_report":
        return CallToolResult(content=[TextContent(text="x" * 1_000_000)])
    if name == "whoami":
        return CallToolResult(content=[TextContent(text=str(os.getpid()))])
    if name == "drifting_lookup":
        return CallToolResult(content=[TextContent(text="{}")], structured_content={"id": 5})
    return CallToolResult(content=[TextContent(text=f"{name}: ok")])


def build(dropped: str | None = None) -> Server[Any]:
    """The server (without `dropped` among its tools: a server that changed)."""

    async def list_tools(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        return ListToolsResult(tools=[t for t in tools() if t.name != dropped])

    async def call_tool(ctx: ServerRequestContext[Any], params: CallToolRequestParams) -> CallToolResult:
        return await anyio.to_thread.run_sync(answer, params.name, params.arguments or {})

    return Server("crm", on_list_tools=list_tools, on_call_tool=call_tool)


def http_app(
    token: str, refusing: threading.Event | None = None
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The server over streamable HTTP at /mcp, answering only requests with this bearer token (401),
    and refusing every request for its rate while `refusing` is set (429, Retry-After: 17)."""
    app = build().streamable_http_app()

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (b"authorization", f"Bearer {token}".encode()) not in scope["headers"]:
            await JSONResponse({"error": "invalid_token"}, 401)(scope, receive, send)
            return
        if scope["type"] == "http" and refusing is not None and refusing.is_set():
            await JSONResponse({"error": "rate_limited"}, 429, {"Retry-After": "17"})(scope, receive, send)
            return
        await app(scope, receive, send)

    return guarded


def main() -> None:
    """Serve over stdio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--drop", default=None)
    server = build(parser.parse_args().drop)

    async def serve() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(serve)


if __name__ == "__main__":
    main()
