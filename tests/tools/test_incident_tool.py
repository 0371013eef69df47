"""link_incident on a real memory (an embedded Chroma folder), the real register (Redis) and the real
jira client against the Jira test server: one problem issue per incident, each member linked once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.memory.chroma import Memory
from agent.memory.embedding import HashedNgrams, MiniLM
from agent.store import RunStore
from inbox.ticket import Ticket
from tests.jira_server import FakeJira, running_jira
from tools import jira_client, minilm
from tools.base import ToolContext
from tools.errors import PermanentToolError, RetryableToolError
from tools.incident import IncidentResult, link_incident, problem_label
from tools.incident_port import Incident, Member
from tools.memory_port import Remembered

REPORTS = {
    "T1": (
        "ann@northwind.example",
        "CSV export is empty",
        "Since this morning the CSV export gives an empty file.",
    ),
    "T2": ("tom@acme.example", "CSV export empty", "Our CSV export comes out as an empty file since today."),
    "T3": ("lee@orbital.example", "Empty CSV export file", "The CSV export is an empty file this morning."),
    "T4": ("kim@seoul.example", "CSV export gives empty file", "Every CSV export is an empty file today."),
    "T5": (
        "max@kraft.example",
        "CSV export is an empty file",
        "The CSV export gives an empty file since today.",
    ),
    "T6": ("eva@lumen.example", "Empty CSV export today", "Today every CSV export is an empty file."),
    "T7": (
        "raj@tundra.example",
        "CSV export empty file",
        "Since this morning each CSV export is an empty file.",
    ),
    # One card payment outage told in three languages, and a question about payments in a fourth.
    "P1": (
        "ines@lisboa-moveis.example",
        "Pagamentos recusados",
        "Desde as 10h nenhum cliente consegue pagar com cartão, o checkout dá erro.",
    ),
    "P2": (
        "karl@kraft-werkzeug.example",
        "Kartenzahlung fehlgeschlagen",
        "Seit heute Vormittag schlägt jede Kartenzahlung in unserem Shop fehl.",
    ),
    "P3": (
        "amy@brightside.example",
        "Card payments failing",
        "None of our customers can pay by card since 10am, the checkout shows an error.",
    ),
    "P4": ("luc@dupont.example", "Moyens de paiement", "Bonjour, comment ajouter le paiement par virement ?"),
    # Two sign-in outages at once, each told in three languages: single sign-on, and codes by SMS.
    "S1": ("rui@porto-seguros.example", "SSO em baixo", "Ninguém entra pelo SSO desde as 9h, erro SAML."),
    "S2": ("meg@harbour.example", "Can't sign in with Okta", "Okta sign-in fails for all of us since 9am."),
    "S3": (
        "uwe@hansa-tech.example",
        "SSO-Anmeldung kaputt",
        "Die Anmeldung über SSO schlägt seit 9 Uhr fehl.",
    ),
    "C1": ("eloi@nantes-bois.example", "Code SMS absent", "Le code SMS pour se connecter n'arrive plus."),
    "C2": ("ola@gdansk-trans.example", "Brak kodu SMS", "Nie dostajemy kodu SMS do logowania od rana."),
    "C3": ("ada@bari-moda.example", "Codice di verifica", "Il codice di verifica per l'accesso non arriva."),
}


@pytest.fixture(scope="module")
def memory_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("memory")  # one embedded Chroma per process: shared by the module


@pytest.fixture
def ictx(ctx: ToolContext, store: RunStore, memory_folder: Path) -> ToolContext:
    memory = Memory(HashedNgrams(), f"test-{uuid.uuid4().hex[:8]}", path=memory_folder)
    return replace(ctx, step_id="incident", memory=memory, incidents=store.incidents)


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with running_jira(FakeJira()) as server:
        yield server


def with_jira(ctx: ToolContext, jira: FakeJira, **changes: object) -> ToolContext:
    config = ctx.config.model_copy(
        update={
            "jira_url": jira.url,
            "jira_user": jira.user,
            "jira_api_token": SecretStr(jira.token),
            **changes,
        }
    )
    return replace(ctx, config=config)


def remember(ctx: ToolContext, ticket: str, issue_key: str) -> None:
    """Remember the ticket, as the remember step does."""
    sender, subject, body = REPORTS[ticket]
    assert ctx.memory is not None
    at = datetime.now(UTC)
    ctx.memory.remember(
        Remembered(
            ticket_id=ticket,
            subject=subject,
            body=body,
            sender=sender,
            received_at=at,
            seen_at=at,
            issue_key=issue_key,
        )
    )


def report(ctx: ToolContext, ticket: str, issue_key: str) -> IncidentResult:
    """Remember the ticket (as the remember step does) and run its incident step."""
    remember(ctx, ticket, issue_key)
    sender, subject, body = REPORTS[ticket]
    args = {
        "ticket_id": ticket,
        "subject": subject,
        "body": body,
        "sender": sender,
        "issue_key": issue_key,
        "remembered": True,
    }
    return link_incident.run(args, replace(ctx, run_id=f"R{ticket}", ticket_id=ticket))


def customer_issues(ctx: ToolContext, count: int) -> list[str]:
    fields = {"project": {"key": "SUP"}, "issuetype": {"name": "Task"}, "summary": "report", "labels": []}
    return [jira_client.create_issue(ctx.config, fields) for _ in range(count)]


def test_the_third_customer_opens_one_problem_issue_and_every_report_is_linked_to_it(
    ictx: ToolContext, jira: FakeJira
) -> None:
    jctx = with_jira(ictx, jira)
    keys = customer_issues(jctx, 4)
    assert report(jctx, "T1", keys[0]).incident_id is None
    assert report(jctx, "T2", keys[1]).incident_id is None
    third = report(jctx, "T3", keys[2])
    assert third.opened and third.incident_id == "INC-T3" and sorted(third.linked) == sorted(keys[:3])
    [problem] = jira.issues_with_label(problem_label("INC-T3"))
    assert third.problem_key == problem["key"] and problem["fields"]["priority"] == {"name": "High"}
    assert (
        problem["fields"]["summary"].startswith("[incident] ") and "incident" in problem["fields"]["labels"]
    )
    fourth = report(jctx, "T4", keys[3])
    assert not fourth.opened and fourth.incident_id == "INC-T3" and fourth.linked == [keys[3]]
    assert sorted(outward for _, _, outward in jira.links_of(problem["key"])) == sorted(keys)
    assert {name for name, _, _ in jira.links_of(problem["key"])} == {"Relates"}
    assert len(jira.issues_with_label(problem_label("INC-T3"))) == 1
    # Memory knows the incident of each report, for the planner and `triage show`.
    assert ictx.memory is not None
    sender, subject, body = REPORTS["T4"]
    recalled = ictx.memory.recall(  # type: ignore[attr-defined]
        Ticket(
            id="T4",
            message_id="T4@x",
            subject=subject,
            sender=sender,
            sender_name="",
            body=body,
            received_at=datetime.now(UTC),
            size=1,
        )
    )
    assert {n.incident for n in recalled.similar} == {"INC-T3"}


def test_two_incidents_found_to_be_one_keep_one_problem_issue_and_link_the_other_to_it(
    ictx: ToolContext, store: RunStore, jira: FakeJira
) -> None:
    """Two incidents opened apart (two vocabularies of one outage, seeded here in the register); the next
    report alike to members of both merges them, and the later one's problem issue is linked to the
    kept one's, once."""
    jctx = with_jira(ictx, jira)
    keys = dict(zip(REPORTS, customer_issues(jctx, len(REPORTS)), strict=True))
    for ticket, others in (("T3", ("T1", "T2")), ("T6", ("T4", "T5"))):
        for t in (*others, ticket):
            remember(jctx, t, keys[t])
        members = [
            Member(ticket_id=t, sender=REPORTS[t][0], issue_key=keys[t], joined_at=datetime.now(UTC))
            for t in (ticket, *others)
        ]
        opened = Incident(id=f"INC-{ticket}", title=REPORTS[ticket][1], opened_at=datetime.now(UTC))
        assert store.incidents.open_or_join(opened, members, min_reports=3, quorum=2) == f"INC-{ticket}"
    first, second = report(jctx, "T3", keys["T3"]), report(jctx, "T6", keys["T6"])
    assert first.problem_key and second.problem_key and first.problem_key != second.problem_key

    merging = report(jctx, "T7", keys["T7"])
    assert merging.incident_id == "INC-T3" and merging.problem_key == first.problem_key
    assert second.problem_key in merging.linked
    assert ("Relates", first.problem_key, second.problem_key) in jira.links_of(first.problem_key)
    assert store.incidents.incident_of("T4") == "INC-T3" and store.incidents.get("INC-T6") is None
    assert report(jctx, "T7", keys["T7"]).linked == []  # a retried step links nothing again
    assert len(jira.links_of(second.problem_key)) == 4  # its three reports and the kept problem issue


def test_a_lost_answer_to_the_problem_create_is_found_by_its_label_not_created_again(
    ictx: ToolContext, jira: FakeJira
) -> None:
    jctx = with_jira(ictx, jira)
    keys = customer_issues(jctx, 3)
    report(jctx, "T1", keys[0])
    report(jctx, "T2", keys[1])
    jira.fail_next("POST", "/issue$", "drop_after_write")
    with pytest.raises(RetryableToolError, match="no answer from Jira"):
        report(jctx, "T3", keys[2])
    again = report(jctx, "T3", keys[2])
    assert again.opened and again.problem_key is not None
    assert len(jira.issues_with_label(problem_label("INC-T3"))) == 1
    assert sorted(o for _, _, o in jira.links_of(again.problem_key)) == sorted(keys)


def test_the_link_type_is_configurable_and_an_unknown_one_is_named(ictx: ToolContext, jira: FakeJira) -> None:
    jctx = with_jira(ictx, jira, incident_link_type="Problem/Incident")
    keys = customer_issues(jctx, 3)
    report(jctx, "T1", keys[0])
    report(jctx, "T2", keys[1])
    with pytest.raises(PermanentToolError, match="Problem/Incident"):
        report(jctx, "T3", keys[2])
    duplicate = report(with_jira(ictx, jira, incident_link_type="Duplicate"), "T3", keys[2])
    assert duplicate.problem_key is not None
    assert {name for name, _, _ in jira.links_of(duplicate.problem_key)} == {"Duplicate"}


def test_in_dry_run_the_problem_issue_and_the_links_are_written_to_the_outbox_once(ictx: ToolContext) -> None:
    for ticket in ("T1", "T2", "T3"):
        report(ictx, ticket, f"DRY-{ticket}")
    again = report(ictx, "T3", "DRY-T3")  # a retried step changes nothing
    assert again.dry_run and again.linked == [] and again.problem_key is not None
    lines = [json.loads(line) for line in ictx.config.outbox_path.read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["create_problem", "link", "link", "link"]
    assert sorted(line["issue_key"] for line in lines[1:]) == ["DRY-T1", "DRY-T2", "DRY-T3"]
    assert {line["problem_key"] for line in lines[1:]} == {again.problem_key}


def test_without_memory_of_the_ticket_there_is_no_incident_to_judge(ictx: ToolContext) -> None:
    sender, subject, body = REPORTS["T1"]
    args = {
        "ticket_id": "T1",
        "subject": subject,
        "body": body,
        "sender": sender,
        "issue_key": "DRY-1",
        "remembered": None,
    }
    with pytest.raises(PermanentToolError, match="not in memory"):
        link_incident.run(args, ictx)
    with pytest.raises(PermanentToolError, match="incidents are off"):
        link_incident.run({**args, "remembered": True}, replace(ictx, incidents=None))


@pytest.mark.skipif(minilm.model_dir() is None, reason="the MiniLM weights are not installed (make install)")
def test_one_outage_told_in_three_languages_is_one_incident_and_a_question_in_a_fourth_is_not(
    ictx: ToolContext, memory_folder: Path
) -> None:
    """MiniLM finds reports in two languages about 0.0 alike: they are one outage by their product area
    and a malfunction in each, the malfunction in words of their own language too."""
    mctx = replace(ictx, memory=Memory(MiniLM(), f"test-{uuid.uuid4().hex[:8]}", path=memory_folder))
    assert report(mctx, "P1", "SUP-1").incident_id is None
    assert report(mctx, "P2", "SUP-2").incident_id is None
    third = report(mctx, "P3", "SUP-3")
    assert third.opened and sorted(third.linked) == ["SUP-1", "SUP-2", "SUP-3"]
    assert report(mctx, "P4", "SUP-4").incident_id is None


@pytest.mark.skipif(minilm.model_dir() is None, reason="the MiniLM weights are not installed (make install)")
def test_two_outages_of_one_area_at_once_are_two_incidents_by_the_feature_each_names(
    ictx: ToolContext, memory_folder: Path
) -> None:
    """Single sign-on failing and SMS codes not arriving are both sign-in failing; told in six languages,
    what tells them apart is what each names (SSO, SAML, Okta; SMS, a code)."""
    mctx = replace(ictx, memory=Memory(MiniLM(), f"test-{uuid.uuid4().hex[:8]}", path=memory_folder))
    results = {t: report(mctx, t, f"SUP-{n}") for n, t in enumerate(["S1", "C1", "S2", "C2", "S3", "C3"])}
    single_sign_on, codes = results["S3"], results["C3"]
    assert single_sign_on.opened and sorted(single_sign_on.linked) == ["SUP-0", "SUP-2", "SUP-4"]
    assert codes.opened and sorted(codes.linked) == ["SUP-1", "SUP-3", "SUP-5"]
