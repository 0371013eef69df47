"""Access to the console: nobody anonymous gets past the login page, each role does what it may, every
state-changing request from a browser carries its CSRF token, and failed logins are throttled."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from console.app import SECURITY_HEADERS
from tests.conftest import Pipeline
from tests.console.conftest import People, csrf_of, login

pytestmark = pytest.mark.integration

PAGES = [
    "/runs",
    "/runs/T1",
    "/mail",
    "/review",
    "/dead-letters",
    "/quarantine",
    "/quarantine/d1",
    "/incidents",
    "/audit",
]


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every operation of the OpenAPI schema, its path filled in."""
    return [
        (method.upper(), path.replace("{run_id}", "T1").replace("{delivery_id}", "d1"))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]


def test_anonymous_callers_reach_only_the_login_page(app: FastAPI, anonymous: TestClient) -> None:
    for path in PAGES:
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next="), path
    routes = api_routes(app)
    assert len(routes) == 15
    for method, path in routes:
        answer = anonymous.request(method, path, json={"reason": "x"})
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer", (method, path)
    assert anonymous.get("/api/openapi.json").status_code == 401
    assert anonymous.get("/api/me", headers={"Authorization": "Bearer tt_guessed"}).status_code == 401
    assert anonymous.get("/login").status_code == 200


def test_every_response_forbids_inline_script_framing_and_caching(anonymous: TestClient) -> None:
    for answer in (anonymous.get("/login"), anonymous.get("/runs"), anonymous.get("/api/runs")):
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers[name] == value
    assert "script-src 'self'" in SECURITY_HEADERS["Content-Security-Policy"]


def test_the_session_cookie_is_secure_http_only_same_site_and_host_pinned(app: FastAPI) -> None:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    answer = client.post(
        "/login", data={"name": "vera", "password": "correct horse battery", "login_csrf": token}
    )
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("__Host-triage_session=")
    assert all(part in cookie for part in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"))


def test_a_login_form_without_its_own_csrf_cookie_is_refused(anonymous: TestClient) -> None:
    answer = anonymous.post(
        "/login", data={"name": "vera", "password": "correct horse battery", "login_csrf": "x"}
    )
    assert answer.status_code == 403 and "expired" in answer.text


def test_failed_logins_are_throttled_then_even_the_right_password_waits(
    app: FastAPI, pipeline: Pipeline
) -> None:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)

    def attempt(password: str) -> int:
        token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
        return client.post(
            "/login", data={"name": "ada", "password": password, "login_csrf": token}
        ).status_code

    try:
        assert [attempt(f"guess {i}") for i in range(5)] == [401] * 5
        assert attempt("correct horse battery") == 429
    finally:  # the address's count would throttle the other tests' logins
        for key in pipeline.store.redis.scan_iter(match=f"{pipeline.store.keys.prefix}console-failures:*"):
            pipeline.store.redis.delete(key)
    failed = [e for e in pipeline.store.operations.audit_trail(50) if e["action"] == "login_failed"]
    assert failed[0]["by"] == "ada" and "more failures from it this minute are counted" in failed[0]["reason"]


def test_a_viewer_reads_but_every_write_is_refused_403(app: FastAPI, people: People) -> None:
    vera = login(app, "vera")
    assert vera.get("/runs").status_code == 200 and vera.get("/audit").status_code == 403
    csrf = csrf_of(vera)
    for path in (
        "/review/T1/approve",
        "/review/T1/reject",
        "/dead-letters/T1/retry",
        "/quarantine/d1/release",
    ):
        assert vera.post(path, data={"csrf": csrf, "reason": "x"}).status_code == 403, path
    bot = {"Authorization": f"Bearer {people.tokens['viewer']}"}
    with TestClient(app, base_url="https://testserver") as client:
        me = {"name": "bot-viewer", "role": "viewer", "mailboxes": None}
        assert client.get("/api/me", headers=bot).json() == me
        for method, path in api_routes(app):
            if method == "POST":
                assert client.post(path, headers=bot, json={"reason": "x"}).status_code == 403, path


def test_a_browser_write_without_the_sessions_csrf_token_is_refused(app: FastAPI) -> None:
    maria = login(app, "maria")
    assert maria.post("/review/T1/reject", data={"reason": "no token"}).status_code == 403
    assert maria.post("/review/T1/reject", data={"reason": "x", "csrf": "forged"}).status_code == 403
    assert maria.post("/api/reviews/T1/reject", json={"reason": "x"}).status_code == 403
    # With the token the request is heard (and refused for what it is: T1 is not held).
    csrf = csrf_of(maria)
    assert maria.post("/review/T1/reject", data={"reason": "x", "csrf": csrf}).status_code == 409
    assert (
        maria.post("/api/reviews/T1/reject", json={"reason": "x"}, headers={"X-CSRF-Token": csrf}).status_code
        == 409
    )


def test_logging_out_ends_the_session_for_good(app: FastAPI) -> None:
    vera = login(app, "vera")
    cookie = vera.cookies.get("__Host-triage_session")
    assert vera.post("/logout", data={"csrf": csrf_of(vera)}).status_code == 303
    replay = TestClient(app, base_url="https://testserver", follow_redirects=False)
    replay.cookies.set("__Host-triage_session", cookie or "")
    assert replay.get("/runs").status_code == 303


def test_an_unknown_page_is_a_page_and_an_unknown_api_path_is_json(app: FastAPI) -> None:
    vera = login(app, "vera")
    page = vera.get("/no-such-page")
    assert page.status_code == 404 and "<h1>Not done</h1>" in page.text and "vera" in page.text
    assert vera.get("/api/no-such-thing").json() == {"detail": "Not Found"}


def test_a_request_body_over_64_kb_or_of_unsaid_length_is_refused_before_it_is_read(
    anonymous: TestClient,
) -> None:
    big = {"name": "ada", "password": "x" * 100_000, "login_csrf": "x"}
    assert anonymous.post("/login", data=big).status_code == 413

    def streamed() -> Any:
        for _ in range(20):
            yield b"a" * 10_000

    answer = anonymous.post(
        "/api/reviews/T1/reject", content=streamed(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 411


def test_the_audit_page_shows_logins_logouts_and_failed_logins(app: FastAPI, anonymous: TestClient) -> None:
    token = re.search(r'name="login_csrf" value="([^"]+)"', anonymous.get("/login").text)
    assert token is not None
    wrong = {"name": "ada", "password": "not it", "login_csrf": token.group(1)}
    assert anonymous.post("/login", data=wrong).status_code in (401, 403)
    vera = login(app, "vera")
    vera.post("/logout", data={"csrf": csrf_of(vera)})
    ada = login(app, "ada")
    page = ada.get("/audit")
    assert page.status_code == 200, page.text
    for action in ("login_failed", "logout", "login"):
        assert f"<td>{action}</td>" in page.text
    for name, value in SECURITY_HEADERS.items():
        assert page.headers[name] == value


def test_an_error_page_carries_the_security_headers_too(
    app: FastAPI, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = login(app, "ada")
    failing = TestClient(
        app, base_url="https://testserver", follow_redirects=False, raise_server_exceptions=False
    )
    failing.cookies = ada.cookies

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the store cannot be read")

    monkeypatch.setattr(pipeline.store.operations, "audit_trail", broken)
    monkeypatch.setattr(pipeline.store.runs, "page", broken)
    for path in ("/audit", "/api/runs"):
        answer = failing.get(path)
        assert answer.status_code == 500 and "cannot be read" not in answer.text, path
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers[name] == value, (path, name)
