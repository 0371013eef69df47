"""How a worker reaches an MCP server: a stdio command it starts, or a URL over streamable HTTP with a
bearer token. Over HTTP a server may refuse a call for its rate (429): the SDK says only that the server
returned an error, so what the server said (its Retry-After) is noted here, by server, for the call's
failure to read (tools/mcp_remote.py: the step waits that long, and so does the fleet).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

DEFAULT_HOLD_OFF_S = 30.0  # a 429 without a Retry-After we can read
_NOTED_FOR_S = 60.0  # how long a refusal stays to be read by the call it failed
_refusals: dict[str, tuple[float, float]] = {}  # server name -> (when, seconds to wait)


@asynccontextmanager
async def connect(server: Any) -> AsyncIterator[Client]:
    """A session with the server, closed after (over HTTP its client too: the SDK leaves a client it
    was given open)."""
    if server.command is not None:
        params = StdioServerParameters(command=server.command[0], args=server.command[1:], env=server.env)
        async with Client(params, read_timeout_seconds=server.timeout_s) as client:
            yield client
        return
    headers = {"Authorization": f"Bearer {server.token.get_secret_value()}"} if server.token else {}
    async with create_mcp_http_client(headers=headers) as http:

        async def note_refusal(response: Any) -> None:
            if response.status_code == 429:
                _refusals[server.name] = (time.monotonic(), retry_after(response.headers.get("retry-after")))

        http.event_hooks["response"].append(note_refusal)
        transport = streamable_http_client(str(server.url), http_client=http)
        async with Client(transport, read_timeout_seconds=server.timeout_s) as client:
            yield client


def refusal(name: str) -> float | None:
    """The seconds server `name` asked to wait when it last refused a call for its rate (once: the
    note is taken), or None when it has not lately."""
    when, wait = _refusals.pop(name, (0.0, 0.0))
    return wait if time.monotonic() - when < _NOTED_FOR_S else None


def retry_after(value: str | None) -> float:
    """A Retry-After header's seconds (a number; a date or nothing readable: the default)."""
    try:
        return min(max(float(value or ""), 1.0), 3600.0)
    except ValueError:
        return DEFAULT_HOLD_OFF_S
