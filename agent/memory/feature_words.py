"""Which feature of a product area a mail names, by the words every language borrows for it: two outages
of one area at once are told apart by them.

Sign-in can fail in two ways on one morning: single sign-on rejects everyone with a SAML error, and the
text messages carrying verification codes stop arriving. Both read as sign-in failing; told in two
languages, nothing else tells them apart (tools/incident_match.py compares such reports by area alone).
What does is what each names: SSO, SAML and Okta, or SMS and a code ("Bestätigungscodes",
"vahvistuskoodi", "código"), words borrowed into every language the desk reads, or built on the same
stem. Documents likewise fail going up or coming down (an upload, a "téléversement"; a download, a
"PDF scaricato"), payments fail at checkout or in refunds, mail going out or coming in, and an app
closes itself or crawls. A mail that names no feature, or two as often, is told apart from none.
"""

from __future__ import annotations

import re

from agent.memory.failure_words import SLOW

# The features of an area (agent/memory/symptoms.py AREAS) and their words in every language, matched
# case-insensitively as whole words (a leading `\w*` finds the end of a compound; a Danish "adgangskode"
# is a password).
FEATURES = {
    "sign-in": {
        "single sign-on": r"sso|saml|okta|oauth|openid|azure ad|entra id|single sign-on|"
        r"jednotné přihlášení|kertakirjautu\w*",
        "verification codes": r"sms|otp|2fa|mfa|totp|authenticator|text messages?|tekstiviest\w*|"
        r"\w*codes?|\w*códigos?|\w*codic[ei]|(?!adgangskode)\w*kode[rn]?|\w*kody?|\w*kód\w*|\w*koodi\w*",
    },
    "documents": {
        "uploads": r"\w*upload\w*|hochlad\w*|hochgelad\w*|télévers\w*|subir|subida\w*|caricar\w*|"
        r"caricament\w*|ladda upp|laddar upp|uppladdning\w*|przesła\w*|wgra\w*|"
        r"nahr\w*",
        "downloads": r"\w*download\w*|herunterlad\w*|heruntergelad\w*|télécharg\w*|descarg\w*|scaric\w*|"
        r"baixa\w*|ladda ned|ladda ner|laddar ned|laddar ner|nedladdning\w*|pobier\w*|pobra\w*|stáhn\w*|"
        r"stažen\w*|stahov\w*",
    },
    # Money taken from a customer (a card, a wallet, a checkout) or given back: declines at checkout and
    # refunds stuck as pending are two outages of one morning.
    "payments": {
        "charges": r"\w*cards?|\w*karte\w*|\w*kart[aąyę]|cartes?|tarjetas?|carta|cartão|cartões|kortet|"
        r"korten|kortbetal\w*|checkout|kasse|kassa|caisse|cassa|apple pay|google pay|paypal|klarna|swish",
        "refunds": r"\w*refund\w*|rückerstatt\w*|erstatt\w*|rembours\w*|reembols\w*|devoluci\w*|rimbors\w*|"
        r"estorno\w*|terugbetaling\w*|restitutie\w*|återbetalning\w*|refusion\w*|tilbagebetaling\w*|zwrot\w*|"
        r"refundac\w*|vrácení peněz|hyvity\w*",
    },
    # Mail going out stays in a queue; mail coming in misses an inbox. Both are sent and both do not
    # arrive: "customers never got our invoices" is mail going out.
    "e-mail": {
        "outgoing": r"outgoing|outbound|queued?|going out|gone out|goes out|ausgehend\w*|warteschlange|"
        r"versand\w*|verschick\w*|versend\w*|sortant\w*|file d'attente|saliente\w*|cola|coda|"
        r"in attesa di invio|em fila|na fila|uitgaand\w*|wachtrij|utgående|udgående|kön|kø|wychodząc\w*|"
        r"kolejce|kolejk[ai]|odchozí|frontě|lähtev\w*|jonossa",
        "incoming": r"incoming|inbound|inbox|mailbox|conversations?|eingehend\w*|entrant\w*|boîte\w*|"
        r"entrante\w*|buzón|bandeja de entrada|in arrivo|casella|caixa de entrada|entrando|inkomend\w*|"
        r"komt niets binnen|inkommande|indgående|innkommende|przychodząc\w*|skrzynk\w*|příchozí|"
        r"schránk\w*|saapuv\w*",
    },
    # An app that closes itself, or one that is slow (the failure words' slowness, in any language).
    "loading": {
        "crashes": r"crash\w*|closes itself|shuts down|force-?clos\w*|abstürz\w*|absturz\w*|stürzt|"
        r"se ferme|plante|se cierra|si chiude|fecha sozinh[oa]|crasht|sluit af|kraschar|stängs|lukker ned|"
        r"wyłącza\w*|zamyka się|padá|spadne|kaatuu|sulkeutuu",
        "slowness": "|".join(SLOW.values()),
    },
}
_FEATURES = {
    area: {feature: re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.I) for feature, words in features.items()}
    for area, features in FEATURES.items()
}


def feature_named(area: str | None, text: str) -> str | None:
    """The feature of `area` the text names most (None: it names none, or two as often)."""
    used = {feature: len(p.findall(text)) for feature, p in _FEATURES.get(area or "", {}).items()}
    ranked = sorted(used.values(), reverse=True)
    if not ranked or ranked[0] == 0 or (len(ranked) > 1 and ranked[0] == ranked[1]):
        return None
    return max(used, key=used.__getitem__)


# Features whose words name their area too: "SMS-Codes" is signing in, a crash is an app not loading. Mail's
# are words of any context (a queue, an inbox, a conversation): they tell mail out from mail in, and
# name no area.
NAMING = ("sign-in", "documents", "loading")


def words_of(area: str) -> str:
    """The words of every feature of `area` that name it, as one pattern."""
    return "|".join(FEATURES[area].values()) if area in NAMING else ""
