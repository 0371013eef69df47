"""Helpers for tests: e-mails, Maildirs, scripted planners, waiting on conditions."""

from __future__ import annotations

import mailbox
import os
import re
import shlex
import shutil
import socket
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from agent.memory.recall import Recall
from agent.plan import Plan
from agent.planner import Planned
from inbox.ticket import Ticket

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
# A bare clone has no ../shared: tests that read the third-party corpora skip, saying so. CI has them, so
# there a missing folder fails those tests instead of skipping them quietly.
needs_corpora = pytest.mark.skipif(
    not CORPORA.is_dir() and not os.environ.get("CI"),
    reason=f"needs the third-party corpora in ../shared/corpora beside the checkout ({CORPORA} is absent)",
)
TRIAGE = str(Path(sys.executable).parent / "triage")  # the installed command
SAMPLE_MAILBOX = ROOT / "examples" / "mailbox"
README = (ROOT / "README.md").read_text()
# The worker commands the README tells an operator to run side by side on one host (its first block of
# them; a later one shows a fleet), as argument lists.
_WORKER_BLOCK = next(block for block in README.split("```")[1::2] if "\n.venv/bin/triage worker " in block)
README_WORKER_BLOCK = [
    shlex.split(line.split("#")[0])
    for line in _WORKER_BLOCK.splitlines()
    if line.startswith(".venv/bin/triage worker ")
]

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_program(name: str, package: str) -> str:
    """The path of a program a test runs for real. Missing, the test skips naming the Debian package
    (`make system-packages` installs it); in CI, where `make test` installed it, a missing one fails."""
    path = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}",) if os.access(p, os.X_OK)), None)
    if path is None:
        message = f"{name} is not installed (Debian package {package!r}: make system-packages)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def email_bytes(
    subject: str = "Help with my invoice",
    body: str = "Hello, my invoice is wrong.\n\nThanks,\nJane Doe\n",
    *,
    sender: str = "Jane Doe <jane@example.com>",
    message_id: str | None = "<m1@example.com>",
    headers: dict[str, str] | None = None,
) -> bytes:
    """A well-formed text/plain e-mail as bytes."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.com"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2025, 11, 24, 9, 0, tzinfo=UTC))
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return bytes(msg)


def make_maildir(folder: Path, *messages: bytes) -> Path:
    """A Maildir holding these messages in this delivery order."""
    box = mailbox.Maildir(folder, create=True)
    for i, raw in enumerate(messages):
        key = box.add(raw)
        path = folder / "new" / key
        stamp = 1_700_000_000 + i
        path.touch()
        os.utime(path, (stamp, stamp))
    return folder


_ID_HEADER = re.compile(
    rb"^((?:Message-ID|In-Reply-To|References):[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)", re.I | re.M
)


def variant_mailbox(dest: Path, suffix: str, source: Path = SAMPLE_MAILBOX) -> Path:
    """A copy of a Maildir whose messages are new to the system: Message-IDs (and the replies'
    references to them) get a suffix, and every message gets a header, so synthetic ids differ too."""
    for sub in ("cur", "new", "tmp"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    for path in sorted(p for p in source.glob("*/*") if p.is_file() and not p.name.startswith(".")):
        raw = path.read_bytes()
        raw = _ID_HEADER.sub(
            lambda m: re.sub(rb"<([^<>@\s]+)@", rb"<\1." + suffix.encode() + rb"@", m.group(1)), raw
        )
        newline = b"\r\n" if b"\r\n" in raw[:200] else b"\n"
        target = dest / path.parent.name / path.name
        target.write_bytes(b"X-Test-Variant: " + suffix.encode() + newline + raw)
        os.utime(target, (path.stat().st_mtime, path.stat().st_mtime))
    return dest


def wait_for(condition: Callable[[], T], timeout: float = 30.0, what: str = "condition") -> T:
    """Poll until condition() is truthy and return it; fail the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


class ScriptedPlanner:
    """A planner that returns the plan a test wrote, whatever the ticket."""

    def __init__(self, steps: list[dict[str, Any]]) -> None:
        self.plan = Plan.model_validate({"steps": steps})

    def make_plan(self, ticket: Ticket, recall: Recall | None = None) -> Planned:
        return Planned(self.plan, "rule")


class ScriptedLLM:
    """Plays the LLM: each call returns the next scripted answer (a string) or raises it (an exception)."""

    def __init__(self, *answers: str | Exception, tokens: tuple[int, int] = (100, 20)) -> None:
        self.answers = list(answers)
        self.tokens = tokens
        self.requests: list[list[dict[str, str]]] = []
        self.schemas: list[dict[str, Any]] = []  # the answer schema of each request

    def complete(
        self, messages: list[dict[str, str]], schema: dict[str, Any], name: str, charge: Any = None
    ) -> Any:
        from tools.llm import LLMReply, Usage

        self.requests.append(list(messages))
        self.schemas.append(schema)
        if not self.answers:
            raise AssertionError("the scripted LLM ran out of answers")
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return LLMReply(
            answer, Usage(calls=1, prompt_tokens=self.tokens[0], completion_tokens=self.tokens[1])
        )


def triage(*args: str, stdin: str | None = None) -> Any:
    """Run a `triage` command in this process on the runtime the tests' worker uses (a click Result).

    The command gets that runtime as its context object, as the program gets the one it builds from the
    environment: a command never rebuilds or replaces the runtime of the process it runs in.
    """
    from click.testing import CliRunner

    from cli.main import main
    from workers.runtime import runtime

    return CliRunner().invoke(main, list(args), input=stdin, obj=runtime())


def imap_config(**imap: Any) -> Any:
    """An ImapConfig as the settings build it: `imap` are the TRIAGE_IMAP_* values without the prefix."""
    from workers.settings import load_settings

    config = load_settings(**{f"imap_{name}": value for name, value in imap.items()}).imap_config()
    assert config is not None, "an IMAP config needs a host and a user"
    return config


def llm_config(**llm: Any) -> Any:
    """An LLMConfig as the settings build it: `llm` are the TRIAGE_LLM_* values without the prefix."""
    from workers.settings import load_settings

    config = load_settings(**{f"llm_{name}": value for name, value in llm.items()}).llm_config()
    assert config is not None, "an LLM config needs a model"
    return config


def issue_plan(*steps: dict[str, Any]) -> list[dict[str, Any]]:
    """A scripted plan (for ScriptedPlanner) of these steps among what a new ticket's plan needs: the
    categorize and extract steps, then the steps, then the issue (its category and urgency the finding
    steps', as the policy wants: agent/pins.py)."""
    text = {"subject": {"$ref": "ticket.subject"}, "body": {"$ref": "ticket.body"}}
    issue = {
        **text,
        "sender": {"$ref": "ticket.sender"},
        "category": {"$ref": "steps.categorize.category"},
        "urgency": {"$ref": "steps.extract.urgency"},
    }
    return [
        {"id": "categorize", "tool": "categorize_ticket", "args": text},
        {"id": "extract", "tool": "extract_entities", "args": text},
        *steps,
        {"id": "create_issue", "tool": "create_jira_issue", "args": issue},
    ]
