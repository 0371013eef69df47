"""An OpenAI-compatible chat-completions server for tests, with scripted answers and failures."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.http_peer import JsonHandler, serving


@dataclass
class Reply:
    """One scripted answer: content (or a tool call), or a failure: status, delay, malformed body."""

    content: str | None = None
    tool_call: str | None = None
    status: int = 200
    retry_after: float | None = None
    delay_s: float = 0.0
    malformed: bool = False


@dataclass
class FakeOpenAI:
    """The server's script and what it was asked."""

    script: list[Reply] = field(default_factory=list)
    default: Callable[[dict[str, Any]], str] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


class _Handler(JsonHandler):
    @property
    def fake(self) -> FakeOpenAI:
        return self.peer  # type: ignore[no-any-return]

    def do_POST(self) -> None:
        fake = self.fake
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        if self.path.rstrip("/") != "/v1/chat/completions":
            self.send_json(404, b'{"error": {"message": "not found"}}')
            return
        fake.requests.append(request)
        if fake.script:
            reply = fake.script.pop(0)
        elif fake.default is not None:
            reply = Reply(content=fake.default(request))
        else:
            reply = Reply(status=500)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.status != 200:
            headers = {"Retry-After": str(reply.retry_after)} if reply.retry_after is not None else {}
            error = {"error": {"message": f"scripted {reply.status}", "type": "server_error", "code": None}}
            self.send_json(reply.status, json.dumps(error).encode(), headers)
            return
        if reply.malformed:
            self.send_json(200, b'{"id": "x", "choices": "not a list"')
            return
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.tool_call is not None:
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "plan", "arguments": reply.tool_call}}]}  # fmt: skip
        prompt = sum(len(m.get("content") or "") for m in request.get("messages", [])) // 4
        completion = len(reply.content or reply.tool_call or "") // 4
        body = {
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": request.get("model", "test-model"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }  # fmt: skip
        self.send_json(200, json.dumps(body).encode())


@contextmanager
def running_openai(fake: FakeOpenAI | None = None) -> Iterator[FakeOpenAI]:
    """Serve a FakeOpenAI on a free loopback port; its base URL is `fake.url` (ending in /v1)."""
    fake = fake or FakeOpenAI()
    with serving(_Handler, fake) as url:
        fake.url = f"{url}/v1"
        yield fake
