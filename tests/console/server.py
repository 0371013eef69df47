"""An app served for real (uvicorn on a free loopback port, in a thread of the test process): the
console, and anything else a test serves the same way."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from console.app import server_config
from tests.support import wait_for


@contextmanager
def running(config_for: Callable[[int], uvicorn.Config]) -> Iterator[int]:
    """Serve what `config_for(port)` configures on a free loopback port until the block ends; the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(config_for(port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started or None, 10, "the server to listen")
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def serving(app: FastAPI, trusted_proxies: list[str] | None = None) -> Iterator[str]:
    """Serve the app as `triage console` does (console/app.py: server_config) until the block ends; its
    base URL (http://localhost:PORT)."""

    def config(_: int) -> uvicorn.Config:
        return server_config(app, trusted_proxies or [], log_level="warning", lifespan="off")

    with running(config) as port:
        yield f"http://localhost:{port}"
