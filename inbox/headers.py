"""Header values as text: RFC 2047 words and raw 8-bit bytes decoded, bounded, in the charset the sender
meant (or UTF-8). The one way the inbox reads a header or a declared charset."""

from __future__ import annotations

import encodings
import pkgutil
import re
from email.header import Header, decode_header
from encodings import normalize_encoding
from encodings.aliases import aliases

MAX_HEADER_CHARS = 4096  # of one header's value; RFC 5322 lines stop at 998, folded headers rarely pass 4 KB


# Senders label text with a charset narrower than what they wrote; decode with the superset.
_CHARSET_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "iso-8859-8-i": "iso-8859-8",
    "unknown-8bit": "utf-8",
}


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode bytes in a declared charset, tolerating unknown names, codecs that are no text encoding
    (idna, rot13 raise instead of replacing) and bad bytes: anything else is read as UTF-8. Only a
    charset the standard library ships is looked up (an invented name would stay in its codec cache for
    good), and never one whose decoder takes quadratic time (punycode) or runs escapes."""
    name = _known_charset(charset)
    try:
        return data.decode(name, "replace")
    except Exception:
        return data.decode("utf-8", "replace")


def known_charset(charset: str) -> bool:
    """Whether text declared in this charset is read in it (else it is read as UTF-8)."""
    return _codec_of(charset) is not None


def _known_charset(charset: str | None) -> str:
    """The codec to decode with: the declared charset (or its superset) when it is a plain text encoding
    the standard library ships, else UTF-8."""
    return _codec_of(charset or "utf-8") or "utf-8"


def _codec_of(charset: str) -> str | None:
    """The declared charset (or its superset) when it is a plain text encoding the standard library
    ships; None when it is not."""
    declared = charset.strip().strip('"').lower()[:40]
    declared = _CHARSET_SUPERSETS.get(declared, declared)
    name = normalize_encoding(declared).lower()
    return declared if aliases.get(name, name) in _TEXT_CODECS else None


# The codecs the standard library ships, less those that are no charset a mail may declare: quadratic
# (punycode), escape interpreters, binary transforms, platform-only ones.
_NOT_CHARSETS = {
    "punycode",
    "idna",
    "raw_unicode_escape",
    "unicode_escape",
    "undefined",
    "charmap",
    "aliases",
}
_NOT_CHARSETS |= {
    "uu_codec",
    "rot_13",
    "base64_codec",
    "hex_codec",
    "zlib_codec",
    "bz2_codec",
    "quopri_codec",
}
_NOT_CHARSETS |= {"mbcs", "oem"}  # Windows only
_TEXT_CODECS = {m.name for m in pkgutil.iter_modules(encodings.__path__)} - _NOT_CHARSETS


def raw_header(value: object) -> str:
    """A header value as sent, bounded: raw 8-bit bytes read (as UTF-8, RFC 6532), RFC 2047 words not
    decoded (what an address parser must see: a decoded word could pose as an address)."""
    if value is None:
        return ""
    if isinstance(value, Header):  # raw 8-bit bytes in the header (RFC 6532 UTF-8, mostly)
        chunks = decode_header(value)
        value = "".join(decode_bytes(c, charset) if isinstance(c, bytes) else c for c, charset in chunks)
    raw = str(value)[:MAX_HEADER_CHARS]
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        raw = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return raw


def header_text(value: object) -> str:
    """A header value as clean text: RFC 2047 words decoded, raw 8-bit bytes read as UTF-8."""
    raw = raw_header(value)
    try:
        chunks = decode_header(raw)
        decoded = "".join(
            decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk for chunk, charset in chunks
        )
    except Exception:  # a broken encoded-word: keep the raw text
        decoded = raw
    return re.sub(r"\s+", " ", decoded).strip()
