"""A bound on what a request may send: the console's forms and API bodies are small, so a body over
MAX_BODY_BYTES is refused (413) before it is read, and a body that does not say its length (chunked)
is refused too (411): every browser and HTTP client sends Content-Length for a form or a JSON body."""

from __future__ import annotations

from typing import Any

MAX_BODY_BYTES = 64 * 1024


class BodyLimit:
    """ASGI middleware: 413 for a declared body over `limit` bytes, 411 for a body of unsaid length."""

    def __init__(self, app: Any, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Refuse the request here, or pass it on whole."""
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            declared = headers.get(b"content-length", b"0")
            if b"transfer-encoding" in headers:
                await _refuse(send, 411, "send the body with a Content-Length")
                return
            if not declared.isdigit() or int(declared) > self.limit:
                await _refuse(send, 413, f"the request body is over {self.limit} bytes")
                return
        await self.app(scope, receive, send)


async def _refuse(send: Any, status: int, why: str) -> None:
    body = f'{{"detail": "{why}"}}'.encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
