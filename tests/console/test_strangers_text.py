"""What strangers can do to the console's pages: fill the quarantine (it is read a page at a time),
write a subject that reads backwards (the direction marks are shown by name), and the console served
over TLS tells browsers to stay on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from console import views
from tests.conftest import Pipeline
from tests.console.conftest import People, login, send_mail
from tests.console.test_work import quarantine


@pytest.fixture
def flooded(pipeline: Pipeline) -> Iterator[list[str]]:
    """More quarantined mail than a page holds, newest last; erased afterwards."""
    ids = [
        quarantine(pipeline, b"junk " + str(i).encode(), "no header fields: not an e-mail message")
        for i in range(views.PAGE + 5)
    ]
    yield ids
    for delivery_id in ids:
        pipeline.store.deliveries.erase(delivery_id)


def test_a_flooded_quarantine_is_listed_a_page_at_a_time_newest_first(
    app: FastAPI, people: People, flooded: list[str]
) -> None:
    bot = {"Authorization": f"Bearer {people.tokens['viewer']}"}
    with TestClient(app, base_url="https://testserver") as client:
        first = client.get("/api/quarantine", headers=bot).json()
        second = client.get("/api/quarantine?page=1", headers=bot).json()
    newest = [d["delivery_id"] for d in first["mail"]]
    assert len(newest) == views.PAGE and first["more"] is True
    assert newest[:3] == flooded[::-1][:3] and not set(newest) & {d["delivery_id"] for d in second["mail"]}
    page = login(app, "vera").get("/quarantine").text
    assert page.count('<tr><td data-label="Arrived">') == views.PAGE and "page_no=1" in page


def test_a_subject_that_reads_backwards_shows_its_direction_mark(
    pipeline: Pipeline, app: FastAPI, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    run_id = send_mail(pipeline, tmp_path / "box", "ann@example.com", f"invoice\u202efdp.exe {tag}")
    pipeline.wait_final(run_id)
    vera = login(app, "vera")
    for page in (vera.get(f"/runs/{run_id}").text, vera.get(f"/runs?q={tag}").text):
        assert f"invoice[U+202E]fdp.exe {tag}" in page and "\u202e" not in page


def test_over_tls_the_console_asks_browsers_to_stay_on_it(app: FastAPI) -> None:
    with (
        TestClient(app, base_url="https://testserver") as tls,
        TestClient(app, base_url="http://testserver") as plain,
    ):
        assert tls.get("/login").headers["Strict-Transport-Security"] == "max-age=31536000"
        assert "Strict-Transport-Security" not in plain.get("/login").headers
