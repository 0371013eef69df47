"""What a customer attached, and which of it may go to the issue: never an executable, never an archive
that holds one (or that cannot be looked into), nothing over the size limits. Judged from the bytes, not
only the name: a renamed program is still a program. Bounded: only the first bytes of each file and the
first entries of a zip's directory are read."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

MAX_ZIP_ENTRIES = 1000  # a zip with more is not looked into, and not attached
_EXECUTABLE_NAMES = (
    ".exe", ".dll", ".com", ".scr", ".pif", ".cpl", ".msi", ".msp", ".bat", ".cmd", ".ps1", ".psm1", ".vbs",
    ".vbe", ".js", ".jse", ".wsf", ".wsh", ".hta", ".lnk", ".jar", ".apk", ".app", ".dmg", ".pkg", ".deb",
    ".rpm", ".sh", ".bin", ".run", ".elf", ".so", ".dylib", ".reg", ".iso", ".img", ".vhd", ".xll", ".appx",
)  # fmt: skip
_EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe",
                     b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")  # fmt: skip
_OPAQUE_ARCHIVES = {b"Rar!": "a RAR archive", b"7z\xbc\xaf": "a 7-Zip archive"}
_ARCHIVE_NAMES = (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".cab", ".arj", ".ace")


@dataclass(frozen=True)
class FileLimits:
    """How much of a ticket's files may go to its issue (TRIAGE_ATTACH_MAX_FILE_BYTES and
    TRIAGE_ATTACH_MAX_TICKET_BYTES): each file at most `per_file` bytes, all attached together at most
    `per_ticket` (Jira Cloud takes more; a support issue needs less)."""

    per_file: int = 10 * 1024 * 1024
    per_ticket: int = 25 * 1024 * 1024


DEFAULT_LIMITS = FileLimits()


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n % (1024 * 1024) == 0 else f"{n} bytes"


@dataclass(frozen=True)
class File:
    """One attached file: its name (as the mail gave it, or made up), type and decoded bytes."""

    name: str
    content_type: str
    data: bytes


def refusal(name: str, data: bytes) -> str | None:
    """Why this file must not go to the issue (by its name and its bytes), or None when it may."""
    lowered = name.lower()
    if lowered.endswith(_EXECUTABLE_NAMES):
        return f"a program or script ({lowered.rpartition('.')[2]})"
    if data.startswith(_EXECUTABLE_MAGIC):
        return "a program or script (by its content)"
    for magic, what in _OPAQUE_ARCHIVES.items():
        if data.startswith(magic):
            return f"{what}, which cannot be looked into"
    if data.startswith(b"PK\x03\x04") or lowered.endswith(".zip"):
        return _zip_refusal(data)
    if lowered.endswith(_ARCHIVE_NAMES):
        return "an archive that cannot be looked into"
    return None


def _zip_refusal(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                return f"a zip of over {MAX_ZIP_ENTRIES} files"
            for entry in entries:
                inner = entry.filename.lower()
                if inner.endswith(_EXECUTABLE_NAMES):
                    return f"a zip holding a program or script ({entry.filename[:80]})"
                if inner.endswith(_ARCHIVE_NAMES):
                    return f"a zip holding another archive ({entry.filename[:80]})"
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return "a zip that cannot be read"
    return None


def judged(files: list[tuple[str, int, bytes]], limits: FileLimits) -> list[str | None]:
    """For (name, size, bytes) of a ticket's files in order: why each is left out, or None to attach it
    (each within the limit of a file, all attached together within the limit of a ticket)."""
    verdicts: list[str | None] = []
    total = 0
    for name, size, data in files:
        why = refusal(name, data)
        if why is None and size > limits.per_file:
            why = f"over {_size(limits.per_file)}"
        if why is None and total + size > limits.per_ticket:
            why = f"the ticket's files would pass {_size(limits.per_ticket)}"
        if why is None:
            total += size
        verdicts.append(why)
    return verdicts
