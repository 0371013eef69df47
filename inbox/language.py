"""The language a customer wrote in, detected with lingua (a maintained n-gram detector, its models in
its wheel): an ISO 639-1 code, or None when the text is too short or too mixed to tell."""

from __future__ import annotations

from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

# The languages told apart: the ones a support desk in Europe and the Americas meets most. Fewer
# candidates are faster and surer; a language not listed is reported as the closest listed or None.
LANGUAGES = (
    Language.ENGLISH, Language.GERMAN, Language.FRENCH, Language.SPANISH, Language.ITALIAN, Language.DUTCH,
    Language.PORTUGUESE, Language.POLISH, Language.SWEDISH, Language.DANISH, Language.FINNISH, Language.CZECH,
)  # fmt: skip
READ_CHARS = 2000  # of subject and body: plenty to tell a language, and the work stays bounded
MIN_CHARS = 12  # shorter than this ("ok", "thanks!") is no evidence
MIN_CONFIDENCE = 0.5


@cache
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*LANGUAGES).with_low_accuracy_mode().build()


def detect_language(subject: str, body: str) -> str | None:
    """The ISO 639-1 code of the language the text is written in, or None when it cannot be told."""
    text = f"{subject}\n{body}"[:READ_CHARS]
    if sum(ch.isalpha() for ch in text) < MIN_CHARS:
        return None
    best = _detector().compute_language_confidence_values(text)[0]
    if best.value < MIN_CONFIDENCE:
        return None
    return best.language.iso_code_639_1.name.lower()
