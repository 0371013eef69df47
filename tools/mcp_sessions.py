"""Sessions with the MCP servers whose tools a worker calls, kept open for the process's life: one per
server, on an event loop of the process's own (a thread), so that a call to a stdio server does not start
the server again (about a second) and a call over HTTP does not shake hands again.

Before each call the server is asked whether it is there: a session that no longer answers (the server
died, the connection dropped) is closed and another opened, before anything is sent. A session is not
reused after a call on it failed other than by the tool's own answer or a timeout. A forked process
(Celery's prefork children) opens its own.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client
from mcp.types import CallToolResult
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

Connect = Callable[[Any], AbstractAsyncContextManager[Client]]


@dataclass
class _Kept:
    """One open session: its client once open, why it could not open, and how to close it."""

    ready: threading.Event = field(default_factory=threading.Event)
    client: Client | None = None
    error: BaseException | None = None
    closed: bool = False
    stop: anyio.Event | None = None


class Sessions:
    """The open sessions of this process, by server (its name and how it is reached); `connect(server)`
    opens one."""

    def __init__(self, connect: Connect) -> None:
        self.connect = connect
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._portal: BlockingPortal | None = None
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._kept: dict[str, _Kept] = {}

    def call(
        self, server: Any, tool: str, arguments: dict[str, Any], sending: Callable[[], None]
    ) -> CallToolResult:
        """Call `tool` on the server's session within its timeout; `sending` is told once a session
        answers, just before the call goes (TimeoutError when no time is left)."""
        deadline = time.monotonic() + server.timeout_s
        client = self._answering(server, deadline)
        sending()
        portal = self._here()
        try:
            answer: CallToolResult = portal.call(_call, client, tool, arguments, _left(deadline))
        except TimeoutError:
            raise  # slow, not broken: the session stays
        except BaseException:
            self._drop(_key(server))
            raise
        return answer

    def _answering(self, server: Any, deadline: float) -> Client:
        """A session that answers a ping: the kept one, or a new one when it does not."""
        client = self._open(server, deadline)
        try:
            self._here().call(_ping, client, _left(deadline))
            return client
        except TimeoutError:
            raise
        except Exception:
            self._drop(_key(server))
        return self._open(server, deadline)

    def _open(self, server: Any, deadline: float) -> Client:
        with self._lock:
            portal = self._here()
            kept = self._kept.get(_key(server))
            if kept is None or kept.closed:
                kept = self._kept[_key(server)] = _Kept()
                portal.start_task_soon(self._keep, server, kept)
        if not kept.ready.wait(_left(deadline)):
            raise TimeoutError(f"no session within {server.timeout_s:.0f}s")
        if kept.client is None:
            raise kept.error or ConnectionError("the session closed as it opened")
        return kept.client

    async def _keep(self, server: Any, kept: _Kept) -> None:
        """Hold one session open until it is dropped (or breaks)."""
        kept.stop = anyio.Event()
        if kept.closed:  # dropped before it began
            return
        try:
            async with self.connect(server) as client:
                kept.client = client
                kept.ready.set()
                await kept.stop.wait()
        except Exception as exc:  # what the opener is told
            kept.error = exc
        finally:
            kept.closed = True
            kept.ready.set()

    def _drop(self, key: str) -> None:
        with self._lock:
            kept = self._kept.pop(key, None)
        if kept is None:
            return
        kept.closed = True  # a keeper that has not begun sees it and opens nothing
        if kept.stop is not None and self._portal is not None:
            self._portal.call(kept.stop.set)

    def _here(self) -> BlockingPortal:
        """This process's event loop (a fork starts its own: the parent's thread is not in the child)."""
        if self._portal is None or self._pid != os.getpid():
            self._kept, self._pid = {}, os.getpid()
            self._portal_cm = start_blocking_portal()
            self._portal = self._portal_cm.__enter__()
            atexit.register(self.close)
        return self._portal

    def close(self) -> None:
        """Close every session of this process (its stdio servers end) and stop its event loop."""
        if self._portal is None or self._pid != os.getpid():
            return
        for key in list(self._kept):
            self._drop(key)
        assert self._portal_cm is not None
        self._portal_cm.__exit__(None, None, None)
        self._portal = self._portal_cm = None


def _key(server: Any) -> str:
    """Which session a server's calls share: its name and how it is reached."""
    return f"{server.name} {server.command or server.url}"


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("no time left")
    return left


async def _ping(client: Client, timeout_s: float) -> None:
    """Whether the server still answers: `server/discover` again in the protocol's modern versions (they
    have no ping), a ping in the older ones."""
    with anyio.fail_after(timeout_s):
        if client.protocol_version in MODERN_PROTOCOL_VERSIONS:
            await client.session.send_discover(client.protocol_version)
        else:
            await client.session.send_ping()


async def _call(client: Client, tool: str, arguments: dict[str, Any], timeout_s: float) -> CallToolResult:
    with anyio.fail_after(timeout_s):
        return await client.call_tool(tool, arguments)
