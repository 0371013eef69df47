"""The console served for real (uvicorn on a free loopback port, in a thread of the test process)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from console.app import server_config
from tests.support import wait_for


@contextmanager
def serving(app: FastAPI, trusted_proxies: list[str] | None = None) -> Iterator[str]:
    """Serve the app as `triage console` does (console/app.py: server_config) until the block ends; its
    base URL (http://localhost:PORT)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(server_config(app, trusted_proxies or [], log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started or None, 10, "the console to listen")
    try:
        yield f"http://localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
