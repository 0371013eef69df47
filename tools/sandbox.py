"""Run CPU-bound work on a stranger's input where it can be killed: a helper process per concurrent call.
A tool (by its catalog name), or a function named by its module path (ingest reads each mail this way).

A regular expression holds the GIL while it matches, so a pattern that runs long on crafted text freezes
every thread of a worker, and a thread cannot be stopped from outside. A helper process can: the call
waits on a socket with the tool's time limit and, when it is spent, kills the helper and says so; the
next call gets a fresh one. A helper is a fresh interpreter (`python -m tools.sandbox`), never a fork of
a worker that runs threads, nor a multiprocessing child (a prefork pool process is daemonic and may not
have those); it exits when its worker's end of the socket pair closes.
"""

from __future__ import annotations

import importlib
import os
import signal
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

from pydantic import ValidationError

from tools.base import ToolConfig, ToolContext
from tools.catalog import CATALOG
from tools.errors import PermanentToolError, RetryableToolError, ToolError, field_errors
from tools.ledger_port import NoLedger


class Overran(RetryableToolError):
    """The work overran its time limit or killed its helper process (which is gone now)."""


class Died(Overran):
    """The helper process died while it had the work: the work killed it, or something killed it from
    outside at that moment (a retry with a fresh helper tells)."""


class Stopped(RetryableToolError):
    """The helper process was told to stop from outside (SIGTERM, SIGINT or SIGHUP: its worker is being
    stopped with it) while it had the work; never the work's fault."""


STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})

STARTUP_S = 60.0  # a fresh interpreter imports the tools; on a loaded machine that takes seconds


def _serve(conn: Connection) -> None:
    """A helper's life: say it is ready, then run the tools it is sent until its worker hangs up."""
    conn.send(("ready", os.getpid()))
    while True:
        try:
            name, args, config = conn.recv()
        except (EOFError, OSError):
            return
        if config is None:  # a function, "module:name", called with (args, kwargs)
            try:
                conn.send(_called(name, *args))
            except Exception as exc:  # what it returned or raised cannot be pickled: nothing was sent
                conn.send(("raised", RuntimeError(f"{name}: its answer cannot be sent back: {exc!r}")))
            continue
        ctx = ToolContext(run_id="-", ticket_id="-", step_id="-", ledger=NoLedger(), config=config)
        try:
            conn.send(("ok", CATALOG[name].run(args, ctx).model_dump(mode="json")))
        except ValidationError as exc:
            conn.send(("invalid", field_errors(exc)))
        except RetryableToolError as exc:
            conn.send(("retry", str(exc)))
        except ToolError as exc:
            conn.send(("permanent", str(exc)))
        except Exception as exc:
            conn.send(("error", repr(exc)))


def _called(path: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, Any]:
    """What a function returned, or the exception it raised (both sent back pickled)."""
    module, _, name = path.partition(":")
    try:
        return "ok", getattr(importlib.import_module(module), name)(*args, **kwargs)
    except Exception as exc:
        return "raised", exc


class _Helper:
    """One helper process and the worker's end of its pipe."""

    def __init__(self) -> None:
        mine, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tools.sandbox", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.conn = Connection(mine.detach())
        self.ready = False

    def wait_ready(self) -> None:
        """Wait (not on the tool's clock) until the helper has imported the tools."""
        if self.ready:
            return
        if not self.conn.poll(STARTUP_S):
            raise RetryableToolError(f"a tool process did not start within {STARTUP_S:g}s")
        self.conn.recv()
        self.ready = True

    def kill(self) -> None:
        self.conn.close()
        self.process.kill()
        self.process.wait(5)


class Sandbox:
    """Helper processes for one worker process (created on first use, so a prefork child makes its own).

    At most `size` helpers (the machine's cores by default): the work is CPU-bound, so more would only
    share the same cores and cost an interpreter each. A call waits for a free helper for at most its
    own time limit, then is retried later.
    """

    def __init__(self, size: int | None = None) -> None:
        self.size = size or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._idle: list[_Helper] = []
        self._free = threading.BoundedSemaphore(self.size)
        self._pid = os.getpid()

    def _mine(self) -> None:
        """Forget a parent's helpers after a fork: they are not ours to talk to."""
        with self._lock:
            if self._pid != os.getpid():
                self._reset()

    def _checkout(self) -> _Helper:
        """An idle helper that still lives (one killed from outside while idle is dropped), or a new one."""
        with self._lock:
            while self._idle:
                helper = self._idle.pop()
                if helper.process.poll() is None:
                    return helper
                helper.kill()
        return _Helper()

    def _checkin(self, helper: _Helper) -> None:
        with self._lock:
            self._idle.append(helper)

    def prestart(self, count: int = 1) -> None:
        """Start helpers now (side by side) and wait until they have imported the tools, so that a worker
        says it is ready only once its first calls will not wait for imports, nor its helpers' imports
        compete with the work for the cores. A helper that does not get ready is dropped (and said)."""
        self._mine()
        started = [_Helper() for _ in range(min(count, self.size) - len(self._idle))]
        ready = []
        for helper in started:
            try:
                helper.wait_ready()
                ready.append(helper)
            except (RetryableToolError, EOFError, OSError) as exc:
                print(f"sandbox: a tool process did not start ({exc!r}); a call will start another",
                      file=sys.stderr)  # fmt: skip
                helper.kill()
        with self._lock:
            self._idle.extend(ready)

    def run(self, name: str, args: dict[str, Any], config: ToolConfig, timeout_s: float) -> dict[str, Any]:
        """The tool's result; RetryableToolError when it overran (its helper killed), its helper died, or
        every helper stayed busy for timeout_s."""
        self._mine()
        free = self._free
        if not free.acquire(timeout=timeout_s):
            raise RetryableToolError(f"{name}: all {self.size} tool processes stayed busy for {timeout_s}s")
        try:
            kind, payload = self._call(name, args, config, timeout_s)
        finally:
            free.release()
        if kind == "ok":
            return dict(payload)
        if kind == "retry":
            raise RetryableToolError(payload)
        if kind == "invalid":
            raise PermanentToolError(f"invalid arguments: {payload}")
        raise PermanentToolError(payload if kind == "permanent" else f"unexpected {payload}")

    def call(
        self, path: str, args: tuple[Any, ...], kwargs: dict[str, Any], timeout_s: float, wait_s: float
    ) -> Any:
        """What the function at `path` ("module:name") returns for these arguments, run in a helper; the
        exception it raises, raised here. Overran, its helper is killed: Overran. Every helper busy for
        `wait_s`: RetryableToolError."""
        self._mine()
        if not self._free.acquire(timeout=wait_s):
            raise RetryableToolError(f"{path}: all {self.size} helper processes stayed busy for {wait_s}s")
        try:
            kind, payload = self._call(path, (args, kwargs), None, timeout_s)
        finally:
            self._free.release()
        if kind == "raised":
            raise payload
        return payload

    def _call(self, name: str, args: Any, config: ToolConfig | None, timeout_s: float) -> Any:
        """Send the call to a helper and wait for its answer, killing the helper when it overruns. A
        helper found dead before it took the work (killed from outside: a signal to the worker's whole
        process group) is replaced once; that is not the work's fault."""
        for fresh in (False, True):
            helper = self._checkout()
            try:
                helper.wait_ready()
                helper.conn.send((name, args, config))
            except (EOFError, OSError):
                helper.kill()
                if fresh:
                    raise RetryableToolError(f"{name}: new tool processes die before they get work") from None
                continue
            except RetryableToolError:  # it never became ready
                helper.kill()
                raise
            return self._answer(helper, name, timeout_s)
        raise AssertionError("not reached")  # pragma: no cover

    def _answer(self, helper: _Helper, name: str, timeout_s: float) -> Any:
        """The helper's answer to the work it took; Overran (and the helper killed) when it overruns,
        Stopped when a stop signal ended it, Died when it dies at the work otherwise."""
        try:
            if not helper.conn.poll(timeout_s):
                helper.kill()
                raise Overran(f"{name} timed out after {timeout_s}s; its process was stopped")
            answer = helper.conn.recv()
        except (EOFError, OSError) as exc:
            helper.kill()
            if -(helper.process.returncode or 0) in STOP_SIGNALS:
                raise Stopped(f"{name}: its process was stopped from outside") from None
            raise Died(f"{name}: its process died ({type(exc).__name__})") from None
        self._checkin(helper)
        return answer

    def close(self) -> None:
        """Stop every idle helper (their worker is shutting down)."""
        with self._lock:
            for helper in self._idle:
                helper.kill()
            self._idle = []


SANDBOX = Sandbox()  # this worker process's helper processes (made on first use, so after a fork)


if __name__ == "__main__":  # a helper: serve the worker on the socket it handed down
    _serve(Connection(int(sys.argv[1])))
