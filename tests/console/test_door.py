"""The console's door, served for real as `triage console` serves it: the client address comes from
X-Forwarded-For only when a trusted proxy sent it, every login costs one password hash whether the name
exists or not, hashing does not hold up other requests, and a guesser cannot flush the audit trail."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from console import auth, users
from tests.conftest import Pipeline
from tests.console.conftest import PASSWORD
from tests.console.server import serving


@pytest.fixture(autouse=True)
def forget_failures(pipeline: Pipeline) -> Iterator[None]:
    """Each test starts with no failed login counted, and leaves none to throttle other tests' logins."""

    def forget() -> None:
        for key in pipeline.store.redis.scan_iter(match=f"{pipeline.store.keys.prefix}console-failures:*"):
            pipeline.store.redis.delete(key)

    forget()
    yield
    forget()


def attempt(url: str, name: str, password: str, **headers: str) -> int:
    """One login through the form, as a browser sends it (its Secure cookie too, as browsers do for
    http://localhost); the status of the answer."""
    with httpx.Client(base_url=url, headers=headers) as client:
        form = client.get("/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', form.text)
        assert token is not None
        cookie = {"Cookie": f"{auth.LOGIN_CSRF_COOKIE}={form.cookies[auth.LOGIN_CSRF_COOKIE]}"}
        data = {"name": name, "password": password, "login_csrf": token.group(1)}
        return client.post("/login", data=data, headers=cookie).status_code


def test_a_forwarded_for_header_from_anyone_but_a_trusted_proxy_changes_nothing(app: FastAPI) -> None:
    with serving(app) as url:
        statuses = [attempt(url, "ada", f"guess {i}", **{"X-Forwarded-For": f"10.0.0.{i}"}) for i in range(6)]
    assert statuses == [401] * 5 + [429]  # counted against the real client, 127.0.0.1


def test_behind_a_trusted_proxy_each_client_is_counted_as_itself(app: FastAPI) -> None:
    with serving(app, trusted_proxies=["127.0.0.1"]) as url:
        guesser = [attempt(url, "ada", f"guess {i}", **{"X-Forwarded-For": "203.0.113.7"}) for i in range(6)]
        colleague = attempt(url, "ada", PASSWORD, **{"X-Forwarded-For": "198.51.100.2"})
    assert guesser == [401] * 5 + [429] and colleague == 303


def test_an_unknown_name_costs_the_same_password_hash(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    verified: list[str] = []
    real = users.HASHER

    class Counting:
        def verify(self, hash_: str, password: str) -> Any:
            verified.append(hash_)
            return real.verify(hash_, password)

    monkeypatch.setattr(users, "HASHER", Counting())
    with serving(app) as url:
        assert attempt(url, "nobody-here", "guess") == 401
        assert attempt(url, "ada", "guess") == 401
    assert len(verified) == 2 and all(h.startswith("$argon2id$v=19$m=65536,t=3") for h in verified)


def test_hashing_a_password_holds_up_no_other_request(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    hashing, release = threading.Event(), threading.Event()

    def slow_check(user: Any, password: str) -> bool:
        hashing.set()
        release.wait(30)
        return False

    monkeypatch.setattr(auth, "check_password", slow_check)
    with serving(app) as url:
        login = threading.Thread(target=attempt, args=(url, "ada", "guess"))
        login.start()
        assert hashing.wait(10)
        try:
            assert httpx.get(f"{url}/login", timeout=5).status_code == 200  # served while a login hashes
        finally:
            release.set()
            login.join(10)


def test_a_guesser_leaves_one_audit_entry_a_minute_not_one_per_guess(
    app: FastAPI, pipeline: Pipeline
) -> None:
    before = len(pipeline.store.operations.audit_trail(1000))
    with serving(app, trusted_proxies=["127.0.0.1"]) as url:
        for i in range(12):
            attempt(url, f"name{i}", "guess", **{"X-Forwarded-For": "192.0.2.44"})
    trail = pipeline.store.operations.audit_trail(1000)
    new = [e for e in trail[: len(trail) - before] if e["action"] == "login_failed"]
    assert 1 <= len(new) <= 2 and all("192.0.2.44" in e["reason"] for e in new)  # 2: a minute turned
