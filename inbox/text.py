"""Readable text from e-mail bodies: HTML to text, and trimming quoted history and signatures."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK_TAGS = {
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "table", "ul", "ol", "hr", "section", "article",
}  # fmt: skip
_SKIP_TAGS = {"script", "style", "head", "title"}


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML document, with line breaks at block boundaries."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag == "blockquote":
            self._quote_depth += 1
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        text = re.sub(r"\s+", " ", data)
        if self._quote_depth:
            # Quoted history in HTML mail lives in <blockquote>; mark it like plain-text quoting.
            text = "\n".join("> " + line for line in text.split("\n"))
        self.parts.append(text)


def cut(text: str, limit: int) -> str:
    """The text, or its first `limit` characters with a note saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters not kept]"


def html_to_text(html: str) -> str:
    """Convert an HTML body to plain readable text (visible text, one block per line)."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # a broken document still yields whatever text was read
        pass
    lines = [line.strip() for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_REPLY_HEADER = re.compile(
    r"^(On\s.{1,300}?\swrote:"  # Gmail, Apple Mail, Thunderbird
    r"|-{2,}\s*Original Message\s*-{2,}"  # Outlook
    r"|_{10,}"  # Outlook's rule line before the quoted header block
    r"|Le\s.{1,200}\sa écrit\s?:"
    r"|Am\s.{1,200}\sschrieb\s.{0,100}:"
    r"|El\s.{1,200}\sescribió:)\s*$",
    re.IGNORECASE,
)
_FORWARDED_HEADER = re.compile(r"^\*?(From|Von|De):\*?\s.+", re.IGNORECASE)
_HEADER_FOLLOWER = re.compile(r"^\*?(Sent|Date|To|Subject|Gesendet|Envoyé|Datum):\*?\s", re.IGNORECASE)
_SIG_DELIMITER = re.compile(r"^--\s?$")
_MOBILE_SIG = re.compile(
    r"^(Sent from my .{1,40}|Get Outlook for .{1,30}|Sent from Mail for Windows.*)$", re.I
)


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _drop_quotes(lines: list[str]) -> list[str]:
    """Remove quoted history, keeping any new text written below or between the quotes."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        joined = " ".join(part.strip() for part in lines[i : i + 3])
        attribution = _REPLY_HEADER.match(stripped) or (
            stripped.lower().startswith("on ") and "wrote:" in joined and _REPLY_HEADER.match(joined)
        )
        forwarded = _FORWARDED_HEADER.match(stripped) and any(
            _HEADER_FOLLOWER.match(nxt.strip()) for nxt in lines[i + 1 : i + 4]
        )
        if attribution or forwarded:
            rest = [line for line in lines[i + 1 :] if line.strip()]
            if attribution and rest and _is_quoted(rest[0]):
                # "On ... wrote:" then "> ..." lines: the reply may sit below the quote (bottom-posting).
                start = next((j for j in range(i + 1, len(lines)) if _is_quoted(lines[j])), len(lines))
                # Lines before the first quote are the rest of a wrapped attribution line.
                return lines[:i] + [line for line in lines[start:] if not _is_quoted(line)]
            return lines[:i]  # Outlook style: everything after the header block is history
    first_quote = next((i for i, line in enumerate(lines) if _is_quoted(line)), None)
    if first_quote is None:
        return lines
    start = first_quote
    before = start - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    if before >= 0 and lines[before].rstrip().endswith(":"):
        # An attribution line in any language ("... написал:"), possibly wrapped over two lines.
        start = before
        if (
            before > 0
            and lines[before - 1].strip()
            and not lines[before - 1].rstrip().endswith((".", "!", "?"))
        ):
            start = before - 1
    return lines[:start] + [line for line in lines[first_quote:] if not _is_quoted(line)]


def split_reply(text: str) -> tuple[str, str]:
    """Split a plain-text body into (new text, signature), dropping quoted history where it is clear."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = _drop_quotes(lines)
    signature: list[str] = []
    for i, line in enumerate(lines):
        if _SIG_DELIMITER.match(line):
            signature = lines[i + 1 :]
            lines = lines[:i]
            break
    lines = [line for line in lines if not _MOBILE_SIG.match(line.strip())]
    body = "\n".join(line.rstrip() for line in lines).strip()
    return re.sub(r"\n{3,}", "\n\n", body), "\n".join(signature).strip()
