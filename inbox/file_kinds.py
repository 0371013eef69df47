"""The kinds of file a customer may send to the issue, by allow-list: each kind's names (the last
extension) and the first bytes a file of it begins with. A file whose name is of no allowed kind, or
whose bytes are not what its name says, does not go: a list of what is allowed cannot miss a new
dangerous type (`.one`, `.msix`, `.vhdx`) the way a list of what is refused does."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

SNIFFED_BYTES = 4096  # of a file's start read to tell its content


def _starts(*magic: bytes) -> Callable[[bytes], bool]:
    return lambda data: data.startswith(magic)


def _pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]  # some writers put bytes before the header; readers look this far


def _text(data: bytes) -> bool:
    """Text: no NUL in the start, and it reads as UTF-8 (or a one-byte charset: any bytes but NUL do)."""
    return b"\x00" not in data[:SNIFFED_BYTES]


def _heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif")


def _webp(data: bytes) -> bool:
    return data.startswith(b"RIFF") and data[8:12] == b"WEBP"


_ZIP = _starts(b"PK\x03\x04", b"PK\x05\x06")  # a zip, or an empty one
_OLE = _starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # legacy Office (.doc, .xls, .ppt)
_JPEG, _PNG, _GIF = _starts(b"\xff\xd8\xff"), _starts(b"\x89PNG\r\n\x1a\n"), _starts(b"GIF87a", b"GIF89a")
_TIFF, _BMP, _RTF = _starts(b"II*\x00", b"MM\x00*"), _starts(b"BM"), _starts(b"{\\rtf")


@dataclass(frozen=True)
class Kind:
    """One kind of file: its extensions, each with the test its bytes must pass."""

    name: str
    extensions: dict[str, Callable[[bytes], bool]]


KINDS = {
    kind.name: kind
    for kind in (
        Kind(
            "document",
            {".pdf": _pdf, ".rtf": _RTF, ".doc": _OLE, ".xls": _OLE, ".ppt": _OLE}
            | dict.fromkeys((".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp"), _ZIP),
        ),
        Kind(
            "image",
            {".png": _PNG, ".jpg": _JPEG, ".jpeg": _JPEG, ".gif": _GIF, ".bmp": _BMP, ".webp": _webp}
            | {".tif": _TIFF, ".tiff": _TIFF, ".heic": _heif, ".heif": _heif, ".avif": _heif},
        ),
        Kind("text", dict.fromkeys((".txt", ".csv", ".tsv", ".md", ".json", ".yaml", ".yml"), _text)),
        Kind("log", dict.fromkeys((".log", ".out", ".err", ".trace", ".har"), _text)),
        Kind("archive", {".zip": _ZIP}),
    )
}
DEFAULT_KINDS = frozenset(KINDS)

_HIDING = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def plain_name(name: str) -> str:
    """A file name as it is judged and shown: no control, bidi or zero-width characters (that make
    `invoice\u202efdp.html` read as `invoicelmth.pdf`), no folders, and no trailing dots or spaces
    (Windows drops them: `evil.js.` opens as `evil.js`); at most 200 characters."""
    flat = _HIDING.sub("", name).replace("\\", "/").rpartition("/")[2]
    return flat.strip().rstrip(". ").strip()[:200]


def extension(name: str) -> str:
    """The last extension of a name, lower case ('' when it has none)."""
    stem, dot, ext = plain_name(name).lower().rpartition(".")
    return f".{ext}" if dot and stem else ""


def kind_of(name: str, allowed: frozenset[str]) -> Kind | None:
    """The allowed kind a name is of, or None."""
    ext = extension(name)
    return next((KINDS[k] for k in sorted(allowed) if k in KINDS and ext in KINDS[k].extensions), None)


# Programs by their first bytes (Windows, ELF, Mach-O, scripts): refused whatever the name says.
_PROGRAM = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)


def content_refusal(name: str, data: bytes, allowed: frozenset[str]) -> str | None:
    """Why a file of this name and these first bytes is not of an allowed kind, or None when it is."""
    if data.startswith(_PROGRAM):
        return "a program or script (by its content)"
    kind = kind_of(name, allowed)
    ext = extension(name) or "(none)"
    if kind is None:
        return f"not a file type the issue takes ({ext}; allowed: {', '.join(sorted(allowed))})"
    if not kind.extensions[ext](data[:SNIFFED_BYTES]):
        return f"its content is not what its name says ({ext})"
    return None
