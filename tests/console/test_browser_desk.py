"""The console as a support lead uses it every day, in a real browser (Debian's Chromium via Playwright)
against the console served for real and the real worker: a run opens with its summary (the steps' JSON
behind a details control), the runs list is a list of cards on a phone, the counts refresh without a
reload, the Audit page shows logins, and the users file is followed while the console runs."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.autonomy import Policy
from console.app import create_app
from console.users import UsersFile, add_user
from tests.conftest import Pipeline
from tests.console.conftest import PASSWORD, VIP, People, log_in_browser, send_mail
from tests.console.server import serving
from tests.console.test_work import wait_status
from tests.jira_server import FakeJira
from workers import runtime as runtime_module

pytestmark = pytest.mark.integration
pytest.importorskip("playwright.sync_api")

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}


@pytest.fixture
def users_file(people: People, tmp_path: Path) -> Path:
    """A users file of this test's own (it changes it), starting as the session's."""
    path = tmp_path / "users.yaml"
    shutil.copy(people.path, path)
    return path


@pytest.fixture
def desk_url(jira: FakeJira, held_policy: Policy, users_file: Path) -> Iterator[str]:
    with serving(create_app(runtime_module.runtime(), UsersFile(users_file))) as url:
        yield url


def test_a_run_opens_with_its_summary_and_keeps_the_steps_behind_details(
    pipeline: Pipeline,
    jira: FakeJira,
    desk_url: str,
    browser: Any,
    shots: Path,
    tmp_path: Path,
) -> None:
    subject = f"Invoice charged twice {uuid.uuid4().hex[:6]}"
    run_id = send_mail(
        pipeline,
        tmp_path / "box",
        f"Chief Financial <{VIP}>",
        subject,
        "We were charged twice for invoice INV-1. Account ACC-31337.",
    )
    wait_status(pipeline, run_id, "held")
    page = log_in_browser(browser, desk_url, "maria")
    held = page.locator("article.held", has_text=subject)
    found = held.locator("dl.found").inner_text()
    assert "billing" in found and "ACC31337" in found  # what was found, beside the edit fields
    held.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{desk_url}/review?done=approved")
    done = pipeline.wait_final(run_id)
    [issue] = jira.issues_with_label(f"triage-{done.ticket.id}")

    page.goto(f"{desk_url}/runs/{run_id}")
    summary = page.locator("section.summary")
    text = summary.inner_text()
    assert issue["key"] in text and "billing" in text and "priority Medium" in text
    assert "ACC31337" in text and "Acknowledged\nsent" in text.replace("\t", "\n")
    assert (
        summary.get_by_role("link", name=issue["key"]).get_attribute("href")
        == f"{jira.url}/browse/{issue['key']}"
    )
    assert "supervised by rule(s) vip" in page.inner_text("main") and "approve" in page.inner_text("main")
    steps = page.get_by_role("heading", name="Plan and steps")
    assert not steps.is_visible()  # the steps' JSON waits behind the details control
    page.screenshot(path=shots / "run.png", full_page=True)
    page.get_by_text("Details: the plan").click()
    assert steps.is_visible()


def test_on_a_phone_the_runs_list_is_cards_that_fit_and_its_counts_refresh_without_a_reload(
    pipeline: Pipeline,
    desk_url: str,
    browser: Any,
    shots: Path,
    tmp_path: Path,
) -> None:
    pipeline.run_variant_mailbox(tmp_path / "sample")
    page = log_in_browser(browser, desk_url, "vera", **PHONE)
    page.goto(f"{desk_url}/runs")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing sideways
    first = page.locator("table.runs tbody tr").first
    assert first.locator("td").first.evaluate("e => getComputedStyle(e, '::before').content") == '"Created"'
    box = first.bounding_box()
    assert box is not None and box["width"] <= 390
    page.screenshot(path=shots / "runs-phone.png", full_page=True)

    live = page.locator("p.live")
    before = int(live.locator("span", has_text="review queue").locator("b").inner_text())
    page.evaluate("document.querySelector('[data-live]').setAttribute('data-refreshed', '')")
    run_id = send_mail(pipeline, tmp_path / "late", VIP, f"Held while watching {uuid.uuid4().hex[:6]}")
    wait_status(pipeline, run_id, "held")
    page.wait_for_function(
        "n => [...document.querySelectorAll('p.live span')].some("
        "s => s.textContent.startsWith('review queue') && Number(s.querySelector('b').textContent) > n)",
        arg=before,
        timeout=15_000,
    )


def test_the_audit_page_shows_logins_and_failed_logins_to_an_admin(
    desk_url: str,
    browser: Any,
    shots: Path,
) -> None:
    context = browser.new_context()
    stranger = context.new_page()
    stranger.goto(f"{desk_url}/login")
    stranger.get_by_label("Name").fill("ada")
    stranger.get_by_label("Password").fill("not the password")
    stranger.get_by_role("button", name="Log in").click()
    assert "wrong name or password" in stranger.inner_text("main")
    page = log_in_browser(browser, desk_url, "ada")
    page.get_by_role("link", name="Audit").click()
    rows = page.locator("table tbody tr")
    text = rows.all_inner_texts()
    assert any("login_failed" in r and "ada" in r for r in text) and any(
        "\tlogin\t" in f"\t{r}\t" or "login" in r.split("\t") for r in text
    )
    page.screenshot(path=shots / "audit.png", full_page=True)


def test_the_console_follows_the_users_file_while_it_runs(
    desk_url: str,
    users_file: Path,
    browser: Any,
    tmp_path: Path,
) -> None:
    maria = log_in_browser(browser, desk_url, "maria")
    add_user(users_file, "newcomer", "approver", PASSWORD)  # while the console runs
    newcomer = log_in_browser(browser, desk_url, "newcomer")
    assert "newcomer" in newcomer.inner_text("header")
    demoted = users_file.read_text().replace("name: maria\n  role: approver", "name: maria\n  role: viewer")
    users_file.write_text(demoted)
    maria.goto(f"{desk_url}/review")
    assert "maria (viewer" in maria.inner_text("header")
    users_file.write_text(users_file.read_text().replace("name: newcomer", "name: renamed"))
    newcomer.goto(f"{desk_url}/runs")
    assert newcomer.url.startswith(f"{desk_url}/login")  # gone from the file: logged out at once
