"""How urgent a customer says their ticket is, from their own words, in the languages customers write.

Words that lower urgency are looked for first, so "not urgent" and "nicht dringend" are low, never
high. Medium when nothing says otherwise.
"""

from __future__ import annotations

import re
from typing import Literal

Urgency = Literal["low", "medium", "high"]

_LOWER = [
    # English
    r"no rush",
    r"not urgent",
    r"no hurry",
    r"whenever you (?:can|get a chance|get to it|have time)",
    r"low priority",
    r"when you have (?:a moment|time)",
    r"at your convenience",
    r"not time[- ]sensitive",
    r"just a (?:suggestion|thought|small idea)",
    # German
    r"nicht (?:so )?dringend",
    r"keine eile",
    r"eilt nicht",
    r"ohne eile",
    r"bei gelegenheit",
    r"wenn sie (?:mal )?zeit haben",
    # French
    r"(?:ce n'est |c'est )?pas urgent",
    r"rien d'urgent",
    r"sans urgence",
    r"pas press[ée]",
    r"quand vous (?:aurez|avez) (?:le )?temps",
    r"quand vous (?:pourrez|le pourrez)",
    # Spanish
    r"no es urgente",
    r"sin prisa",
    r"no hay prisa",
    r"cuando (?:puedan|podáis|pueda|tengan tiempo)",
    # Italian, Portuguese, Dutch
    r"non è urgente",
    r"senza fretta",
    r"não é urgente",
    r"sem pressa",
    r"geen haast",
    r"niet dringend",
]
_RAISE = [
    # English
    r"urgent(?:ly)?",
    r"asap",
    r"as soon as possible",
    r"immediately",
    r"emergency",
    r"critical",
    r"production (?:is )?down",
    r"(?:site|system|server|service|app|website) is down",
    r"outage",
    r"can(?:no|')t (?:log ?in|access|work)",
    r"blocked",
    r"losing (?:money|customers|data)",
    r"right away",
    r"top priority",
    r"sev(?:erity)? ?1",
    r"p1",
    # German
    r"dringend",
    r"eilt",
    r"sofort",
    r"schnellstmöglich",
    r"so schnell wie möglich",
    r"ausgefallen",
    # French
    r"urgence",
    r"au plus vite",
    r"dès que possible",
    r"immédiatement",
    r"en panne",
    # Spanish, Italian, Portuguese, Dutch
    r"urgente",
    r"urgencia",
    r"lo antes posible",
    r"cuanto antes",
    r"inmediatamente",
    r"al più presto",
    r"o mais rápido possível",
    r"spoed",
]

# Checked in order: a phrase that lowers urgency wins over "urgent" in "not urgent".
RULES: list[tuple[Urgency, re.Pattern[str]]] = [
    ("low", re.compile(rf"\b(?:{'|'.join(_LOWER)})\b", re.IGNORECASE)),
    ("high", re.compile(rf"\b(?:{'|'.join(_RAISE)})\b", re.IGNORECASE)),
]


def find_urgency(subject: str, body: str) -> tuple[Urgency, str, str | None]:
    """low / medium / high from the wording of subject and body, where, and the words; medium when
    nothing says otherwise."""
    folded = {"subject": " ".join(subject.split()), "body": " ".join(body.split())}  # wrapped lines
    for level, rule in RULES:
        for where, text in folded.items():
            found = rule.search(text)
            if found:
                return level, f"{where}: {found.group(0)!r}", found.group(0)
    return "medium", "default (no urgency wording)", None
