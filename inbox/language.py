"""The language a customer wrote in, detected with lingua (a maintained n-gram detector, its models in
its wheel): an ISO 639-1 code, or None when the text is too short or too mixed to tell."""

from __future__ import annotations

import re
from functools import cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

# The languages told apart: the ones a support desk in Europe and the Americas meets most. Fewer
# candidates are faster and surer; a language not listed is reported as the closest listed or None.
LANGUAGES = tuple(
    Language.from_iso_code_639_1(getattr(IsoCode639_1, code))
    for code in ("EN", "DE", "FR", "ES", "IT", "NL", "PT", "PL", "SV", "DA", "FI", "CS")
)
READ_CHARS = 2000  # of subject and body: plenty to tell a language, and the work stays bounded
MIN_CHARS = 12  # shorter than this ("ok", "thanks!") is no evidence
MIN_CONFIDENCE = 0.5
# Words English has and none of the other languages told apart do. Low accuracy mode reads trigrams
# only, and took an English mail about an "editable notification template" for French (0.91): a text
# whose words are English ones this often is English, whatever the trigrams say.
ENGLISH_ONLY = frozenset(
    {
        "the",
        "to",
        "and",
        "of",
        "you",
        "your",
        "our",
        "this",
        "that",
        "with",
        "for",
        "have",
        "has",
        "are",
        "was",
        "were",
        "will",
        "would",
        "could",
        "should",
        "please",
        "thanks",
        "thank",
        "can't",
        "don't",
        "it's",
        "we're",
        "i'm",
    }
)
ENGLISH_SHARE = 0.15
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@cache
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*LANGUAGES).with_low_accuracy_mode().build()


def detect_language(subject: str, body: str) -> str | None:
    """The ISO 639-1 code of the language the text is written in, or None when it cannot be told."""
    text = f"{subject}\n{body}"[:READ_CHARS]
    if sum(ch.isalpha() for ch in text) < MIN_CHARS:
        return None
    if _reads_english(text):
        return "en"
    best = _detector().compute_language_confidence_values(text)[0]
    if best.value < MIN_CONFIDENCE:
        return None
    return best.language.iso_code_639_1.name.lower()


def _reads_english(text: str) -> bool:
    """Whether English-only words make up ENGLISH_SHARE of the text's words (three at least)."""
    words = [w.lower() for w in _WORD.findall(text)]
    english = sum(w in ENGLISH_ONLY for w in words)
    return english >= 3 and english >= ENGLISH_SHARE * len(words)
