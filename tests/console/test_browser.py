"""The review loop in a real browser (Debian's Chromium, driven by Playwright) against the console
served for real, the real worker and a Jira test server: log in, find a held plan, change its category,
approve, and Jira holds the issue with the edited category. A viewer cannot approve, a request without
the CSRF token is refused, and a mail's <script> shows as text. Screenshots of the main pages are saved
(in TRIAGE_SCREENSHOTS, where `make screenshots` points it at docs/screenshots; else the test's folder)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.autonomy import Policy
from console.app import create_app
from console.users import UsersFile
from tests.conftest import Pipeline
from tests.console.conftest import VIP, People, log_in_browser, send_mail
from tests.console.server import serving
from tests.console.test_work import quarantine, wait_status
from tests.jira_server import FakeJira
from tests.support import email_bytes
from workers import runtime as runtime_module

pytestmark = pytest.mark.integration
pytest.importorskip("playwright.sync_api")


@pytest.fixture
def console_url(jira: FakeJira, held_policy: Policy, people: People) -> Iterator[str]:
    with serving(create_app(runtime_module.runtime(), UsersFile(people.path))) as url:
        yield url


HOSTILE_BODY = (
    "Our API is down.\n<script>window.owned = true; document.title = 'owned'</script>\nPlease call."
)


def test_an_approver_edits_and_approves_a_held_plan_in_the_browser_and_jira_gets_the_edit(
    pipeline: Pipeline, jira: FakeJira, console_url: str, browser: Any, shots: Path, tmp_path: Path
) -> None:
    subject = f"Finance dashboard down {uuid.uuid4().hex[:6]}"
    run_id = send_mail(pipeline, tmp_path / "box", f"Chief Financial <{VIP}>", subject, HOSTILE_BODY)
    found = wait_status(pipeline, run_id, "held").steps["categorize"].result["category"]  # type: ignore[index]
    edited = "technical" if found != "technical" else "account"
    pipeline.run_variant_mailbox(tmp_path / "sample")  # the runs page shows a day's work
    quarantine(pipeline, email_bytes(subject="Invoice <b>overdue</b>", message_id="<q@example.com>"),
               "poison: the ingest worker died 3 times on this message")  # fmt: skip

    page = log_in_browser(browser, console_url, "maria")
    held = page.locator("article.held", has_text=subject)
    held.get_by_label("Category").select_option(edited)
    page.screenshot(path=shots / "review.png", full_page=True)
    held.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{console_url}/review?done=approved")
    assert "Approved: the run goes on." in page.inner_text("main")

    done = pipeline.wait_final(run_id)
    assert done.status == "done"
    [issue] = jira.issues_with_label(f"triage-{done.ticket.id}")
    assert (
        f"category-{edited}" in issue["fields"]["labels"]
        and f"category-{found}" not in issue["fields"]["labels"]
    )
    assert issue["fields"]["summary"] == f"[{edited}] {subject}"

    page.goto(f"{console_url}/runs/{run_id}")
    text = page.inner_text("main")
    assert "<script>window.owned = true;" in text  # shown as text ...
    assert page.evaluate("window.owned") is None and page.title() != "owned"  # ... never run
    assert "CET" in text or "CEST" in text  # the viewer's zone
    assert (
        page.get_by_role("link", name=issue["key"]).get_attribute("href")
        == f"{jira.url}/browse/{issue['key']}"
    )
    page.goto(f"{console_url}/runs")
    page.screenshot(path=shots / "runs.png", full_page=True)
    page.goto(f"{console_url}/quarantine")
    page.get_by_role("link").filter(has_text="20").first.click()
    assert "Invoice <b>overdue</b>" in page.inner_text("main")
    page.screenshot(path=shots / "quarantine.png", full_page=True)

    # A request without the session's CSRF token is refused, even with the session's cookie.
    forged = page.request.post(f"{console_url}/review/{run_id}/reject", form={"reason": "forged"})
    assert forged.status == 403 and "CSRF" in forged.text()


def test_a_viewer_sees_the_queue_but_cannot_approve(
    pipeline: Pipeline, console_url: str, browser: Any, shots: Path, tmp_path: Path
) -> None:
    run_id = send_mail(pipeline, tmp_path / "box", VIP, f"Held for a viewer {uuid.uuid4().hex[:6]}")
    wait_status(pipeline, run_id, "held")
    page = log_in_browser(
        browser, console_url, "vera", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    held = page.locator("article.held", has_text=run_id[:0] or "Held for a viewer")
    assert held.count() >= 1 and held.get_by_role("button", name="Approve").count() == 0
    assert "Only an approver decides" in held.first.inner_text()
    page.screenshot(path=shots / "review-phone.png", full_page=True)
    csrf = page.locator('input[name="csrf"]').first.get_attribute("value")
    answer = page.request.post(f"{console_url}/review/{run_id}/approve", form={"csrf": csrf or ""})
    assert answer.status == 403 and "vera is a viewer" in answer.text()
    assert pipeline.store.runs.get(run_id).status == "held"  # type: ignore[union-attr]
