"""Whether a mail in a language MiniLM does not read tells of a failure, by its words: mails written for
this test, none from the incident mailboxes."""

from __future__ import annotations

import pytest

from agent.memory.failure_words import reads_as_failure

FAILURES = [
    ("de", "Seit dem Update lässt sich keine Rechnung mehr öffnen."),
    ("fr", "Le tableau de bord reste bloqué sur le chargement."),
    ("es", "Desde ayer la sincronización con el banco falla."),
    ("it", "Il calendario condiviso non si aggiorna da stamattina."),
    ("pt", "Os relatórios chegam vazios desde segunda-feira."),
    ("nl", "Het uploaden van foto's is mislukt, telkens opnieuw."),
    ("sv", "Appen visar ett felmeddelande när vi sparar."),
    ("pl", "Od rana eksport faktur nie działa."),
    ("de", "Beim Speichern kommt HTTP 500."),
    # "como" and "wie" also mean "as": no question of how to do something.
    ("pt", "O boleto consta como pago, mas o pedido segue bloqueado."),
    ("de", "Die Seite bleibt leer, wie schon gestern Abend."),
    # A negation elided onto its verb, with either apostrophe.
    ("fr", "La facture n'apparaît plus dans l'espace client."),
    ("fr", "Le lien de validation n’arrive plus."),
    # Something taking long is slow.
    ("cs", "Uložení faktury trvá od rána velmi dlouho."),
    ("pl", "Raport generuje się dziś bardzo długo."),
    # An amount that comes out wrong, or twice, is a failure without an error.
    ("de", "Auf den heutigen Rechnungen steht die Mehrwertsteuer doppelt."),
    ("it", "Gli importi delle fatture di oggi sono sbagliati."),
    ("fi", "Laskuilla on tänään väärä summa."),
    ("nl", "Klanten worden twee keer gefactureerd voor dezelfde bestelling."),
    # Something that comes without its content has failed.
    ("de", "Die Rechnungsliste kommt seit heute ohne Inhalt."),
    # A failure that is back: "works again", negated.
    ("de", "Der Export geht wieder nicht, wie letzte Woche."),
    ("nl", "Het inloggen werkt weer niet sinds vanochtend."),
    ("it", "La ricerca non funziona di nuovo da stamattina."),
    ("pt", "O envio de e-mails não funciona novamente."),
    # A refusal is a failure in every language.
    ("sv", "Alla kortbetalningar nekas sedan i morse."),
    ("pl", "Przelewy są odrzucane przez bank."),
    ("fi", "Korttimaksut hylätään kassalla."),
    # Something arriving late has failed to arrive in time.
    ("de", "Die Benachrichtigungen kommen mit großer Verzögerung."),
    ("nl", "De meldingen komen sinds vanochtend te laat binnen."),
    ("fi", "Ilmoitukset ovat tunnin myöhässä."),
]
NOT_FAILURES = [
    ("de", "Wie kann ich einen zweiten Benutzer anlegen? Ich sehe den Knopf nicht."),
    ("fr", "Merci beaucoup pour votre aide hier !"),
    ("es", "¿Cómo cambio el logotipo de las facturas?"),
    ("it", "Vorremmo passare al piano annuale."),
    ("pt", "Obrigada pelo atendimento rápido."),
    ("nl", "Hoe voeg ik een tweede adres toe? Ik vind het niet."),
    ("es", "Hola, como no encuentro la opción:\ncómo se borra un usuario que ya no trabaja aquí?"),
    # A question of which to choose.
    ("de", "Welche Dateiformate nimmt der Import an? In der Hilfe steht es nicht."),
    ("sv", "Vilka kort tar ni emot? Det framgår inte av prislistan."),
    # A question of whether it can be done.
    ("it", "È possibile ordinare i clienti per città? Non trovo l'opzione."),
    # Thanks for a failure that is over, its subject still naming it.
    ("de", "Re: Störung beim Export\nDanke, seit gestern Abend funktioniert alles wieder."),
    ("nl", "Re: Fout bij inloggen\nBedankt, het werkt weer."),
    ("cs", "Re: Chyba platby\nDěkuji, už to funguje zase bez problémů."),
]


@pytest.mark.parametrize(("language", "text"), FAILURES)
def test_a_report_of_a_failure_says_so_in_its_words(language: str, text: str) -> None:
    assert reads_as_failure(language, text) is True


@pytest.mark.parametrize(("language", "text"), NOT_FAILURES)
def test_a_question_a_request_or_thanks_does_not(language: str, text: str) -> None:
    assert reads_as_failure(language, text) is False


def test_a_failure_that_is_back_in_english_is_no_failure_that_is_over() -> None:
    assert reads_as_failure("en", "Re: Search outage\nThe search is not working again today.") is True
    assert (
        reads_as_failure(
            "en", "Re: Search outage\nThanks, the search isn\u2019t down any more, it works again."
        )
        is False
    )


def test_english_has_its_words_too_and_a_language_without_any_is_left_to_the_model() -> None:
    assert reads_as_failure("en", "The labels print with the wrong address.") is True
    assert reads_as_failure("en", "We can’t open the invoices since Monday.") is True
    assert reads_as_failure("en", "The page which lists our invoices is blank.") is True  # no question
    assert reads_as_failure("en", "The orders page shows zero results today.") is True
    assert reads_as_failure("en", "How do I add a user? I don't see the button.") is False
    assert reads_as_failure(None, "kaputt") is None
    assert reads_as_failure("ja", "動きません") is None
