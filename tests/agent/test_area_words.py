"""Which part of the product a mail is about, by the words of its language and the borrowed ones: mails
written for this test, none from the incident mailboxes."""

from __future__ import annotations

import pytest

from agent.memory.area_words import area_by_words

PLACED = [
    ("en", "Our Zapier zaps against your app all fail with an internal error.", "api"),
    ("en", "We were charged twice for the same card purchase.", "payments"),
    ("fr", "Depuis ce matin la page ne charge plus du tout.", "loading"),
    ("de", "Die Suchfunktion zeigt keine Treffer mehr an.", "search"),
    ("es", "El informe mensual sale vacío al exportarlo a Excel.", "export"),
    ("it", "Non riusciamo più a scaricare gli allegati delle pratiche.", "documents"),
    ("pt", "Os clientes não recebem as notificações por e-mail.", "e-mail"),
    ("nl", "Inloggen lukt niet meer, ons wachtwoord wordt geweigerd.", "sign-in"),
    ("pl", "Płatność kartą nie przechodzi od rana.", "payments"),
]


@pytest.mark.parametrize(("language", "text", "area"), PLACED)
def test_a_mail_is_placed_by_the_words_of_its_language(language: str, text: str, area: str) -> None:
    assert area_by_words(language, text) == area


def test_a_word_means_what_its_language_says() -> None:
    assert area_by_words("en", "The charge is wrong") == "payments"
    assert area_by_words("fr", "La page se charge lentement") == "loading"


def test_a_mail_without_the_words_of_any_area_or_with_two_as_much_is_placed_nowhere() -> None:
    assert area_by_words("de", "Wir möchten auf den Jahresplan wechseln.") is None
    assert area_by_words("en", "The search results export is broken") is None  # one word each
    assert area_by_words(None, "Please check our password") == "sign-in"  # not told: English
