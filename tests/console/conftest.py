"""The console under test: a users file of one person per role and two API tokens, and the console app
on the runtime of the tests' real worker (its Redis namespace, its queues)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.autonomy import Decision, Policy
from agent.run import now
from console.app import create_app
from console.users import Directory, UsersFile, add_token, add_user, load_directory
from tasks.review import decide
from tests.conftest import Pipeline
from tests.support import email_bytes, make_maildir, require_program
from workers import runtime as runtime_module

PASSWORD = "correct horse battery"
ROLES = {"vera": "viewer", "maria": "approver", "ada": "admin"}
VIP = "cfo@bigcustomer.example"


@dataclass(frozen=True)
class People:
    """The users file and the API tokens it holds, by role."""

    path: Path
    directory: Directory
    tokens: dict[str, str]


@pytest.fixture(scope="session")
def people(tmp_path_factory: pytest.TempPathFactory) -> People:
    path = tmp_path_factory.mktemp("console") / "users.yaml"
    for name, role in ROLES.items():
        add_user(path, name, role, PASSWORD)  # type: ignore[arg-type]
    tokens = {role: add_token(path, f"bot-{role}", role) for role in ("viewer", "admin")}  # type: ignore[arg-type]
    return People(path, load_directory(path), tokens)


@pytest.fixture
def held_policy(swap_runtime: Any) -> Iterator[Policy]:
    """Mail from the VIP waits for a person; what a test leaves waiting is rejected after it (the review
    queue is the session's, shared with the other tests of the pipeline)."""
    policy = Policy.model_validate(
        {
            "on_timeout": "reject",
            "rules": [{"name": "vip", "when": {"sender_in": [VIP]}, "then": "supervised"}],
        }
    )
    swap_runtime(policy=policy)
    yield policy
    rt = runtime_module.runtime()
    for hold in rt.store.reviews.waiting():
        decide(rt, hold.run_id, Decision(action="reject", by="test", reason="left by a test", at=now()))


@pytest.fixture
def app(pipeline: Pipeline, people: People) -> FastAPI:
    """The console on the worker's runtime (as swapped by the test's fixtures before this one)."""
    return create_app(runtime_module.runtime(), UsersFile(people.path))


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def login(app: FastAPI, name: str, password: str = PASSWORD) -> TestClient:
    """A browser-like client logged in as `name` (the login form's CSRF cookie included)."""
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    form = client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', form.text)
    assert token is not None
    answer = client.post("/login", data={"name": name, "password": password, "login_csrf": token.group(1)})
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(client: TestClient, page: str = "/runs") -> str:
    """The session's CSRF token, as a page carries it in its forms."""
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(page).text)
    assert found is not None
    return found.group(1)


def send_mail(pipeline: Pipeline, folder: Path, sender: str, subject: str, body: str = "It fails.") -> str:
    """Deliver one mail through the real ingest path; its run id."""
    raw = email_bytes(
        message_id=f"<{uuid.uuid4().hex}@example.com>", subject=subject, body=body, sender=sender
    )
    [delivery] = pipeline.feed(make_maildir(folder, raw))
    assert delivery.run_id is not None
    return delivery.run_id


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (the test skips without them)."""
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = require_program("chromium", "chromium")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: TRIAGE_SCREENSHOTS (make screenshots: docs/screenshots), else the test's."""
    folder = Path(os.environ.get("TRIAGE_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def log_in_browser(browser: Any, url: str, name: str, **options: Any) -> Any:
    """A browser page logged in as `name` (by the login form, as a person does)."""
    context = browser.new_context(timezone_id="Europe/Berlin", **options)
    page = context.new_page()
    page.goto(f"{url}/review")
    assert page.url.startswith(f"{url}/login?next=")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/review")
    return page
