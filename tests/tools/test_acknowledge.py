"""acknowledge against a real SMTP server (aiosmtpd: STARTTLS, AUTH): one message per ticket that
answers the customer's and names the issue, never to robots or an untrusted sender, at most N an hour to
one mailbox, one domain and in all, quoting no stranger's links or addresses; the same Message-ID when a
retry sends again; without SMTP, the exact message in the mail outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent.store import RunStore
from tests.smtp_server import PASSWORD, USER, SmtpServer, running_smtp
from tools.acknowledge import AckArgs, acknowledge, compose
from tools.base import ToolContext
from tools.errors import PermanentToolError, RetryableToolError
from tools.mail_out import ticket_of_acknowledgement
from tools.pacing_port import RateLimited
from workers.checks import acknowledgement_problems
from workers.runtime import build_runtime
from workers.settings import ConfigError, load_settings

ARGS = {"to": "jane@example.com", "name": "Jane Doe", "subject": "Invoice wrong", "issue_key": "SUP-7",
        "message_id": "m1@example.com", "category": "billing"}  # fmt: skip


CONFIG = load_settings(ack_from="help@support.example").tool_config()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with running_smtp(tmp_path) as server:
        yield server


def context(
    store: RunStore,
    tmp_path: Path,
    ticket: str = "T0123456789abcde",
    authenticated: bool = False,
    **settings: Any,
) -> ToolContext:
    config = load_settings(
        outbox_path=tmp_path / "outbox.jsonl", ack_from="help@support.example", **settings
    ).tool_config()
    return ToolContext(
        run_id=ticket,
        ticket_id=ticket,
        step_id="acknowledge",
        ledger=store.ledger,
        config=config,
        sender_authenticated=authenticated,
    )


def over_smtp(
    store: RunStore,
    tmp_path: Path,
    smtp: SmtpServer,
    ticket: str = "T0123456789abcde",
    authenticated: bool = False,
    **settings: Any,
) -> ToolContext:
    server = {
        "smtp_host": "localhost",
        "smtp_port": smtp.port,
        "smtp_user": USER,
        "smtp_password": SecretStr(PASSWORD),
        "smtp_ca_file": smtp.ca_file,
    }
    return context(store, tmp_path, ticket, authenticated, **{**server, **settings})


def test_one_acknowledgement_answers_the_customers_message_and_names_the_issue(
    store: RunStore, tmp_path: Path, smtp: SmtpServer
) -> None:
    ctx = over_smtp(store, tmp_path, smtp, authenticated=True)
    first = acknowledge.run(ARGS, ctx)
    again = acknowledge.run(ARGS, ctx)
    assert first == again and first.sent and not first.dry_run
    [message] = smtp.messages()
    assert message["To"] == "Jane Doe <jane@example.com>" and message["From"] == "help@support.example"
    assert message["Subject"] == "[SUP-7] We received your request: Invoice wrong"
    assert message["In-Reply-To"] == message["References"] == "<m1@example.com>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["Message-ID"] == f"<{first.message_id}>"
    assert ticket_of_acknowledgement(first.message_id or "") == "T0123456789abcde"
    assert "Hello Jane Doe," in message.get_content() and "tracked as SUP-7" in message.get_content()


def test_a_refused_send_is_retried_under_the_same_message_id_and_a_rejection_is_final(
    store: RunStore, tmp_path: Path, smtp: SmtpServer
) -> None:
    ctx = over_smtp(store, tmp_path, smtp)
    smtp.refusals.append("451 4.3.0 try again later")
    with pytest.raises(RetryableToolError, match="451"):
        acknowledge.run(ARGS, ctx)
    sent = acknowledge.run(ARGS, ctx)
    assert [m["Message-ID"] for m in smtp.messages()] == [f"<{sent.message_id}>"]
    smtp.refusals.append("554 5.7.1 rejected")
    with pytest.raises(PermanentToolError, match="554"):
        acknowledge.run(ARGS, over_smtp(store, tmp_path, smtp, ticket="T0000000000000aa"))


def test_a_wrong_password_is_a_permanent_error_naming_the_setting(
    store: RunStore, tmp_path: Path, smtp: SmtpServer
) -> None:
    ctx = over_smtp(store, tmp_path, smtp, smtp_password=SecretStr("wrong"))
    with pytest.raises(PermanentToolError, match="TRIAGE_SMTP_USER"):
        acknowledge.run(ARGS, ctx)
    assert smtp.messages() == []


@pytest.mark.parametrize(
    "address",
    [
        "noreply@shop.example",
        "no-reply+x@a.example",
        "noreply-alerts@shop.example",
        "bounce-123-abc@mail.example",
        "notifications@github.com",
        "MAILER-DAEMON@mx.example",
        "postmaster@x.example",
        "list-bounces@lists.example",
        "jane\x00@example.com",
        "jane@example.com\r\nBcc: x@y.example",
        "<>",
        "",
    ],
)
def test_robots_and_no_reply_addresses_are_never_answered(
    address: str, store: RunStore, tmp_path: Path, smtp: SmtpServer
) -> None:
    result = acknowledge.run({**ARGS, "to": address}, over_smtp(store, tmp_path, smtp))
    assert not result.sent and result.skipped and smtp.messages() == []


def test_a_sender_whose_name_was_not_authenticated_is_not_greeted_by_it(
    store: RunStore, tmp_path: Path, smtp: SmtpServer
) -> None:
    spam = {**ARGS, "name": "Visit cheap-pills.example now"}
    acknowledge.run(spam, over_smtp(store, tmp_path, smtp))
    [message] = smtp.messages()
    assert message["To"] == "jane@example.com" and "cheap-pills" not in message.as_string()
    assert message.get_content().startswith("Hello,")


def test_an_untrusted_sender_gets_no_acknowledgement_and_the_result_says_why(
    store: RunStore, tmp_path: Path, smtp: SmtpServer
) -> None:
    ctx = over_smtp(store, tmp_path, smtp)
    ctx = ToolContext(**{**vars(ctx), "sender_doubt": "the From header names 2 addresses"})
    result = acknowledge.run(ARGS, ctx)
    assert not result.sent and "not trusted: the From header names 2 addresses" in (result.skipped or "")
    assert smtp.messages() == []


def test_one_mailbox_gets_at_most_n_an_hour_however_its_address_is_written(
    store: RunStore, tmp_path: Path, smtp: SmtpServer
) -> None:
    spellings = ["jane.doe@gmail.com", "JaneDoe+1@gmail.com", "j.a.n.e.d.o.e+x@googlemail.com"]
    results = [
        acknowledge.run(
            {**ARGS, "to": to}, over_smtp(store, tmp_path, smtp, f"T{i:015x}", ack_per_sender_hour=2)
        )
        for i, to in enumerate(spellings)
    ]
    assert [r.sent for r in results] == [True, True, False]
    assert "to this mailbox" in (results[2].skipped or "") and len(smtp.messages()) == 2


def test_one_domain_and_the_whole_system_have_hourly_caps_too(
    store: RunStore, tmp_path: Path, smtp: SmtpServer
) -> None:
    def send(i: int, to: str) -> bool:
        ctx = over_smtp(store, tmp_path, smtp, f"T{i:015x}", ack_per_domain_hour=2, ack_per_hour=3)
        result = acknowledge.run({**ARGS, "to": to}, ctx)
        return result.sent or (result.skipped or "")

    victims = [send(i, f"victim{i}@bank.example") for i in range(3)]
    others = [send(10 + i, f"someone@other{i}.example") for i in range(2)]
    assert victims[:2] == [True, True] and "to this domain" in str(victims[2])
    assert others[0] is True and "in all" in str(others[1])
    assert len(smtp.messages()) == 3


def test_one_address_gets_at_most_n_an_hour_and_skipped_categories_none(
    store: RunStore, tmp_path: Path, smtp: SmtpServer
) -> None:
    results = [
        acknowledge.run(ARGS, over_smtp(store, tmp_path, smtp, f"T{i:015x}", ack_per_sender_hour=2))
        for i in range(4)
    ]
    assert [r.sent for r in results] == [True, True, False, False]
    assert "to this mailbox" in (results[2].skipped or "") and len(smtp.messages()) == 2
    skipped = acknowledge.run(ARGS, over_smtp(store, tmp_path, smtp, ack_skip_categories=["billing"]))
    assert not skipped.sent and "TRIAGE_ACK_SKIP_CATEGORIES" in (skipped.skipped or "")


def test_without_smtp_the_exact_message_is_kept_in_the_mail_outbox_once(
    store: RunStore, tmp_path: Path
) -> None:
    ctx = context(store, tmp_path)
    first, again = acknowledge.run(ARGS, ctx), acknowledge.run(ARGS, ctx)
    assert first == again and first.sent and first.dry_run
    [line] = [json.loads(x) for x in ctx.config.mail_outbox_path.read_text().splitlines()]
    assert line["kind"] == "acknowledgement" and line["to"] == "jane@example.com"
    assert f"Message-ID: <{first.message_id}>" in line["message"]
    assert not ctx.config.outbox_path.exists()  # Jira's outbox is Jira's


def test_the_customers_language_is_used_where_a_template_exists_and_english_otherwise() -> None:
    german = compose(AckArgs(**{**ARGS, "language": "de"}), CONFIG, "x@y", "de")
    assert german["Subject"].startswith("[SUP-7] Wir haben Ihre Anfrage erhalten")
    assert "Guten Tag Jane Doe," in german.get_content()


def test_a_customers_subject_and_name_cannot_add_header_lines() -> None:
    hostile = AckArgs(**{**ARGS, "subject": "hi\r\nBcc: victim@example.com", "name": "Eve\nX-Evil: 1"})
    message = compose(hostile, CONFIG, "x@y", "en")
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["Subject"] == "[SUP-7] We received your request: hi Bcc:"
    assert message.as_bytes().count(b"\nBcc:") == 0


def test_a_subject_is_quoted_short_and_without_links_or_addresses() -> None:
    spam = "Claim your prize at https://win.example/x, bit.ly/abc or mail claims@win.example " + "!" * 300
    message = compose(AckArgs(**{**ARGS, "subject": spam}), CONFIG, "x@y", "en")
    quoted = message["Subject"].removeprefix("[SUP-7] We received your request: ")
    assert quoted.startswith("Claim your prize at") and len(quoted) <= 60
    assert not any(word in message.as_string() for word in ("win.example", "bit.ly", "claims@"))


def test_the_company_voice_its_templates_sender_name_and_signature_reach_the_customer(
    store: RunStore, tmp_path: Path, smtp: SmtpServer
) -> None:
    own = tmp_path / "templates"
    own.mkdir()
    (own / "de.txt").write_text(
        "Subject: [${issue_key}] Acme hat Ihre Nachricht: ${subject}\n\n${greeting}\n\nDanke! Ihre Nummer: "
        "${issue_key}.\n\n${signature}\n"
    )
    voice = {"ack_templates_dir": own, "ack_from_name": "Acme Support", "ack_signature": "Acme GmbH\\nBerlin"}
    ctx = over_smtp(store, tmp_path, smtp, authenticated=True, **voice)
    acknowledge.run({**ARGS, "language": "de"}, ctx)
    acknowledge.run({**ARGS, "language": "fr"}, over_smtp(store, tmp_path, smtp, "T0123456789abcdf", **voice))
    german, french = smtp.messages()
    assert german["From"] == "Acme Support <help@support.example>"
    assert german["Subject"] == "[SUP-7] Acme hat Ihre Nachricht: Invoice wrong"
    text = german.get_content().replace("\r\n", "\n").rstrip()
    assert text == "Guten Tag Jane Doe,\n\nDanke! Ihre Nummer: SUP-7.\n\nAcme GmbH\nBerlin"
    assert french["Subject"].startswith("[SUP-7] ")  # the built-in French template
    assert (
        french.get_content().replace("\r\n", "\n").rstrip().endswith("-- \nAcme GmbH\nBerlin")
    )  # appended where none says


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("de.txt", "Subject: [${issue_key}] x\n\nHallo ${isue_key}\n", "unknown placeholder ${isue_key}"),
        ("de.txt", "Subject: Danke\n\nHallo\n", "the subject must carry ${issue_key}"),
        ("de.txt", "Hallo\n", "starts with one `Subject: ...` line"),
        ("german.txt", "Subject: [${issue_key}]\n\nHallo\n", "name a template by its language"),
        ("de.txt", "Subject: [${issue_key}] 5 $\n\nHallo\n", "write $$ for a dollar sign"),
    ],
)
def test_a_template_that_cannot_be_used_stops_the_start_naming_the_file(
    tmp_path: Path, name: str, text: str, says: str
) -> None:
    (tmp_path / name).write_text(text)
    settings = load_settings(ack_templates_dir=tmp_path)
    [problem] = acknowledgement_problems(settings)
    assert problem.where == "TRIAGE_ACK_TEMPLATES_DIR" and says in problem.message and name in problem.message


def test_a_worker_with_smtp_refuses_to_send_from_the_example_address() -> None:
    [problem] = acknowledgement_problems(load_settings(smtp_host="smtp.acme.example"))
    assert problem.where == "TRIAGE_ACK_FROM" and "example address support@example.com" in problem.message
    assert (
        acknowledgement_problems(load_settings(smtp_host="smtp.acme.example", ack_from="help@acme.example"))
        == []
    )
    assert acknowledgement_problems(load_settings()) == []  # the dry run may keep the example
    with pytest.raises(ConfigError, match="TRIAGE_ACK_FROM: is still the example address"):
        build_runtime(load_settings(smtp_host="smtp.acme.example"))


def test_the_relays_limit_is_the_fleets_a_message_waits_for_its_turn_without_spending_an_attempt(
    store: RunStore, tmp_path: Path, smtp: SmtpServer
) -> None:
    ctx = ToolContext(**{**vars(over_smtp(store, tmp_path, smtp)), "pacer": store.pacing})
    store.pacing.hold_off(f"smtp:localhost:{smtp.port}", 60)  # the relay said: not for a minute
    with pytest.raises(RateLimited, match="smtp: no turn under its rate limits") as caught:
        acknowledge.run(ARGS, ctx)
    assert smtp.messages() == [] and (caught.value.retry_after or 0) > 55
    store.redis.delete(store.keys.pace_hold(f"smtp:localhost:{smtp.port}"))
    assert acknowledge.run(ARGS, ctx).sent and len(smtp.messages()) == 1  # the same Message-ID, once
