"""Which part of the product a mail is about, from its words, in the language it is written in.

MiniLM places an English report in its product area well, but not every one ("Zapier zaps all failing"
reads as an app that does not load), and in German or Portuguese it goes by the pieces of words it
shares with a sentence or two per area: a Portuguese report of corrupt files lands in e-mail. The parts
of a product have a small vocabulary in each language, many of its words borrowed (PDF, CSV, API, login,
webhook). So a mail is placed by the area whose words, of its language and the borrowed ones, it uses
most (or those it uses as much). A word means what its language says: "charge" is a payment in English
and loading in French.
"""

from __future__ import annotations

import re
from functools import cache

from agent.memory.feature_words import words_of

# Words borrowed into every language the desk reads, by area (agent/memory/symptoms.py AREAS); the words
# of an area's features (agent/memory/feature_words.py) name it too.
BORROWED = {
    "sign-in": r"log-?in\w*",
    "payments": r"checkout|paypal|mastercard|stripe|apple pay|google pay|swish|klarna",
    "payouts": r"payouts?|iban|sepa",
    "e-mail": r"\w*mail\w*|newsletter\w*|smtp|e-post\w*",
    "search": r"filt(?:er|re|ro|ri|ry|r)\w*",
    "export": r"export\w*|csv|xlsx|excel",
    "api": r"apis?|webhook\w*|zapier|endpoint\w*|callbacks?|hubspot|salesforce|quickbooks|xero|"
    # A connected app kept in step: a sync in every spelling, a calendar (Google's, Outlook's)
    r"sync\w*|synk\w*|synchroni\w*|sincroni\w*|calend\w*|\w*kalen[dt]\w*|agenda\w*|ical",
    "calls": r"voip|sip",
    "bookings": r"",  # none: each language names its own bookings
    "documents": r"pdfs?",
    "loading": r"dashboard\w*|time-?outs?",
}
# Each language's own words by area, by ISO 639-1 code. Matched case-insensitively from the start of a
# word; `\w*` lets a word inflect, and before a word finds it as the head of a compound
# ("Monatsbericht", "veckorapporten").
OWN = {
    "en": {
        "sign-in": r"log in|logon|sign-?in|sign in|single sign-on|two-factor|password\w*|locked out|"
        r"authenticat\w*|credentials",
        # Tax on what is paid (VAT, in each language's name)
        "payments": r"vat|tax|taxes|sales tax|"
        r"pay|pays|paying|payments?|cards?|billing|charged?|charges|refund\w*|purchas\w*|"
        r"transactions?",
        "payouts": r"pay-?outs?|paid out|settlements?|bank accounts?|bank transfers?|transfers?|deposits?",
        "e-mail": r"notifications?|inbox|outbox|invitations?|messages?|reset\w*",
        "search": r"search\w*|look-?ups?|look up|find|finds|found",
        "export": r"reports?|reporting",
        "api": r"integration\w*|connectors?",
        "calls": r"phone calls?|calls|incoming calls?|ringing|rings out|voicemail|dial\w*|softphone|"
        r"phone lines?",
        "bookings": r"bookings?|book (?:an |a )?appointments?|online booking|booking page",
        "documents": r"attach\w*|files?|documents?",
        "loading": r"times? out|slow\w*|load|loads|loading|blank|crawl\w*|freez\w*|spinn\w*",
    },
    "de": {
        "sign-in": r"anmeld\w*|einlogg\w*|passwort\w*|kennwort\w*|zugangsdaten|zwei-faktor\w*|"
        r"authentifizierung",
        "payments": r"mwst|mehrwertsteuer|umsatzsteuer|ust|"
        r"zahlung\w*|\w*zahlung(?:en)?|bezahl\w*|\w*karten?|abbuchung\w*|kasse|warenkorb|"
        r"\w*bestellung(?:en)?|bestellabschl\w*|bestellvorgang\w*|kaufen|kaufabschl\w*|rückerstattung\w*|"
        r"erstatt\w*",
        "payouts": r"auszahlung\w*|überweisung\w*|gutschrift\w*|bankkonto\w*|bankverbindung\w*",
        "e-mail": r"benachrichtigung\w*|postfach|zurücksetz\w*|\w*reset\w*|versendet|verschickt",
        "search": r"such\w*|treffer",
        "export": r"\w*bericht\w*|\w*auswertung\w*",
        "api": r"schnittstelle\w*|anbindung\w*|integration\w*",
        "calls": r"\w*anruf\w*|telefon\w*|klingelt|freizeichen",
        # Not the verb "buchen": confirmations that stop arriving are mailed when a patient books.
        "bookings": r"\w*terminbuchung\w*|buchungsseite|buchung|buchungen|reservierung\w*",
        "documents": r"datei\w*|anhang|anhänge\w*|dokument\w*",
        "loading": r"langsam\w*|lädt|ladezeit\w*|hängt",
    },
    "fr": {
        "sign-in": r"connexion|connecter|identifiant\w*|mot de passe|authentification",
        "payments": r"tva|taxes?|"
        r"paiement\w*|payer|cartes?|panier|prélèvement\w*|commande\w*|achat\w*|rembours\w*",
        "payouts": r"virements?|versements?|reversements?|compte bancaire|banque",
        "e-mail": r"courriel\w*|notification\w*|réinitialis\w*|envoyée?s?",
        "search": r"recherch\w*|chercher",
        "export": r"rapport\w*|exporter",
        "api": r"intégration\w*",
        "calls": r"appels|appels? (?:entrants?|sortants?|téléphoniques?)|téléphon\w*|sonne",
        "bookings": r"réserv\w*|prise de rendez-vous|prendre rendez-vous",
        "documents": r"fichier\w*|pièces? jointes?|document\w*",
        "loading": r"lent\w*|charge\w*|page blanche|écran blanc|tableau de bord",
    },
    "es": {
        "sign-in": r"iniciar sesión|inicio de sesión|contraseña\w*|autenticación|acceder|acceso|entrar",
        "payments": r"iva|impuestos?|"
        r"pago\w*|pagar|tarjeta\w*|cobro\w*|pedidos?|compras?|reembols\w*|devoluci\w*",
        "payouts": r"liquidaci\w*|transferencia\w*|cuenta bancaria|abono\w*",
        "e-mail": r"correo\w*|notificaci\w*|aviso\w*|restablec\w*|enviad[oa]s|envían",
        "search": r"búsqueda\w*|buscador\w*|buscar",
        "export": r"informe\w*|exportaci\w*",
        "api": r"integraci\w*",
        "calls": r"llamadas?|teléfono\w*|telefónic\w*|suena",
        "bookings": r"reserva\w*|reservar cita|pedir cita",
        "documents": r"archivo\w*|adjunt\w*|documento\w*",
        "loading": r"lent\w*|tarda\w*|pantalla\w*|en blanco",
    },
    "it": {
        "sign-in": r"accesso|accedere|credenziali|autenticazione",
        "payments": r"iva|impost[ae]|"
        r"pagament\w*|pagare|carta di credito|addebit\w*|ordin[ei]|acquist\w*|carrello|"
        r"rimbors\w*",
        "payouts": r"bonific\w*|versament\w*|incass\w*|conto corrente|accredit\w*",
        "e-mail": r"notific\w*|posta|reimpost\w*|inviat[ei]",
        "search": r"ricerca|ricerche|cercare",
        "export": r"esporta\w*|report\w*",
        "api": r"integrazion\w*",
        "calls": r"chiamat[ae]|telefon\w*|squill\w*",
        "bookings": r"prenota\w*",
        "documents": r"allegat\w*|documenti|file",
        "loading": r"lent\w*|carica|caricamento|pagina bianca|schermata|pannell\w*",
    },
    "pt": {
        "sign-in": r"senha\w*|acessar|acesso|autenticação|entrar",
        "payments": r"iva|impostos?|"
        r"pagament\w*|pagar|cartão|cartões|cobrança\w*|pedidos?|compras?|carrinho|reembols\w*|"
        r"estorno\w*",
        "payouts": r"repasse\w*|transferência\w*|conta bancária|depósito\w*",
        "e-mail": r"notificaç\w*|aviso\w*|redefini\w*|enviad[oa]s",
        "search": r"pesquis\w*|busca",
        "export": r"relatório\w*|exportaç\w*",
        "api": r"integraç\w*",
        "calls": r"chamadas?|ligaç\w*|telefon\w*|toca",
        "bookings": r"agendament\w*|agendar|reserva\w*",
        "documents": r"arquivo\w*|anexo\w*|documento\w*",
        "loading": r"lent\w*|carrega\w*|tela\w*|em branco|demora\w*|painel",
    },
    "nl": {
        "sign-in": r"inloggen|aanmelden|wachtwoord\w*|tweestapsverificatie",
        "payments": r"btw|belasting\w*|"
        r"betaling\w*|betalen|creditcard\w*|afrekenen|bestelling\w*|winkelwagen\w*|"
        r"terugbetaling\w*|restitutie\w*",
        "payouts": r"uitbetaling\w*|uitbetaald|overboeking\w*|bankrekening\w*",
        "e-mail": r"melding\w*|notificatie\w*|\w*reset\w*|verzonden|verstuurd",
        "search": r"zoek\w*",
        "export": r"\w*rapport\w*|exporteren",
        "api": r"koppeling\w*|integratie\w*",
        "calls": r"oproep\w*|gesprekken|telefo\w*|gebeld",
        "bookings": r"boeken|boeking\w*|afspraak (?:maken|boeken)|reserver\w*",
        "documents": r"bestand\w*|bijlage\w*",
        "loading": r"traag|trage|laadt|laden",
    },
    "sv": {
        # Norwegian, which the language detector reads as Swedish or Danish, in both.
        "sign-in": r"logga in|inloggning\w*|lösenord\w*|logge inn|innlogging\w*|passord\w*",
        "payments": r"moms|skatt\w*|"
        r"betalning\w*|betala|köp\w*|kortet|korten|kortbetalning\w*|kassa\w*|beställning\w*|"
        r"återbetalning\w*",
        "payouts": r"utbetalning\w*|överföring\w*|bankkonto\w*|insättning\w*",
        "e-mail": r"avisering\w*|meddelande\w*|återställ\w*|skickas|skickade",
        "search": r"sök\w*|søk\w*",
        "export": r"\w*rapport\w*",
        "api": r"integration\w*",
        "calls": r"samtal\w*|telefon\w*|ringer",
        "bookings": r"bokning\w*|boka|bokar|tidsbok\w*",
        "documents": r"fil|filer|bilaga\w*",
        "loading": r"långsam\w*|ladda\w*(?! upp| ned| ner)|seg|sega",
    },
    "da": {
        "sign-in": r"log ind|adgangskode\w*|logge inn|innlogging\w*|passord\w*",
        "payments": r"moms|skat|skatter|"
        r"betaling\w*|betale|køb\w*|kortet|kortbetaling\w*|bestilling\w*|refusion\w*|"
        r"tilbagebetaling\w*",
        "payouts": r"udbetaling\w*|overførsel\w*|bankkonto\w*",
        "e-mail": r"besked\w*|nulstil\w*|sendes|sendt",
        "search": r"søg\w*|søk\w*",
        "export": r"\w*rapport\w*",
        "api": r"integration\w*",
        "calls": r"opkald\w*|telefon\w*|ringer",
        "bookings": r"booking\w*|tidsbestilling\w*|reservation\w*",
        "documents": r"fil|filer|vedhæft\w*",
        "loading": r"langsom\w*|indlæs\w*",
    },
    "pl": {
        "sign-in": r"logowani\w*|zalogowa\w*|hasł\w*",
        "payments": r"vat|podat\w*|"
        r"płatnoś\w*|zapłac\w*|zamówie\w*|kart[aąy]|koszyk\w*|zwrot\w*",
        "payouts": r"wypłat\w*|przelew\w*|rachun\w* bankow\w*|kont\w* bankow\w*",
        "e-mail": r"powiadomieni\w*|wiadomoś\w*|resetowa\w*|zresetowa\w*|wysyłan\w*|wysłan\w*",
        "search": r"wyszukiw\w*",
        "export": r"raport\w*|eksport\w*",
        "api": r"integracj\w*",
        "calls": r"połączeń|połączenia telefoniczne|rozmow\w*|telefon\w*|\w*dzwoni\w*",
        "bookings": r"rezerwac\w*|umawia\w*|umówi\w*",
        "documents": r"plik\w*|załącznik\w*",
        "loading": r"woln\w*|ładuj\w*|ładowani\w*",
    },
    "cs": {
        "sign-in": r"přihlá\w*|hesl\w*",
        "payments": r"dph|daň\w*|dan[ěi]|"
        r"platb\w*|zaplat\w*|objednáv\w*|objednávk\w*|nákup\w*|kart[ay]|refundac\w*|"
        r"vrácení peněz",
        "payouts": r"výplat\w*|převod\w*|bankovní\w* účt\w*|bankovní účet",
        "e-mail": r"oznámení|upozorněn\w*|obnoven\w*|odeslán\w*",
        "search": r"vyhledáv\w*",
        "export": r"sestav\w*",
        "api": r"integrac\w*",
        "calls": r"hovor\w*|telefon\w*|dovola\w*|nedovola\w*",
        "bookings": r"rezervac\w*|objednání termínu",
        "documents": r"soubor\w*|přílo\w*",
        "loading": r"pomal\w*|načít\w*",
    },
    "fi": {
        "sign-in": r"kirjautu\w*|salasana\w*",
        "payments": r"alv|arvonlisävero\w*|vero|verot|veroa|"
        r"maksu\w*|tilau\w*|osto\w*|hyvity\w*",
        "payouts": r"tilisiir\w*|tilitys\w*|pankkitili\w*",
        "e-mail": r"ilmoitu\w*|sähköposti\w*|palautus\w*|nollau\w*|lähetet\w*",
        "search": r"haku\w*",
        "export": r"\w*raportti\w*|vienti\w*",
        "api": r"integraatio\w*",
        "calls": r"puhelu\w*|puhelin\w*",
        "bookings": r"ajanvara\w*|varau\w*|varaa\w*",
        "documents": r"tiedosto\w*|liite\w*",
        "loading": r"hidas\w*|latautu\w*",
    },
}


@cache
def _words(language: str) -> dict[str, re.Pattern[str]]:
    """Each area's words in this language, the borrowed ones and its features', as one pattern (areas
    without any left out)."""
    own = OWN.get(language, {})
    either = {
        area: "|".join(w for w in (borrowed, own.get(area, ""), words_of(area)) if w)
        for area, borrowed in BORROWED.items()
    }
    return {area: re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.I) for area, words in either.items() if words}


def areas_named(language: str | None, text: str) -> list[str]:
    """The areas whose words, of the text's language (English when not told) and the borrowed ones, the
    text uses most (several when as many; none when it uses no area's words)."""
    used = {area: len(pattern.findall(text)) for area, pattern in _words(language or "en").items()}
    most = max(used.values())
    return [area for area, n in used.items() if n == most] if most else []
