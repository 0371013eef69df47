"""What the tests' local HTTP peers (Jira, OpenAI, an OAuth2 token endpoint) share: a quiet JSON handler
and a threaded server on a free loopback port that lives for a `with` block."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    """Reads and answers JSON; logs nothing. `self.peer` is the object the server was started with."""

    server: _Server
    protocol_version = "HTTP/1.1"
    content_type = "application/json"

    @property
    def peer(self) -> Any:
        return self.server.peer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Answer with a JSON body (bytes are sent as they are, None as an empty body)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def read_json(self) -> Any:
        """The request's JSON body ({} when empty)."""
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    peer: Any

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished (a killed worker) is not the server's error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serving(handler: type[JsonHandler], peer: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `peer` through `handler` on a free port of `host` (0.0.0.0: every address, for the test's
    network namespaces too); yield the base URL on loopback (http://127.0.0.1:PORT)."""
    server = _Server((host, 0), handler)
    server.peer = peer
    thread = threading.Thread(
        target=server.serve_forever, args=(0.02,), name=type(peer).__name__, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
