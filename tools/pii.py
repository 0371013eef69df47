"""Personal data stays home (TRIAGE_LLM_REDACT=on): what goes to the model has people's names, e-mail
addresses, phone numbers, IBANs, card numbers, account ids and street addresses replaced by placeholders
(<PERSON_1>, <EMAIL_1>, ...), and the model's answer has them put back before anything reads it.

Found by Microsoft Presidio's analyzer (its recognisers for e-mail addresses, phone numbers, IBANs and
card numbers, with their checksums) plus this project's own: the names its extractor reads from the
ticket (signature, closing line, introduction, From line, people named in the text, and each of their
words), the configured account id pattern, and street addresses. Presidio runs with a blank spaCy
pipeline: no model is fetched, and people's names come from the extractor.

The placeholders are numbered by first appearance in the ticket (the `<ticket>` block every prompt
carries), then in the rest of the messages, so the same person has the same placeholder in the plan and
in the observer's look without anything stored. Detection reads JSON string values decoded (a name
after an escaped newline is still a name); the replacement covers every occurrence in the raw message,
so a value that reaches the model once redacted never reaches it in clear, whoever wrote it back.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tools.extract import find_people
from tools.names import find_customer_name

KINDS = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "IBAN_CODE": "IBAN",
    "CREDIT_CARD": "CARD",
    "ACCOUNT_ID": "ACCOUNT",
    "STREET_ADDRESS": "ADDRESS",
}
_TICKET = re.compile(r"<ticket>\n(.*?)\n</ticket>", re.S)
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.){3,}"')
# What a model makes of <PERSON_1>: [PERSON_1], <person-1>, {PERSON 1}, PERSON_1; not "card 1" in prose.
_KIND_NAMES = "|".join(sorted(set(KINDS.values())))
_PLACEHOLDER = re.compile(
    rf"[<\[{{]\s*(?i:({_KIND_NAMES}))[ _-]?(\d{{1,3}})\s*[>\]}}]|\b({_KIND_NAMES})_(\d{{1,3}})\b"
)
_STREET = (
    r"\b\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][\w'.-]{0,30}\s+){0,4}(?:Street|St\.|Road|Rd\.|Avenue|Ave\.|Lane|Boulevard"
    r"|Blvd\.|Drive|Way|Court|Place|Square|Terrace|Close|Crescent|Highway)\b"
    r"|\b[A-ZÄÖÜ][\wäöüß-]{0,30}(?:straße|strasse|str\.|weg|gasse|allee|platz|ring|damm)\s+\d{1,4}[a-z]?\b"
    r"|\b\d{1,4},?\s+(?:rue|avenue|boulevard|allée|chemin|impasse|place)\s+(?:[\w'-]{1,30}\s?){1,5}"
)
_MIN_SCORE = 0.3


@dataclass
class Redaction:
    """The placeholders of one request: each personal value's, and what each placeholder stands for."""

    placeholder_of: dict[str, str] = field(default_factory=dict)  # value (case folded) -> placeholder
    value_of: dict[str, str] = field(default_factory=dict)  # placeholder -> the value as first written
    _counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, value: str, same_as: str | None = None) -> None:
        """Give a value its placeholder (the next of its kind, or `same_as`'s: a name's single words)."""
        key = value.casefold()
        if key in self.placeholder_of or len(value.strip()) < 2:
            return
        if same_as is not None and same_as.casefold() in self.placeholder_of:
            self.placeholder_of[key] = self.placeholder_of[same_as.casefold()]
            return
        self._counts[kind] = self._counts.get(kind, 0) + 1
        placeholder = f"<{kind}_{self._counts[kind]}>"
        self.placeholder_of[key], self.value_of[placeholder] = placeholder, value
        escaped = json.dumps(value)[1:-1]  # as JSON with ensure_ascii writes it: Hauptstra\u00dfe
        if escaped != value:
            self.placeholder_of[escaped.casefold()] = placeholder

    def apply(self, text: str) -> str:
        """The text with every known value replaced by its placeholder (longest first, whole words)."""
        if not self.placeholder_of:
            return text
        values = sorted(self.placeholder_of, key=len, reverse=True)
        pattern = r"(?:(?<=\\[nrt])|(?<![\w@.+-]))(" + "|".join(map(re.escape, values)) + r")(?![\w@])"
        return re.sub(pattern, lambda m: self.placeholder_of[m.group(1).casefold()], text, flags=re.I)

    def restore(self, answer: str) -> str:
        """The model's (JSON) answer with each placeholder, however the model wrote it, put back as its
        value (JSON-escaped); a placeholder this request did not give is left as written."""

        def back(found: re.Match[str]) -> str:
            kind, number = found.group(1, 2) if found.group(1) else found.group(3, 4)
            value = self.value_of.get(f"<{kind.upper()}_{int(number)}>")
            return found.group(0) if value is None else json.dumps(value, ensure_ascii=False)[1:-1]

        return _PLACEHOLDER.sub(back, answer)


class Redactor:
    """Redacts the messages of a request (TRIAGE_LLM_REDACT=on); `account_pattern` is the configured
    TRIAGE_ACCOUNT_ID_PATTERN. The analyzer is built once per process, on first use."""

    def __init__(self, account_pattern: str) -> None:
        self.account_pattern = account_pattern

    def redact(self, messages: list[dict[str, str]]) -> tuple[list[dict[str, str]], Redaction]:
        """The messages as they may go to the model, and the redaction that restores its answer."""
        redaction = Redaction()
        tickets = [block for m in messages for block in _TICKET.findall(m.get("content") or "")]
        for name, same_as in _names(tickets):
            redaction.add("PERSON", name, same_as)
        for text in [*tickets, *(m.get("content") or "" for m in messages)]:
            for kind, value in self._found(text):
                redaction.add(kind, value)
        return [{**m, "content": redaction.apply(m.get("content") or "")} for m in messages], redaction

    def _found(self, text: str) -> Iterator[tuple[str, str]]:
        """(kind, value) of each personal value in the text, in order, JSON strings read decoded."""
        analyzer = _analyzer(self.account_pattern)
        for piece in _pieces(text):
            results = analyzer.analyze(piece, language="en", entities=list(KINDS), score_threshold=_MIN_SCORE)
            for result in sorted(results, key=lambda r: r.start):
                yield KINDS[result.entity_type], piece[result.start : result.end]


def _pieces(text: str) -> Iterator[str]:
    """The text's JSON string values decoded, then the text itself."""
    for literal in _JSON_STRING.findall(text):
        try:
            decoded = json.loads(literal)
        except ValueError:
            continue
        if isinstance(decoded, str) and any(c.isdigit() or c.isupper() or c == "@" for c in decoded):
            yield decoded
    yield text


def _names(tickets: list[str]) -> Iterator[tuple[str, str | None]]:
    """People's names the extractor reads in the tickets, each followed by its single words (which
    share its placeholder)."""
    for block in tickets:
        try:
            ticket: dict[str, Any] = json.loads(block)
        except ValueError:
            continue
        fields = {k: v if isinstance(v, str) else "" for k, v in ticket.items()}
        body, signature = fields.get("body", ""), fields.get("signature", "")
        display = fields.get("sender_name", "").strip().strip("'\"")
        found, _ = find_customer_name(body, signature, display)
        people = find_people(f"{fields.get('subject', '')}\n{body}")
        named = [n for n in (found, display, *people) if n and "@" not in n]
        names = sorted(named, key=lambda n: -len(n.split()))  # "Jane Doe" first: "Jane" is one of hers
        for name in names:
            yield name, None
            for word in re.findall(r"[A-ZÀ-Þ][\w'\u2019-]{2,}", name):
                if word.rstrip(".") not in ("Mr", "Mrs", "Ms", "Miss", "Dr", "Prof"):
                    yield word, name


_lock = threading.Lock()


@lru_cache(maxsize=4)
def _analyzer(account_pattern: str) -> Any:
    """Presidio's analyzer with a blank spaCy pipeline (no model to fetch), its recognisers of e-mail
    addresses, phone numbers, IBANs and card numbers, and this project's account ids, street
    addresses and e-mail addresses at any domain."""
    with _lock:
        # Presidio says, once per recogniser of another language, that it leaves it out: noise.
        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        import spacy
        import tldextract
        from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine

        # Presidio's e-mail recogniser asks tldextract, which would fetch the public suffix list from the
        # internet on first use: the snapshot inside the package instead.
        tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)  # type: ignore[assignment]

        class BlankSpacy(SpacyNlpEngine):
            def load(self) -> None:
                self.nlp = {"en": spacy.blank("en")}  # type: ignore[assignment]

        engine = BlankSpacy(models=[{"lang_code": "en", "model_name": "blank"}])
        engine.load()
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.load_predefined_recognizers(nlp_engine=engine, languages=["en"])
        account = Pattern("account id", account_pattern, 0.9)
        street = Pattern("street address", _STREET, 0.6)
        registry.add_recognizer(PatternRecognizer(supported_entity="ACCOUNT_ID", patterns=[account]))
        # Presidio's own wants a public suffix: an address at a private or invented domain is one too.
        anywhere = Pattern(
            "e-mail address at any domain", r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}", 0.6
        )
        registry.add_recognizer(PatternRecognizer(supported_entity="EMAIL_ADDRESS", patterns=[anywhere]))
        registry.add_recognizer(  # case matters: "5 times on the way" is no address
            PatternRecognizer(
                supported_entity="STREET_ADDRESS", patterns=[street], global_regex_flags=re.MULTILINE
            )
        )
        return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])
