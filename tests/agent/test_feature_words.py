"""Which feature of a product area a mail names, by the words every language borrows for it: mails
written for this test, none from the incident mailboxes."""

from __future__ import annotations

import pytest

from agent.memory.area_words import areas_named
from agent.memory.feature_words import feature_named

NAMED = [
    ("Our Okta login bounces back with a SAML error.", "single sign-on"),
    ("Die Anmeldung über Azure AD klappt seit heute nicht.", "single sign-on"),
    ("Nie przychodzi SMS z kodem do logowania.", "verification codes"),
    ("Der Bestätigungscode kommt nicht an.", "verification codes"),
    ("Engangskoden til login kommer ikke frem.", "verification codes"),
    ("Tvåfaktorskoden via sms dyker inte upp.", "verification codes"),
]
DOCUMENTS = [
    ("Die hochgeladenen Verträge verschwinden nach dem Speichern.", "uploads"),
    ("Nie da się wgrać skanów faktur do zamówienia.", "uploads"),
    ("Vi kan inte ladda upp bilagor till ärendena.", "uploads"),
    ("Les factures téléchargées s'ouvrent sur une page blanche.", "downloads"),
    ("Los informes descargados vienen vacíos.", "downloads"),
    ("Stažené smlouvy nejdou otevřít.", "downloads"),
]
PAYMENTS = [
    ("Every Mastercard is declined at checkout since noon.", "charges"),
    ("Die Kartenzahlungen im Shop werden alle abgelehnt.", "charges"),
    ("Os pagamentos com cartão falham desde as 11h.", "charges"),
    ("The refunds we sent yesterday still show as pending.", "refunds"),
    ("Les remboursements aux clients restent bloqués.", "refunds"),
    ("Zwroty dla klientów nie są realizowane od rana.", "refunds"),
]

MAIL = [
    ("Our booking confirmations sit in the queue and never go out.", "outgoing"),
    ("Die Rechnungen bleiben in der Warteschlange hängen.", "outgoing"),
    ("Los avisos a los clientes se quedan en cola.", "outgoing"),
    ("Mails to our shared inbox stopped turning into tickets.", "incoming"),
    ("De inkomende berichten van klanten ontbreken sinds vanmorgen.", "incoming"),
    ("Nic nie wpada do skrzynki odbiorczej od rana.", "incoming"),
]

APP = [
    ("Since the update the app closes itself on start.", "crashes"),
    ("Die App stürzt beim Öffnen der Kundenliste ab.", "crashes"),
    ("L'application plante dès qu'on ouvre un dossier.", "crashes"),
    ("Het dashboard is vandaag erg traag.", "slowness"),
    ("Appen är seg på både mobilen och webben.", "slowness"),  # a phone and a browser: one slowness
    ("Aplikace je od rána hrozně pomalá.", "slowness"),
]


@pytest.mark.parametrize(("text", "feature"), NAMED)
def test_a_sign_in_failure_names_the_feature_that_failed(text: str, feature: str) -> None:
    assert feature_named("sign-in", text) == feature


@pytest.mark.parametrize(("text", "feature"), DOCUMENTS)
def test_documents_fail_going_up_or_coming_down(text: str, feature: str) -> None:
    assert feature_named("documents", text) == feature


@pytest.mark.parametrize(("text", "feature"), PAYMENTS)
def test_payments_fail_taking_money_or_giving_it_back(text: str, feature: str) -> None:
    assert feature_named("payments", text) == feature


@pytest.mark.parametrize(("text", "feature"), MAIL)
def test_mail_fails_going_out_or_coming_in(text: str, feature: str) -> None:
    assert feature_named("e-mail", text) == feature


def test_mail_that_never_arrived_names_no_way_it_failed() -> None:
    # Mail going out that customers say they never got names neither: it joins either outage.
    assert feature_named("e-mail", "Customers say our invoices never arrived.") is None


@pytest.mark.parametrize(("text", "feature"), APP)
def test_an_app_closes_itself_or_crawls(text: str, feature: str) -> None:
    assert feature_named("loading", text) == feature


def test_a_mail_naming_no_feature_or_two_as_often_names_none() -> None:
    assert feature_named("sign-in", "Nobody can log in since this morning.") is None
    assert feature_named("sign-in", "SSO works, only the SMS step fails.") is None
    assert feature_named("search", "The search finds no SSO users.") is None  # search has no features
    assert feature_named(None, "SSO is down") is None


def test_a_danish_password_is_no_code() -> None:
    assert feature_named("sign-in", "Min adgangskode virker ikke længere.") is None


def test_a_features_words_name_its_area() -> None:
    assert areas_named("de", "Keine SMS-Codes seit gestern.") == ["sign-in"]
    assert areas_named("fi", "Vahvistuskoodi ei tule perille.") == ["sign-in"]
    assert areas_named("sv", "Det går inte att ladda upp filer.") == ["documents"]  # not loading
    assert areas_named("es", "Hay mucha cola en la tienda desde ayer.") == []  # a queue is no mail
    assert areas_named("sv", "Ingen e-post skickas till kunderna.") == ["e-mail"]
    assert areas_named("it", "La stampante si blocca a metà.") == []  # a printer freezing is no app
