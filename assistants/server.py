"""`triage mcp`: the desk's tools (assistants/desk_tools.py) over the Model Context Protocol, with the
official SDK's low-level server: over stdio for the operator's own assistant, or over the protocol's
streamable HTTP transport, where every request carries a console API token and sees only what its role
allows (a viewer lists and calls reads; an approver decides holds too) in its mailboxes."""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
from mcp.server import Server, ServerRequestContext
from mcp.server.auth.settings import AuthSettings
from mcp.server.stdio import stdio_server
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
)
from mcp.types import Tool as McpTool
from pydantic import ValidationError
from starlette.applications import Starlette

from assistants.callers import Caller, ConsoleTokens, current_caller
from assistants.desk_tools import DESK_TOOLS, DeskTool, Refused, judging
from assistants.step_calls import acting
from console.users import UsersFile
from tasks.review import NotDecided
from tools.errors import ToolError
from workers.runtime import Runtime

log = logging.getLogger("triage")
JUDGING = ("categorize_ticket", "extract_entities")
OPERATOR = Caller("operator", "admin")  # over stdio: whoever started the server, with their local rights


def desk_tools(rt: Runtime) -> dict[str, DeskTool]:
    """Every tool the server offers, by name: the desk's, the catalog's judging tools, and its
    side-effecting tools as steps of a finished run (assistants/step_calls.py)."""
    acts = [acting(t) for t in rt.catalog.values() if t.side_effect]
    return {t.name: t for t in [*DESK_TOOLS, *(judging(rt.catalog[n]) for n in JUDGING), *acts]}


def _listed(tool: DeskTool) -> McpTool:
    return McpTool(
        name=tool.name,
        description=tool.description,
        input_schema=tool.input_schema,
        annotations=tool.annotations,
    )


def _answer(data: Any, error: bool = False) -> CallToolResult:
    text = data if isinstance(data, str) else json.dumps(data, default=str)
    structured = (
        None if error or isinstance(data, str) else ({"result": data} if isinstance(data, list) else data)
    )
    return CallToolResult(content=[TextContent(text=text)], structured_content=structured, is_error=error)


def build_server(rt: Runtime, operator: Caller | None = None) -> Server[Any]:
    """The MCP server for this runtime; `operator` is the caller of a request without a token (stdio)."""
    tools = desk_tools(rt)

    async def list_tools(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        caller = current_caller(operator)
        return ListToolsResult(tools=[_listed(t) for t in tools.values() if caller and caller.may(t.needs)])

    async def call_tool(ctx: ServerRequestContext[Any], params: CallToolRequestParams) -> CallToolResult:
        caller = current_caller(operator)
        tool = tools.get(params.name)
        if caller is None or tool is None or not caller.may(tool.needs):
            return _answer(f"no tool {params.name!r} for this caller", error=True)
        try:
            args = tool.args.model_validate(params.arguments or {})
            result = await anyio.to_thread.run_sync(tool.call, rt, caller, args)
        except ValidationError as exc:
            fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
            return _answer(f"invalid arguments: {', '.join(fields)}", error=True)
        except (Refused, NotDecided, ToolError) as exc:
            return _answer(str(exc), error=True)
        log.info("mcp call tool=%s by=%s", tool.name, caller.name)
        return _answer(result)

    return Server(
        "ticket-triage",
        instructions="The support desk's triage system: find mails and runs, see holds, dead letters and "
        "incidents, decide holds (approvers), and categorize or extract as the system would.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve_stdio(rt: Runtime) -> None:
    """Serve the operator's assistant over stdin and stdout until it closes them."""
    server = build_server(rt, OPERATOR)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def http_app(rt: Runtime, users: UsersFile, public_url: str, host: str = "127.0.0.1") -> Starlette:
    """The streamable HTTP app at /mcp: each request needs a console API token (401 without one). Bound
    to a loopback `host`, it refuses other Host and Origin headers (the SDK's DNS-rebinding guard)."""
    server = build_server(rt)
    resource = f"{public_url.rstrip('/')}/mcp"
    # Console tokens name no audience: the verifier itself is what says the token is ours.
    auth = AuthSettings(issuer_url=public_url, resource_server_url=resource, validate_token_resource=False)
    return server.streamable_http_app(auth=auth, token_verifier=ConsoleTokens(users), host=host)
