"""Tools someone else serves over the Model Context Protocol, as catalog entries (TRIAGE_MCP_SERVERS).

Each configured server is asked for its tools when the worker starts; each becomes a catalog tool named
`<server>__<tool>`, with argument and result models built from its schemas, checked first (a name a
plan cannot carry, a schema too big or too deep, a type we cannot map: the start is refused, naming
server and tool). A call goes over the process's kept session with the server (tools/mcp_sessions.py) within
the step's time limit and under the server's rate limit over the fleet: a server that is slow, answers
more than MAX_ANSWER characters, drifts from its schema, refuses for its rate or disappears costs the step
(a wait, a retry, or a failure with why), never the worker. A tool is side-effecting unless the server
marks it read-only and the operator's `read_only` list names it too: a stranger's hint alone does not
let a tool run before a person decides.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from mcp.types import Tool as RemoteTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from tools.base import RetryPolicy, Tool, ToolContext
from tools.errors import PermanentToolError, RetryableToolError, ToolError
from tools.mcp_config import Finder, McpServer
from tools.mcp_sessions import Sessions
from tools.mcp_transport import connect, refusal
from tools.pacing_port import Limit, RateLimited, take_turn

MAX_TOOLS = 1000  # of one server
MAX_SCHEMA = 16_000  # characters of one tool's input schema, as JSON
MAX_ANSWER = 256_000  # characters of one answer's text
TURN_BUDGET_S = 10.0  # the longest a call waits for its turn under its server's limit (then: requeued)
_SEPARATOR = "__"
_STEP_NAME = re.compile(r"^[a-z][a-z0-9_]{2,39}$")  # a plan's step id is its tool's name
_PROPERTY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool}


class RemoteProblem(ValueError):
    """A server or one of its tools cannot join the catalog; the message names which and why."""


def discover(server: McpServer) -> list[RemoteTool]:
    """The server's tools, as it lists them (RemoteProblem when it cannot be reached or lists too many)."""

    async def listed() -> list[RemoteTool]:
        with anyio.fail_after(server.timeout_s):
            async with connect(server) as client:
                return list((await client.list_tools()).tools)

    try:
        tools = anyio.run(listed)
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}"
        raise RemoteProblem(f"MCP server {server.name!r}: cannot list its tools: {why}") from None
    if len(tools) > MAX_TOOLS:
        raise RemoteProblem(f"MCP server {server.name!r} lists {len(tools)} tools (at most {MAX_TOOLS})")
    return tools


def _field(name: str, schema: dict[str, Any], required: bool, where: str) -> tuple[Any, Any]:
    """A pydantic field for one property of a tool's schema: scalars, lists and objects."""
    if not _PROPERTY.match(name):
        raise RemoteProblem(f"{where}: property {name!r} is no name an argument can have here")
    kind = schema.get("type")
    if kind in _TYPES:
        annotation: Any = _TYPES[kind]
    elif kind == "array":
        annotation = list[Any]
    elif kind == "object":
        annotation = dict[str, Any]
    else:
        raise RemoteProblem(f"{where}: property {name!r} has a type we cannot take ({kind!r})")
    description = str(schema.get("description", ""))[:300] or None
    if required:
        return annotation, Field(description=description)
    return annotation | None, Field(None, description=description)


def _model(title: str, schema: dict[str, Any] | None, where: str) -> type[BaseModel]:
    """A pydantic model of an object schema's properties (extra keys of an answer are ignored)."""
    properties = (schema or {}).get("properties", {})
    required = set((schema or {}).get("required", []))
    fields = {n: _field(n, p, n in required, where) for n, p in properties.items()}
    return create_model(title, __config__=ConfigDict(extra="ignore"), **fields)  # type: ignore[call-overload, no-any-return]


def _check_finder(
    finder: Finder, read_only: bool, args: type[BaseModel], result: type[BaseModel], where: str
) -> None:
    """A lookup of the customer reads only, takes the sender's address as a string and answers what it
    finds (RemoteProblem saying which it does not)."""
    if not read_only:
        raise RemoteProblem(f"{where}: a finder must be read-only (the server's hint and read_only)")
    taken = args.model_fields.get(finder.by)
    if taken is None or taken.annotation not in (str, str | None):
        raise RemoteProblem(f"{where}: a finder takes the sender's address as string argument {finder.by!r}")
    if missing := [name for name in finder.finds if name not in result.model_fields]:
        raise RemoteProblem(f"{where}: a finder's output schema has no {', '.join(missing)}")


def catalog_name(server: McpServer, remote: RemoteTool) -> str:
    """The tool's name in the catalog: its server's name, two underscores, its own (lowercased)."""
    return f"{server.name}{_SEPARATOR}{remote.name.lower()}"


def as_catalog_tool(server: McpServer, remote: RemoteTool) -> Tool[Any, Any]:
    """The remote tool as a catalog tool (RemoteProblem when it cannot be one)."""
    name = catalog_name(server, remote)
    where = f"MCP server {server.name!r}, tool {remote.name!r}"
    if not _STEP_NAME.match(name):
        raise RemoteProblem(f"{where}: {name!r} is no name a plan can carry (a-z, 0-9, _; at most 40)")
    if len(json.dumps(remote.input_schema)) > MAX_SCHEMA:
        raise RemoteProblem(f"{where}: its input schema is over {MAX_SCHEMA} characters")
    args = _model(f"{name}_args", remote.input_schema, where)
    result = _model(f"{name}_result", remote.output_schema, where) if remote.output_schema else _Answer
    hints = remote.annotations
    read_only = bool(hints and hints.read_only_hint) and remote.name in server.read_only
    finder = server.finders.get(remote.name)
    if finder is not None:
        _check_finder(finder, read_only, args, result, where)

    def call(given: BaseModel, ctx: ToolContext) -> BaseModel:
        arguments = given.model_dump(exclude_none=True)
        if finder is not None and ctx.sender_doubt:  # a forged From would find its victim's account
            raise PermanentToolError(
                f"{where}: the sender is not trusted ({ctx.sender_doubt}): not looked up"
            )
        with _paced(server, ctx):
            answer = (
                _called(server, remote.name, arguments, where)
                if read_only
                else _once(ctx, server, remote, arguments)
            )
        try:
            return result.model_validate(answer)
        except ValidationError as exc:  # the server drifted from the schema it listed at start
            fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
            raise PermanentToolError(
                f"{where}: its answer does not fit its schema ({', '.join(fields)})"
            ) from None

    return Tool(
        name=name,
        description=(remote.description or remote.name)[:1000],
        args_model=args,
        result_model=result,
        fn=call,
        side_effect=not read_only,
        timeout_s=server.timeout_s,
        retry=RetryPolicy(max_attempts=3, base_s=2, cap_s=30),
        best_effort=finder is not None,  # a customer the CRM does not know: the issue has no account
        sender_argument=finder.by if finder else None,
        finds=frozenset(finder.finds if finder else ()),
    )


class _Answer(BaseModel):
    """What a tool without an output schema answered: its text."""

    text: str


@contextmanager
def _paced(server: McpServer, ctx: ToolContext) -> Iterator[None]:
    """A turn under the server's limit over the fleet (its per_s, and any wait it asked for) before the
    call; a refusal for its rate holds every worker off the server for as long as it asked."""
    api = f"mcp:{server.name}"
    if ctx.pacer is not None:
        take_turn(ctx.pacer, server.limits() or [Limit(api)], api, TURN_BUDGET_S)
    try:
        yield
    except RateLimited as exc:
        if ctx.pacer is not None and exc.retry_after:
            ctx.pacer.hold_off(api, exc.retry_after)
            ctx.pacer.refused(api, "429")
        raise


def _once(
    ctx: ToolContext, server: McpServer, remote: RemoteTool, arguments: dict[str, Any]
) -> dict[str, Any]:
    """A side-effecting call at most once per step (the ledger, as the catalog's own tools): a retry
    finds the first answer; a call sent whose answer was lost is not sent again, it fails saying so. It
    counts as sent once a session is open: a server that cannot be reached was sent nothing (a retry)."""
    if (done := ctx.ledger.get(ctx.idempotency_key)) is not None:
        return done
    where = f"MCP server {server.name!r}, tool {remote.name!r}"

    sent = f"{ctx.idempotency_key}:sent"

    def sending() -> None:
        first, earlier = ctx.ledger.claim(sent, {"tool": remote.name})
        if not first and not earlier.get("refused"):
            raise PermanentToolError(
                f"{where}: a call was sent and its answer lost; not sent again (the other system may "
                "have done it: a person checks)"
            )
        ctx.ledger.note(sent, {"tool": remote.name})

    try:
        answer = _called(server, remote.name, arguments, where, sending)
    except RateLimited:  # refused for its rate: nothing was done, the next attempt sends it again
        ctx.ledger.note(sent, {"tool": remote.name, "refused": True})
        raise
    return ctx.ledger.claim(ctx.idempotency_key, answer)[1]


def _called(
    server: McpServer,
    tool: str,
    arguments: dict[str, Any],
    where: str,
    sending: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Call the tool once (`sending` is told when a session is open, just before the call goes); its
    structured answer, or its text as {"text": ...}."""
    try:
        answer = _SESSIONS.call(server, tool, arguments, sending)
    except Exception as exc:
        raise _failure(exc, server, where) from None
    text = "".join(getattr(block, "text", "") for block in answer.content)
    if len(text) > MAX_ANSWER:
        raise PermanentToolError(f"{where}: an answer of {len(text)} characters (at most {MAX_ANSWER})")
    if answer.is_error:
        raise PermanentToolError(f"{where} failed: {text[:500]}")
    structured = answer.structured_content
    return structured if isinstance(structured, dict) else {"text": text}


def _failure(exc: BaseException, server: McpServer, where: str) -> Exception:
    """What a failed call costs the step: the SDK's refusal of an answer off the tool's own schema is
    the server's fault (permanent); a timeout, a refused connection or a dropped session, another try."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:  # the client's task group wraps it
        exc = exc.exceptions[0]
    if isinstance(exc, ToolError):  # ours, from inside the session
        return exc
    if (wait := refusal(server.name)) is not None:
        return RateLimited(f"{where}: the server refused the call for its rate (429)", retry_after=wait)
    if isinstance(exc, TimeoutError):
        return RetryableToolError(f"{where}: no answer within {server.timeout_s:.0f}s")
    said = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    if said.startswith("Invalid structured content"):
        return PermanentToolError(f"{where}: its answer does not fit its schema ({said})")
    return RetryableToolError(f"{where}: {type(exc).__name__}: {said}")


_SESSIONS = Sessions(connect)  # this process's open sessions, one per server


def remote_catalog(servers: list[McpServer]) -> dict[str, Tool[Any, Any]]:
    """Every configured server's tools as catalog tools, by name (RemoteProblem names the first fault)."""
    found: dict[str, Tool[Any, Any]] = {}
    for server in servers:
        listed = discover(server)
        if unknown := sorted(set(server.finders) - {remote.name for remote in listed}):
            raise RemoteProblem(f"MCP server {server.name!r} lists no {', '.join(unknown)} (its finders)")
        for remote in listed:
            made = as_catalog_tool(server, remote)
            if made.name in found:
                raise RemoteProblem(f"MCP server {server.name!r}: two tools are called {made.name!r}")
            found[made.name] = made
    return found
