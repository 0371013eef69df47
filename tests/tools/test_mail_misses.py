"""What customers really write, that the rules used to miss: a first name signed under a full From name,
a name signed with no closing word, words that lower urgency in several languages, invoice numbers of
the common shapes, and a login problem written in French, German or Spanish."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tools import embeddings
from tools.base import ToolContext
from tools.categorize import categorize_ticket
from tools.extract import extract_entities


def extract(ctx: ToolContext, **args: Any) -> dict[str, Any]:
    return extract_entities.run({"subject": "", **args}, ctx).model_dump()


def test_a_first_name_signed_under_a_full_from_name_is_made_whole(ctx: ToolContext) -> None:
    body = "I asked for a password reset three times, nothing arrives.\n\nThanks,\nPriya"
    got = extract(ctx, body=body, sender_name="Priya Raman")
    assert got["customer_name"] == "Priya Raman"
    assert got["customer_name_source"] == "closing line, made whole by the From display name"


def test_a_full_name_signed_beats_a_shorter_from_name(ctx: ToolContext) -> None:
    body = "The export is empty since 4.2.\n\nKind regards,\nPriya Raman"
    assert extract(ctx, body=body, sender_name="Priya")["customer_name"] == "Priya Raman"


def test_another_name_signed_is_not_replaced_by_the_from_name(ctx: ToolContext) -> None:
    """An assistant writing for her manager: the mail's name stands."""
    body = "Please send the invoice again.\n\nThanks,\nMaria"
    assert extract(ctx, body=body, sender_name="Tom Becker")["customer_name"] == "Maria"


def test_a_name_signed_without_a_closing_word_is_found(ctx: ToolContext) -> None:
    body = (
        "Hi there,\n\nthe dashboard loads as a blank page for everyone on our team.\n\n"
        "Kenji Watanabe\nOperations lead, Kitebird\n"
    )
    got = extract(ctx, body=body, sender_name="")
    assert (got["customer_name"], got["customer_name_source"]) == ("Kenji Watanabe", "sign-off block")


@pytest.mark.parametrize(
    "last_block",
    ["Steps To Reproduce", "Support Team\nAcme", "Error Code 500", "Best Regards", "Quillstack Ops"],
)
def test_a_last_block_that_is_no_name_is_not_taken_for_one(ctx: ToolContext, last_block: str) -> None:
    body = f"The export fails.\n\n{last_block}\n"
    assert extract(ctx, body=body, sender_name="")["customer_name"] is None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("Small typo in the docs, whenever you get to it.", "whenever you get to it"),
        ("Just a suggestion: a dark mode would be lovely.", "Just a suggestion"),
        ("Die Rechnung hat einen Tippfehler. Keine Eile, danke!", "Keine Eile"),
        ("Das ist nicht dringend, aber bitte korrigieren.", "nicht dringend"),
        ("Ce n'est pas urgent, mais la facture a une erreur.", "Ce n'est pas urgent"),
        ("Quand vous aurez le temps, pouvez-vous regarder ?", "Quand vous aurez le temps"),
        ("No es urgente, pero la factura tiene un error.", "No es urgente"),
        ("Sin prisa, cuando puedan.", "Sin prisa"),
    ],
)
def test_words_that_lower_urgency_make_it_low(ctx: ToolContext, body: str, words: str) -> None:
    got = extract(ctx, body=body)
    assert got["urgency"] == "low" and got["evidence"]["urgency"] == words


@pytest.mark.parametrize(
    "body",
    [
        "Es urgente, cerramos el trimestre mañana.",
        "Bitte dringend prüfen, wir können nicht arbeiten.",
        "Le service est en panne depuis ce matin.",
    ],
)
def test_urgent_words_of_other_languages_make_it_high(ctx: ToolContext, body: str) -> None:
    assert extract(ctx, body=body)["urgency"] == "high"


@pytest.mark.parametrize(
    ("text", "invoice"),
    [
        ("We paid invoice 2025-0042 by bank transfer on 3 November.", "2025-0042"),
        ("Invoice INV/2025/42 shows the wrong address.", "INV/2025/42"),
        ("Our invoice no. INV-2025-1187 has the old VAT number.", "INV-2025-1187"),
        ("Die Rechnung Nr. 2025/0107 ist doppelt.", "2025/0107"),
        ("invoice #4471 is still open", "#4471"),
    ],
)
def test_invoice_numbers_of_the_common_shapes(ctx: ToolContext, text: str, invoice: str) -> None:
    assert extract(ctx, body=text)["invoice_id"] == invoice


LOGIN_PROBLEMS = [
    (
        "Impossible de me connecter",
        "Depuis ce matin le site refuse mon mot de passe, je ne peux plus entrer.",
    ),
    ("Anmeldung klappt nicht", "Ich komme nicht mehr in mein Konto, das Passwort wird abgelehnt."),
    ("No puedo entrar", "Desde ayer no puedo iniciar sesión, dice que la contraseña es incorrecta."),
]


@pytest.mark.parametrize("classifier", ["tfidf", "embeddings"])
@pytest.mark.parametrize(("subject", "body"), LOGIN_PROBLEMS)
def test_a_login_problem_in_french_german_or_spanish_is_account(
    ctx: ToolContext, classifier: str, subject: str, body: str
) -> None:
    if classifier == "embeddings" and not embeddings.available():
        pytest.skip("the MiniLM weights are not installed (make install)")
    config = ctx.config.model_copy(update={"classifier": classifier})
    got = categorize_ticket.run({"subject": subject, "body": body}, replace(ctx, config=config))
    assert got.category == "account"
