"""Whether a mail tells of something broken, from its words: in a language MiniLM does not read, and in
English where the model cannot tell.

MiniLM reads meaning in English only: a German question ("wie kann ich mein Passwort ändern?") lies as
near its sentences of things that broke as a German outage report does. What a report of a failure has
in every language is a small closed class of words: a negation ("nicht", "ne ... rien", "não"), nobody,
an impossibility, an error, an empty or blank result, a refusal, slowness, a wrong or doubled amount,
an HTTP status. What a question of how to do something, which to choose or whether it can be done has is
its question words ("how", "welche", "est-il possible"), and a question mark closing its sentence. So a
mail reads as a failure by its words only with such a word and without such a question, nor the words
of one that works again ("Re: Panne d'hier" / "tout fonctionne à nouveau").
"""

from __future__ import annotations

import re

# Words of failure per ISO 639-1 code (matched as whole words, case-insensitive).
FAILURE = {
    "en": r"not|nobody|none|zero|\w+n[\u2019']t|no|nothing|never|cannot|unable|fail\w*|broken|down|stuck|"
    r"empty|blank|missing|wrong|declined|rejected|locked out",
    "de": r"nicht|niemand|kein\w*|nichts|unmöglich|fehler\w*|fehlgeschlagen|schlägt fehl|kaputt|"
    r"ohne (?:\w+ ){0,2}(?:daten|einträge|eintrag|inhalt|zeilen|werte)|"
    r"defekt|leer\w*|abgelehnt|abgewiesen|ausgefallen|hängt|hängen|störung|abgestürzt",
    "fr": r"ne|blanc|blanche|n[\u2019']\w+|pas|rien|aucune?|impossible|erreurs?|échou\w*|échec|panne|vides?|"
    r"bloqu\w*|plant\w*|refus\w*",
    "es": r"no|nadie|en blanco|nada|ningún|ninguna|imposible|error(?:es)?|fall\w*|vací[oa]s?|"
    r"caíd[oa]|rot[oa]|bloquead[oa]|rechaz\w*",
    "it": r"non|bianc[oa]|niente|nessun[oa]?|impossibile|error[ei]|vuot[oaie]|guast\w*|bloccat\w*|"
    r"danneggiat\w*|rifiutat\w*",
    "pt": r"não|ninguém|em branco|nada|nenhum[a]?|impossível|erros?|falh\w*|vazi[oa]s?|fora do ar|"
    r"travad[oa]|bloquead[oa]s?|corrompid\w*|recusad\w*",
    "nl": r"niet|niemand|geen|niets|onmogelijk|fout\w*|mislukt|leeg|kapot|storing|geweigerd|afgewezen",
    "sv": r"inte|ingen|inga|inget|ingenting|omöjligt|fel\w*|misslyck\w*|tom|tomma|trasig|nekas|nekad\w*",
    "da": r"ikke|ingen|intet|ingenting|umuligt|fejl\w*|mislyk\w*|tom|tomme|afvis\w*",
    "pl": r"nie|żaden|żadne|nic|niemożliw\w*|błąd|błędy|awaria|pust[ayei]|odrzuc\w*",
    "cs": r"ne\w*|nic|žádn\w*|nelze|chyb\w*|prázdn\w*|selhal\w*|vypršel\w*|vypršení\w*|zamítnut\w*",
    "fi": r"ei|eivät|mitään|virhe\w*|tyhjä|epäonnistu\w*|mahdoton|hylät\w*|hylkä\w*",
}
# Slowness is a failure too (an app that crawls)...
SLOW = {
    "en": r"slow\w*|crawl\w*|spins?|spinning|takes? ages|forever",
    "de": r"langsam\w*|dauert ewig|ewig",
    "fr": r"lent\w*",
    "es": r"lent\w*|tarda\w*",
    "it": r"lent\w*",
    "pt": r"lent\w*|demora\w*",
    "nl": r"traag|trage|duurt lang",
    "sv": r"långsam\w*|seg|sega|evigheter|tar lång tid",
    "da": r"langsom\w*|tager lang tid",
    "pl": r"woln\w*|długo",
    "cs": r"pomal\w*|dlouho",
    "fi": r"hidas\w*",
}
# ... and so is lateness (mail or events that come hours late).
LATE = {
    "en": r"late|delay\w*",
    "de": r"verspät\w*|verzöger\w*",
    "fr": r"retard\w*",
    "es": r"retras\w*",
    "it": r"ritard\w*",
    "pt": r"atras\w*",
    "nl": r"vertraag\w*|vertraging\w*|te laat",
    "sv": r"försen\w*|fördröj\w*",
    "da": r"forsink\w*",
    "pl": r"opóźni\w*",
    "cs": r"zpožd\w*",
    "fi": r"myöhässä|viiv\w*",
}
# ... and so is an amount that comes out wrong, or twice (VAT added twice on an invoice).
WRONG = {
    "en": r"twice|doubled?|duplicated?|incorrect\w*",
    "de": r"falsch\w*|doppelt\w*|zweimal",
    "fr": r"faux|fausses?|incorrect\w*|en double|deux fois|doublée?s?",
    "es": r"incorrect\w*|equivocad\w*|erróne\w*|dos veces|duplicad\w*",
    "it": r"sbagliat\w*|errat[oaie]|due volte|doppi[oa]?|duplicat\w*",
    "pt": r"errad[oa]s?|incorret\w*|duas vezes|duplicad\w*",
    "nl": r"verkeerd\w*|onjuist\w*|dubbel\w*|twee keer",
    "sv": r"felaktig\w*|dubbel\w*|två gånger",
    "da": r"forkert\w*|dobbelt\w*|to gange",
    "pl": r"błędn\w*|nieprawidłow\w*|podwójn\w*|dwukrotn\w*|dwa razy",
    "cs": r"špatn\w*|chybn\w*|dvakrát|dvojit\w*",
    "fi": r"väär\w*|kahdesti|kahteen kertaan|kaksinkertai\w*",
}
# Said alike in every language: an HTTP status of a failure, and the English loanwords.
EVERYWHERE = r"[45]\d\d|error|time-?outs?|crash\w*"
# The question words of a question of how to do something, of which to choose, or whether it can be
# done ("est-il possible de filtrer par catégorie ? je ne trouve pas l'option" reports nothing broken).
HOW_TO = {
    "en": r"how|which|is it possible|would it be possible",
    "de": r"wie|welche[rsmn]?|ist es möglich|wäre es möglich",
    "fr": r"comment|quel(?:le)?s?|est-il possible|serait-il possible|est-ce possible",
    "es": r"cómo|como|cuál|cuáles|es posible|sería posible",
    "it": r"come|quale|quali|è possibile|sarebbe possibile",
    "pt": r"como|qual|quais|é possível|seria possível",
    "nl": r"hoe|welke?|is het mogelijk",
    "sv": r"hur|vilken|vilket|vilka|är det möjligt|går det att",
    "da": r"hvordan|hvilken|hvilket|hvilke|er det muligt",
    "pl": r"jak|któr\w*|czy można|czy jest możliw\w*",
    "cs": r"jak|kter\w*|je možné|bylo by možné",
    "fi": r"miten|kuinka|onko mahdollista",
}

# What a mail says when the failure it names is over ("Re: Panne d'hier" / "tout fonctionne à nouveau"):
# it works again, unless negated ("it's not working again", "geht wieder nicht" tell of a failure).
WORKS_AGAIN = {
    "en": r"works again|working again|back to normal",
    "de": r"(?:funktioniert|geht|läuft) (?:jetzt |alles )?wieder",
    "fr": r"fonctionne (?:à nouveau|de nouveau)|marche (?:à nouveau|de nouveau)|remarche",
    "es": r"funciona (?:de nuevo|otra vez)|vuelve a funcionar|volvió a funcionar",
    "it": r"funziona di nuovo|funziona nuovamente|(?:è )?tornato a funzionare|torna a funzionare",
    "pt": r"funciona (?:de novo|novamente)|voltou a funcionar",
    "nl": r"werkt (?:weer|opnieuw)",
    "sv": r"fungerar igen|funkar igen",
    "da": r"virker igen|fungerer igen",
    "pl": r"działa (?:ponownie|znowu)",
    "cs": r"funguje (?:znovu|zase)",
    "fi": r"toimii (?:taas|jälleen)",
}

# The negations that turn "works again" into a failure that is back, before or after it.
NEGATION = {
    "en": r"not|\w*n[\u2019']t|never",
    "de": r"nicht|nie",
    "fr": r"ne|pas",
    "es": r"no|nunca",
    "it": r"non|mai",
    "pt": r"não|nunca",
    "nl": r"niet|nooit",
    "sv": r"inte|aldrig",
    "da": r"ikke|aldrig",
    "pl": r"nie",
    "cs": r"ne",
    "fi": r"ei",
}


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.IGNORECASE)


_FAILURE = {
    language: _words(f"{words}|{SLOW[language]}|{LATE[language]}|{WRONG[language]}|{EVERYWHERE}")
    for language, words in FAILURE.items()
}
# A how-to question asks: its question word and, in the same sentence, a question mark ("como" is "as"
# too: "aparece como fallida" tells of a failure).
_HOW_TO = {
    language: re.compile(rf"(?<!\w)(?:{words})(?!\w)[^.!?]{{0,200}}\?", re.IGNORECASE)
    for language, words in HOW_TO.items()
}
_WORKS_AGAIN = {
    language: re.compile(
        rf"(?P<before>(?<!\w)(?:{NEGATION[language]})\s+)?(?<!\w)(?:{words})(?!\w)"
        rf"(?:(?=(?P<after>\s+(?:{NEGATION[language]})(?!\w))))?",
        re.IGNORECASE,
    )
    for language, words in WORKS_AGAIN.items()
}


def _works_again(language: str, text: str) -> bool:
    """Whether the text says that what failed works again, not negated."""
    return any(not (m["before"] or m["after"]) for m in _WORKS_AGAIN[language].finditer(text))


def reads_as_failure(language: str | None, text: str) -> bool | None:
    """Whether `text`, written in `language`, tells of a failure by its words: a failure word, and
    neither a question of how nor words that it works again; None for a language these words do not
    cover."""
    failure = _FAILURE.get(language or "")
    if failure is None:
        return None
    asks = _HOW_TO[language or ""].search(text) is not None
    over = _works_again(language or "", text)
    return failure.search(text) is not None and not asks and not over
