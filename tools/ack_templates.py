"""The acknowledgement's words: the built-in templates (tools/data/acknowledgements, one file per
language) and, over them, the operator's (TRIAGE_ACK_TEMPLATES_DIR: the same file names), each checked
when a worker starts so a typo stops it instead of a customer reading `${isue_key}`.

A template file is `Subject: <line>`, a blank line, then the body. Placeholders: ${issue_key},
${subject} (the customer's), ${greeting} (from greetings.json, by whether the name is known) and
${signature} (TRIAGE_ACK_SIGNATURE; without it in the body, the signature is appended after "-- ").
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

BUILT_IN = Path(__file__).resolve().parent / "data" / "acknowledgements"
PLACEHOLDERS = frozenset({"issue_key", "subject", "greeting", "signature"})
FALLBACK_LANGUAGE = "en"
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_MAX_TEMPLATE_BYTES = 20_000


class TemplateError(ValueError):
    """A template file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Template:
    """One language's acknowledgement: its subject line and body, with placeholders."""

    subject: string.Template
    body: string.Template


@dataclass(frozen=True)
class Templates:
    """Every language's template and greetings: the operator's where they have one, else built in."""

    by_language: dict[str, Template]
    greetings: dict[str, dict[str, str]]

    def language(self, wanted: str | None) -> str:
        """The language to answer in: the customer's where there is a template for it, else English."""
        return wanted if wanted in self.by_language else FALLBACK_LANGUAGE

    def greeting(self, language: str, name: str) -> str:
        """`Hello Ann,` or `Hello,`: the language's greeting (English where it has none)."""
        words = self.greetings.get(language) or self.greetings[FALLBACK_LANGUAGE]
        return string.Template(words["named" if name else "anonymous"]).safe_substitute(name=name)


def templates(folder: Path | None = None) -> Templates:
    """The built-in templates, with the operator's `folder` over them (read once per folder and change)."""
    if folder is None:
        return _read(None, ())
    stamps = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*")) if p.is_file())
    return _read(folder, stamps)


@cache
def _read(folder: Path | None, stamps: tuple[tuple[str, int], ...]) -> Templates:
    by_language = {p.stem: _template(p) for p in sorted(BUILT_IN.glob("*.txt"))}
    greetings = _greetings(BUILT_IN / "greetings.json")
    if folder is not None:
        for path in sorted(folder.glob("*.txt")):
            if not _LANGUAGE.match(path.stem):
                raise TemplateError(f"{path}: name a template by its language, like de.txt (ISO 639-1)")
            by_language[path.stem] = _template(path)
        if (own := folder / "greetings.json").exists():
            greetings |= _greetings(own)
    return Templates(by_language, greetings)


def _template(path: Path) -> Template:
    """Read and check one template file; TemplateError names the file and the fault."""
    raw = path.read_bytes()
    if len(raw) > _MAX_TEMPLATE_BYTES:
        raise TemplateError(f"{path}: {len(raw)} bytes; a template has at most {_MAX_TEMPLATE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TemplateError(f"{path}: not UTF-8 text") from None
    first, _, body = text.partition("\n\n")
    if not first.startswith("Subject: ") or "\n" in first.strip() or not body.strip():
        raise TemplateError(f"{path}: starts with one `Subject: ...` line, then a blank line, then the body")
    subject = string.Template(first.removeprefix("Subject: ").strip())
    checked = string.Template(body)
    for part in (subject, checked):
        if not part.is_valid():
            raise TemplateError(f"{path}: a `$` that starts no placeholder (write $$ for a dollar sign)")
        if unknown := sorted(set(part.get_identifiers()) - PLACEHOLDERS):
            raise TemplateError(
                f"{path}: unknown placeholder ${{{unknown[0]}}} (known: {', '.join(sorted(PLACEHOLDERS))})"
            )
    if "issue_key" not in subject.get_identifiers():
        raise TemplateError(f"{path}: the subject must carry ${{issue_key}} (replies are threaded by it)")
    return Template(subject, checked)


def _greetings(path: Path) -> dict[str, dict[str, str]]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        checked = {
            lang: {"named": str(words["named"]), "anonymous": str(words["anonymous"])}
            for lang, words in found.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TemplateError(
            f'{path}: a JSON object of {{"de": {{"named": "Guten Tag ${{name}},", "anonymous": ...}}}}: {exc}'
        ) from None
    return checked
