"""The customer's language: told from the subject and the start of the body, or None when it cannot be."""

from __future__ import annotations

import pytest

from inbox.language import READ_CHARS, detect_language
from inbox.parse import parse_message
from tests.support import email_bytes


@pytest.mark.parametrize(
    ("subject", "body", "language"),
    [
        ("Rechnung falsch", "Guten Tag, meine Rechnung ist falsch. Bitte korrigieren Sie den Betrag.", "de"),
        (
            "Facture erronée",
            "Bonjour, ma facture est fausse, pouvez-vous la corriger s'il vous plaît ?",
            "fr",
        ),
        ("Factura incorrecta", "Hola, mi factura tiene un error en el importe. ¿Pueden corregirla?", "es"),
        (
            "Fattura sbagliata",
            "Buongiorno, la mia fattura ha un importo sbagliato. Potete correggerla?",
            "it",
        ),
        ("Invoice wrong", "Hello, the amount on my invoice is wrong. Could you correct it, please?", "en"),
        ("ok", "", None),
        ("", "12345 !!! ---", None),
    ],
)
def test_the_language_is_told_from_subject_and_body(subject: str, body: str, language: str | None) -> None:
    assert detect_language(subject, body) == language


def test_english_full_of_words_french_shares_is_english() -> None:
    """Low accuracy mode alone reads this as French (0.91): 'template', 'notification', 'editable'."""
    body = (
        "We'd like our logo in the notification e-mails you send to our customers. Is the template editable?"
    )
    assert detect_language("Can I change the e-mail template?", body) == "en"


def test_a_mail_quoting_an_english_error_keeps_its_own_language() -> None:
    body = "Guten Tag, seit heute kommt beim Export die Meldung 'The file could not be created'. Bitte helfen Sie uns."
    assert detect_language("Export geht nicht", body) == "de"


def test_only_the_start_of_a_long_body_is_read() -> None:
    body = "Guten Tag, mein Konto ist gesperrt und ich brauche Hilfe. " * 20 + "x " * 500_000
    assert detect_language("Konto", body) == "de" and len(body) > 100 * READ_CHARS


def test_a_parsed_ticket_carries_its_language() -> None:
    raw = email_bytes(
        subject="Konto gesperrt", body="Guten Tag, ich kann mich seit gestern nicht mehr anmelden."
    )
    assert parse_message(raw, max_bytes=10_000).ticket.language == "de"


def test_a_reply_above_quoted_english_history_is_told_by_the_reply() -> None:
    body = (
        "Hallo, das Problem besteht leider weiterhin. Der Export ist immer noch leer.\n\nViele Grüße\nJens\n\n"
        "On Mon, 7 Dec 2026 at 10:00, Support <support@ourproduct.example> wrote:\n"
        "> Thank you for your message. We have looked into the export and we believe that it should work\n"
        "> again now. Could you please try again and let us know if the problem is still there? If it is,\n"
        "> please send us the name of the report and the time you ran it, and we will have a look at it.\n"
    )
    assert (
        parse_message(email_bytes(subject="Re: Export leer", body=body), max_bytes=10_000).ticket.language
        == "de"
    )
