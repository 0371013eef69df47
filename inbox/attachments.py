"""What a customer attached, and which of it may go to the issue: files of the kinds allowed
(inbox/file_kinds.py: documents, images, text, logs, zips; TRIAGE_ATTACH_KINDS) whose bytes are what
their names say, a zip only when everything in it is allowed too (one level: no archive in an archive)
and it does not unpack to far more than it weighs, nothing over the size limits. Bounded: only the
first bytes of each file, and of each of a zip's first entries, are read."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from inbox.file_kinds import DEFAULT_KINDS, SNIFFED_BYTES, content_refusal, extension, plain_name

MAX_ZIP_ENTRIES = 1000  # a zip with more is not looked into, and not attached
MAX_ZIP_RATIO = 100  # a zip that unpacks to more than this many times its size is a bomb, not logs
MAX_ZIP_UNPACKED = 200 * 1024 * 1024  # nor one that unpacks to more than this in all
_OFFICE_ZIPS = (".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp")


@dataclass(frozen=True)
class FileLimits:
    """How much of a ticket's files may go to its issue (TRIAGE_ATTACH_MAX_FILE_BYTES and
    TRIAGE_ATTACH_MAX_TICKET_BYTES): each file at most `per_file` bytes, all attached together at most
    `per_ticket` (Jira Cloud takes more; a support issue needs less)."""

    per_file: int = 10 * 1024 * 1024
    per_ticket: int = 25 * 1024 * 1024
    kinds: frozenset[str] = field(default=DEFAULT_KINDS)  # TRIAGE_ATTACH_KINDS


DEFAULT_LIMITS = FileLimits()


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n % (1024 * 1024) == 0 else f"{n} bytes"


@dataclass(frozen=True)
class File:
    """One attached file: its name (as the mail gave it, or made up), type and decoded bytes."""

    name: str
    content_type: str
    data: bytes


def refusal(name: str, data: bytes, kinds: frozenset[str] = DEFAULT_KINDS) -> str | None:
    """Why this file must not go to the issue (by its name and its bytes), or None when it may."""
    if why := content_refusal(name, data, kinds):
        return why
    if extension(name) == ".zip":
        return _zip_refusal(data, kinds)
    if extension(name) in _OFFICE_ZIPS:
        return _macro_refusal(data)
    return None


def _zip_refusal(data: bytes, kinds: frozenset[str]) -> str | None:
    """Why a zip must not go: what it holds, looked into one level, or what it would unpack to."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                return f"a zip of over {MAX_ZIP_ENTRIES} files"
            if entries and min(e.header_offset for e in entries) > 0:  # bytes before its first file
                return "zips glued together (one hides the other)"
            unpacked = sum(e.file_size for e in entries)
            if unpacked > MAX_ZIP_UNPACKED or unpacked > MAX_ZIP_RATIO * max(len(data), 1):
                return f"a zip that unpacks to {unpacked:,} bytes (a zip bomb?)"
            for entry in (e for e in entries if not e.is_dir()):
                with archive.open(entry) as inner:
                    start = inner.read(SNIFFED_BYTES)
                why = content_refusal(entry.filename, start, kinds - {"archive"})
                if why is not None:
                    return f"a zip holding {plain_name(entry.filename)[:80]}: {why}"
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, RuntimeError):
        return "a zip that cannot be read"
    return None


def _macro_refusal(data: bytes) -> str | None:
    """Why an Office document must not go (it carries macros, or is no readable document), or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [e.filename.lower() for e in archive.infolist()[:MAX_ZIP_ENTRIES]]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return "a document that cannot be read"
    if any(n.endswith("vbaproject.bin") or n.startswith("basic/") for n in names):
        return "a document with macros"
    return None


def judged(files: list[tuple[str, int, bytes]], limits: FileLimits) -> list[str | None]:
    """For (name, size, bytes) of a ticket's files in order: why each is left out, or None to attach it
    (each within the limit of a file, all attached together within the limit of a ticket)."""
    verdicts: list[str | None] = []
    total = 0
    for name, size, data in files:
        why = refusal(name, data, limits.kinds)
        if why is None and size > limits.per_file:
            why = f"over {_size(limits.per_file)}"
        if why is None and total + size > limits.per_ticket:
            why = f"the ticket's files would pass {_size(limits.per_ticket)}"
        if why is None:
            total += size
        verdicts.append(why)
    return verdicts
