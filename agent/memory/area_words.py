"""Which part of the product a mail in a language MiniLM does not read is about, from its words.

MiniLM places an English report in its product area well; in German or Portuguese it goes by the
pieces of words it shares with a sentence or two per area, and a Portuguese report of corrupt files
lands in e-mail. The parts of a product have a small vocabulary in each language, many of the words
borrowed (PDF, CSV, API, login, webhook). So a mail in another language is placed by the area whose
words it uses most; with none, or two areas used as much, the model decides.
"""

from __future__ import annotations

import re
from collections import Counter

# The words of each area (agent/memory/symptoms.py AREAS), English loanwords first, then German, French,
# Spanish, Italian, Portuguese, Dutch, Swedish, Danish, Polish, Czech, Finnish. Matched case-insensitively
# at the start of a word; `\w*` lets a word inflect.
WORDS = {
    "sign-in": [
        r"log-?in\w*|logon|sso|single sign-on|2fa|mfa|two-factor|otp|password\w*",
        r"anmeld\w*|einlogg\w*|passwort\w*|kennwort\w*|zugangsdaten|zwei-faktor\w*|authentifizierung",
        r"connexion|connecter|identifiant\w*|mot de passe|authentification",
        r"iniciar sesión|inicio de sesión|contraseña\w*|autenticación|acceder|acceso|entrar",
        r"accesso|accedere|credenziali|autenticazione",
        r"senha\w*|acessar|acesso|autenticação",
        r"inloggen|aanmelden|wachtwoord\w*|tweestapsverificatie",
        r"logga in|inloggning|lösenord|log ind|adgangskode|logowani\w*|zalogowa\w*|hasł\w*|přihlá\w*|"
        r"hesl\w*|kirjautu\w*|salasana\w*",
    ],
    "payments": [
        r"checkout|paypal|mastercard",
        r"zahlung\w*|bezahl\w*|kartenzahlung\w*|kreditkarte\w*|abbuchung\w*|kasse",
        r"paiement\w*|payer|carte bancaire|carte de crédit|prélèvement\w*",
        r"pago\w*|pagar|tarjeta\w*|cobro\w*",
        r"pagament\w*|pagare|carta di credito|addebit\w*",
        r"cartão|cartões|cobrança\w*",
        r"betaling\w*|betalen|creditcard\w*|afrekenen",
        r"betalning\w*|betala|betale|płatnoś\w*|zapłac\w*|platb\w*|zaplat\w*|maksu\w*",
    ],
    "e-mail": [
        r"\w*mail\w*|newsletter\w*|smtp",
        r"benachrichtigung\w*|postfach",
        r"courriel\w*|notification\w*",
        r"correo\w*|notificaci\w*|aviso\w*",
        r"notific\w*|posta",
        r"notificaç\w*",
        r"melding\w*|notificatie\w*",
        r"avisering\w*|meddelande\w*|powiadomieni\w*|wiadomoś\w*|oznámení|upozorněn\w*|ilmoitu\w*",
    ],
    "search": [
        r"search\w*|filter\w*",
        r"such\w*|treffer",
        r"recherch\w*|filtre\w*|chercher",
        r"búsqueda\w*|buscador\w*|buscar|filtro\w*",
        r"ricerca|ricerche|cercare|filtri",
        r"pesquis\w*|busca",
        r"zoek\w*",
        r"sök\w*|søg\w*|wyszukiw\w*|vyhledáv\w*|haku\w*",
    ],
    "export": [
        r"export\w*|csv|xlsx|excel",
        r"bericht\w*|auswertung\w*",
        r"rapport\w*|exporter",
        r"informe\w*|exportaci\w*",
        r"esporta\w*|report\w*",
        r"relatório\w*|exportaç\w*",
        r"exporteren",
        r"raport\w*|eksport\w*|sestav\w*|raportti\w*|vienti\w*",
    ],
    "api": [
        r"api|webhooks?|integration\w*|sync\w*|zapier|endpoint\w*",
        r"schnittstelle\w*|synchronisation\w*|anbindung\w*",
        r"intégration\w*",
        r"integraci\w*|sincronizaci\w*",
        r"integrazion\w*|sincronizzazion\w*",
        r"integraç\w*|sincronizaç\w*",
        r"koppeling\w*|integratie\w*|synchronisatie\w*",
        r"integracj\w*|integrac\w*|integraatio\w*",
    ],
    "documents": [
        r"pdfs?|upload\w*|attachment\w*|files?",
        r"datei\w*|anhang|anhänge\w*|dokument\w*|hochlad\w*|herunterlad\w*",
        r"fichier\w*|pièces? jointes?|document\w*|télévers\w*|télécharg\w*",
        r"archivo\w*|adjunt\w*|documento\w*|subir|descarg\w*",
        r"allegat\w*|documenti|scaricare|caricare",
        r"arquivo\w*|anexo\w*|baixar",
        r"bestand\w*|bijlage\w*|uploaden|downloaden",
        r"fil|filer|bilaga\w*|plik\w*|załącznik\w*|soubor\w*|přílo\w*|tiedosto\w*|liite\w*",
    ],
    "loading": [
        r"dashboard\w*|time-?outs?|slow\w*",
        r"langsam\w*|lädt|ladezeit\w*|hängt",
        r"lent\w*|chargement|page blanche",
        r"tarda\w*|pantalla\w*|en blanco",
        r"caricamento|pagina bianca|schermata",
        r"carrega\w*|tela\w*|em branco|demora\w*",
        r"traag|trage|laadt",
        r"långsam\w*|laddar|ładuj\w*|ładowani\w*|pomal\w*|načít\w*|hidas\w*|latautu\w*",
    ],
}
_WORDS = {
    area: re.compile(rf"(?<!\w)(?:{'|'.join(words)})(?!\w)", re.IGNORECASE) for area, words in WORDS.items()
}


def area_by_words(text: str) -> str | None:
    """The area whose words the text uses most; None when it uses none, or two areas as much."""
    used = Counter({area: len(words.findall(text)) for area, words in _WORDS.items()})
    ranked = [(area, n) for area, n in used.most_common(2) if n]
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]
