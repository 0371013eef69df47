"""Which part of the product a mail is about, by the words of its language and the borrowed ones: mails
written for this test, none from the incident mailboxes."""

from __future__ import annotations

import pytest

from agent.memory.area_words import BORROWED, OWN, areas_named
from agent.memory.feature_words import FEATURES
from agent.memory.symptoms import AREAS

PLACED = [
    ("en", "Our Zapier zaps against your app all fail with an internal error.", "api"),
    ("pl", "Webhooki z fakturami nie docierają do naszego systemu.", "api"),
    ("en", "We were charged twice for the same card purchase.", "payments"),
    ("fr", "Depuis ce matin la page ne charge plus du tout.", "loading"),
    ("de", "Die Suchfunktion zeigt keine Treffer mehr an.", "search"),
    ("es", "El informe mensual sale vacío al exportarlo a Excel.", "export"),
    ("it", "Non riusciamo più a scaricare gli allegati delle pratiche.", "documents"),
    ("pt", "Os clientes não recebem as notificações por e-mail.", "e-mail"),
    ("nl", "Inloggen lukt niet meer, ons wachtwoord wordt geweigerd.", "sign-in"),
    ("pl", "Płatność kartą nie przechodzi od rana.", "payments"),
    # Money paid out to a merchant is a part of its own: two outages when card payments fail too.
    ("en", "This week's payout is still not in our bank account.", "payouts"),
    ("de", "Die Auszahlung vom Freitag ist nicht auf unserem Bankkonto eingegangen.", "payouts"),
    ("fr", "Le virement de la semaine dernière n'apparaît toujours pas.", "payouts"),
    ("nl", "De uitbetaling van gisteren is niet op onze rekening bijgeschreven.", "payouts"),
    # An order that cannot be placed is a payment that cannot be made.
    ("sv", "Ingen kan genomföra ett köp i butiken sedan i morse.", "payments"),
    ("cs", "Objednávky nejdou dokončit, platba vždy spadne.", "payments"),
    ("pl", "Koszyk się zawiesza i nie da się złożyć zamówienia.", "payments"),
    ("de", "Seit heute gehen keine Bestellungen durch, jede Kreditkartenzahlung bricht ab.", "payments"),
    # A refund is a payment going back; a reset link is mail; a filter is a search in every language.
    ("it", "I rimborsi ai clienti danno errore da stamattina.", "payments"),
    ("pt", "O estorno para o cliente não foi processado.", "payments"),
    ("fr", "Le courriel de réinitialisation n'arrive jamais.", "e-mail"),
    ("da", "Filtrene i kundelisten virker ikke.", "search"),
    # A connected calendar kept in step is an integration, whatever the language spells a sync.
    ("fi", "Varaukset eivät enää synkronoidu Google-kalenteriin.", "api"),
    ("cs", "Synchronizace s kalendářem od včera nefunguje.", "api"),
    ("pt", "A agenda do Google não recebe os novos horários.", "api"),
    # Mail is what is sent out and does not arrive, where the mail names no mail.
    ("es", "Las facturas enviadas a los clientes se quedan en cola.", "e-mail"),
    ("sv", "Påminnelserna skickas inte till kunderna längre.", "e-mail"),
    ("en", "Every invoice we send sits in the outbox.", "e-mail"),
    # Tax on what is paid is a payment, in each language's name for it.
    ("de", "Die MwSt. wird auf allen Rechnungen doppelt berechnet.", "payments"),
    ("nl", "De btw op onze facturen klopt niet meer.", "payments"),
    ("cs", "Faktury od rána počítají DPH dvakrát.", "payments"),
    # Phone calls through the product are a part of their own.
    ("en", "Incoming calls stopped ringing in the browser at about ten.", "calls"),
    ("fr", "Les appels entrants ne sonnent plus chez nos conseillers.", "calls"),
    ("pl", "Klienci nie mogą się do nas dodzwonić od rana.", "calls"),
    ("fi", "Asiakkaiden puhelut eivät tule läpi.", "calls"),
    ("es", "Las llamadas de los clientes se cortan al contestar.", "calls"),
    # Appointments customers book through a public page are a part of their own.
    ("en", "Nobody can book an appointment through our page since eight.", "bookings"),
    ("it", "I clienti non riescono più a prenotare un appuntamento online.", "bookings"),
    ("sv", "Kunderna kan inte boka tid via vår bokningssida.", "bookings"),
    ("pl", "Pacjenci nie mogą się umówić na wizytę przez stronę.", "bookings"),
    # A word inflects ("lösenordet" is the password); Norwegian, read as Swedish or Danish, is read in both.
    ("sv", "Lösenordet godtas inte sedan uppdateringen.", "sign-in"),
    ("sv", "Passordet vårt blir avvist hver gang.", "sign-in"),
    ("da", "Søket i arkivet gir ingen treff.", "search"),
    # A compound is what its head is.
    ("de", "Der Monatsbericht ist seit heute leer.", "export"),
    ("da", "Månedsrapporten er tom i dag.", "export"),
]


@pytest.mark.parametrize(("language", "text", "area"), PLACED)
def test_a_mail_is_placed_by_the_words_of_its_language(language: str, text: str, area: str) -> None:
    assert areas_named(language, text) == [area]


def test_a_word_means_what_its_language_says() -> None:
    assert areas_named("en", "The charge is wrong") == ["payments"]
    assert areas_named("fr", "La page se charge lentement") == ["loading"]
    assert areas_named("de", "Mein Konto ist gesperrt, das Passwort geht nicht") == ["sign-in"]
    assert areas_named("sv", "En kort fråga om exporten") == ["export"]  # "kort" is short, too


def test_areas_named_as_often_are_all_named_and_no_words_name_none() -> None:
    assert areas_named("en", "The search results export is broken") == ["search", "export"]
    assert areas_named("de", "Wir möchten auf den Jahresplan wechseln.") == []
    assert areas_named(None, "Please check our password") == ["sign-in"]  # not told: English


def test_every_area_words_can_name_has_sentences_to_be_read_by() -> None:
    """An area named by words but without sentences would leave the reader nothing to choose among (a
    mail naming only it would fail to be read); a new area needs both."""
    own = {area for words in OWN.values() for area in words}
    assert set(BORROWED) == set(AREAS) and own <= set(AREAS) and set(FEATURES) <= set(AREAS)
