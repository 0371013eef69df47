"""Readable text from e-mail bodies: HTML to text, and trimming quoted history and signatures."""

from __future__ import annotations

import html
import re

_BLOCK_TAGS = {
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "table", "ul", "ol", "hr", "section", "article",
}  # fmt: skip
_TAG_NAME = re.compile(r"/?([A-Za-z][A-Za-z0-9-]{0,40})")
_TAG_END_OR_QUOTE = re.compile(r"[>\"']")
_SKIPPED_UNTIL = {tag: re.compile(rf"</{tag}\s*>", re.IGNORECASE) for tag in ("script", "style", "title")}


MAX_HTML_CHARS = 2_000_000  # of an HTML body, what is read (its text is kept to far less: parse.py)


class _Text:
    """The visible text being collected, with line breaks at block boundaries and quoted blocks marked."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.quote_depth = 0
        self.in_head = False  # the <head>'s text is never shown

    def data(self, raw: str) -> None:
        if self.in_head:
            return
        text = re.sub(r"\s+", " ", html.unescape(raw))
        if self.quote_depth:  # quoted history in HTML mail lives in <blockquote>: mark it as text quotes
            text = "\n".join("> " + line for line in text.split("\n"))
        self._add(text)

    def tag(self, name: str, closing: bool) -> None:
        if name == "head":
            self.in_head = not closing
        if name == "blockquote":
            self.quote_depth = max(0, self.quote_depth + (-1 if closing else 1))
        if name in _BLOCK_TAGS:
            self._add("\n")
        if name == "li" and not closing:
            self._add("- ")

    def _add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)


def html_to_text(document: str, limit: int = MAX_HTML_CHARS) -> str:
    """Convert an HTML body to plain readable text (visible text, one block per line).

    Linear in the document, whatever it holds: the standard library's HTMLParser takes quadratic time on
    constructs that never end (1 MB of `<!--` or `<a ` took minutes), so this reads tags with forward
    searches only, and a construct that never ends (a comment, a tag, a quoted attribute, a script) ends
    the document there, as a browser hides what follows it. It reads the first MAX_HTML_CHARS and stops
    once it has `limit` characters of text."""
    document = document[:MAX_HTML_CHARS]
    text, pos = _Text(), 0
    while pos < len(document) and text.size <= limit:
        lt = document.find("<", pos)
        if lt == -1:
            text.data(document[pos:])
            break
        text.data(document[pos:lt])
        pos = _after_markup(document, lt, text)
        if pos < 0:
            break
    lines = [line.strip() for line in "".join(text.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _after_markup(document: str, lt: int, text: _Text) -> int:
    """Read the markup starting at `lt` (a tag, a comment, a declaration, or a plain `<`); where reading
    goes on, or -1 when it never ends."""
    if document.startswith("<!--", lt):
        end = document.find("-->", lt + 4)
        return end + 3 if end != -1 else -1
    name = _TAG_NAME.match(document, lt + 1)
    if name is None and not document.startswith(("<!", "<?"), lt):
        text.data("<")  # "a < b": a plain character
        return lt + 1
    end = _tag_end(document, lt + 1)
    if end == -1 or name is None:  # a declaration or processing instruction shows nothing
        return end
    tag, closing = name.group(1).lower(), name.group(0).startswith("/")
    text.tag(tag, closing)
    if tag in _SKIPPED_UNTIL and not closing:  # its content is never text, whatever it looks like
        found = _SKIPPED_UNTIL[tag].search(document, end)
        return found.end() if found else -1
    return end


def _tag_end(document: str, start: int) -> int:
    """Where the tag from `start` ends (after its `>`, quoted attribute values skipped), or -1."""
    pos = start
    while (found := _TAG_END_OR_QUOTE.search(document, pos)) is not None:
        if found.group() == ">":
            return found.end()
        close = document.find(found.group(), found.end())
        if close == -1:
            return -1
        pos = close + 1
    return -1


def cut(text: str, limit: int) -> str:
    """The text, or its first `limit` characters with a note saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters not kept]"


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
