"""Which attached files may go to the issue: of an allowed kind, by their names and their bytes; a zip
looked into one level; bounded."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage

import pytest

from inbox.attachments import FileLimits, judged, refusal
from inbox.file_kinds import KINDS, plain_name
from inbox.parse import attachable_files, parse_message
from workers.reply_settings import FILE_KINDS


def zipped(*entries: str | tuple[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for entry in entries:
            name, data = entry if isinstance(entry, tuple) else (entry, b"some text")
            archive.writestr(name, data)
    return buffer.getvalue()


PDF, PNG = b"%PDF-1.7\n...", b"\x89PNG\r\n\x1a\n..."
DOCX = zipped(("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>"))


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("report.pdf", PDF, None),
        ("screenshot.png", PNG, None),
        ("photo.JPG", b"\xff\xd8\xff\xe0...", None),
        ("app.log", b"2026-12-06 ERROR timeout\n", None),
        ("export.csv", "name;city\nRenée;Zürich\n".encode("latin-1"), None),
        ("contract.docx", DOCX, None),
        ("logs.zip", zipped("app.log", ("db/slow.log", b"slow query"), ("shot.png", PNG)), None),
        # Not of an allowed kind, whatever it is: nothing new slips through a list of what is refused.
        ("setup.exe", b"MZ\x90\x00", "a program or script (by its content)"),
        ("macro.js", b"var x = 1;", "not a file type the issue takes (.js;"),
        ("evil.js.", b"var x = 1;", "not a file type the issue takes (.js;"),
        ("App.msix", b"PK\x03\x04", "not a file type the issue takes (.msix;"),
        ("disk.vhdx", b"vhdxfile", "not a file type the issue takes (.vhdx;"),
        ("notes.one", b"\xe4\x52\x5c\x7b", "not a file type the issue takes (.one;"),
        ("help.chm", b"ITSF", "not a file type the issue takes (.chm;"),
        (
            "link.url",
            b"[InternetShortcut]\nURL=http://evil.example",
            "not a file type the issue takes (.url;",
        ),
        ("page.html", b"<html><script>", "not a file type the issue takes (.html;"),
        ("logo.svg", b"<svg onload=alert(1)>", "not a file type the issue takes (.svg;"),
        ("invoice\u202efdp.html", b"<html>", "not a file type the issue takes (.html;"),
        ("README", b"text", "not a file type the issue takes ((none);"),
        ("files.rar", b"Rar!\x1a\x07\x00", "not a file type the issue takes (.rar;"),
        ("logs.tar.gz", b"\x1f\x8b\x08", "not a file type the issue takes (.gz;"),
        # Its bytes are not what its name says.
        ("invoice.pdf", b"MZ\x90\x00 renamed", "a program or script (by its content)"),
        ("run.txt", b"#!/bin/sh\nrm -rf /", "a program or script (by its content)"),
        ("photo.png", b"<html><script>alert(1)</script>", "its content is not what its name says (.png)"),
        ("notes.txt", b"PK\x03\x04\x14\x00\x00\x00", "its content is not what its name says (.txt)"),
        ("report.pdf", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "its content is not what its name says (.pdf)"),
        # A zip is looked into, one level.
        ("bundle.zip", zipped("readme.txt", ("tools/installer.EXE", b"MZ")), "a zip holding installer.EXE"),
        ("nested.zip", zipped(("inner.zip", zipped("a.txt"))), "a zip holding inner.zip: not a file type"),
        ("hidden.zip", zipped(("inner.dat", zipped("a.txt"))), "a zip holding inner.dat: not a file type"),
        (
            "renamed.zip",
            zipped(("inner.txt", zipped("a.exe"))),
            "a zip holding inner.txt: its content is not",
        ),
        ("glued.zip", zipped("a.txt") + zipped(("evil.exe", b"MZ")), "zips glued together"),
        (
            "bomb.zip",
            zipped(("big.log", b"a" * 5_000_000), compression=zipfile.ZIP_DEFLATED),
            "a zip that unpacks to",
        ),
        ("broken.zip", b"PK\x03\x04 not really", "a zip that cannot be read"),
        (
            "macros.docx",
            zipped(("word/document.xml", b"<w/>"), ("word/vbaProject.bin", b"\xd0\xcf")),
            "a document with macros",
        ),
    ],
)
def test_only_files_of_an_allowed_kind_whose_bytes_agree_with_their_name_go(
    name: str, data: bytes, says: str | None
) -> None:
    found = refusal(name, data)
    assert (found is None) if says is None else (found is not None and found.startswith(says)), found


def test_the_kinds_allowed_are_a_setting() -> None:
    assert set(FILE_KINDS) == set(KINDS)  # TRIAGE_ATTACH_KINDS offers each kind there is
    assert refusal("shot.png", PNG, frozenset({"document"})) == (
        "not a file type the issue takes (.png; allowed: document)"
    )
    assert refusal("logs.zip", zipped("app.log"), frozenset({"archive"})) is not None  # a log is not allowed
    assert refusal("logs.zip", zipped("app.log"), frozenset({"archive", "log"})) is None


def test_bidi_zero_width_and_trailing_dots_leave_a_file_name() -> None:
    assert plain_name("invoice\u202efdp.html") == "invoicefdp.html"
    assert plain_name("evil.js. . ") == "evil.js" and plain_name("a\u200bb.pdf") == "ab.pdf"


def test_a_file_over_the_limit_and_files_past_the_tickets_total_are_left_out() -> None:
    limits = FileLimits()  # the defaults: 10 MB a file, 25 MB a ticket
    per_file, per_ticket = limits.per_file, limits.per_ticket
    files = [
        ("a.pdf", per_file + 1, b"%PDF-1.7"),
        ("b.pdf", per_file, b"%PDF-1.7"),
        ("c.pdf", per_file, b"%PDF-1.7"),
        ("d.pdf", per_ticket - 2 * per_file + 1, b"%PDF-1.7"),
        ("e.pdf", 10, b"%PDF-1.7"),
    ]
    assert judged(files, limits) == ["over 10 MB", None, None, "the ticket's files would pass 25 MB", None]
    smaller = FileLimits(per_file=2048, per_ticket=3000)  # TRIAGE_ATTACH_MAX_FILE_BYTES, _TICKET_BYTES
    assert judged(
        [("a.pdf", 2049, b"%PDF-1.7"), ("b.pdf", 2048, b"%PDF-1.7"), ("c.pdf", 1000, b"%PDF-1.7")], smaller
    ) == ["over 2048 bytes", None, "the ticket's files would pass 3000 bytes"]


def mail_with(*files: tuple[str, str, bytes]) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "jane@example.com", "files", "<f@example.com>"
    msg.set_content("See attached.")
    for name, ctype, data in files:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


def test_a_ticket_lists_every_file_with_its_verdict_and_the_mail_yields_the_fit_ones() -> None:
    raw = mail_with(
        ("report.pdf", "application/pdf", b"%PDF-1.7"), ("tool.exe", "application/octet-stream", b"MZ")
    )
    ticket = parse_message(raw, max_bytes=100_000).ticket
    assert [(a.filename, a.refused) for a in ticket.attachments] == [
        ("report.pdf", None),
        ("tool.exe", "a program or script (by its content)"),
    ]
    fit, left_out = attachable_files(raw, FileLimits())
    assert [(f.name, f.data) for f in fit] == [("report.pdf", b"%PDF-1.7")] and left_out == 1


def test_a_file_name_is_a_plain_name_without_folders_or_control_characters() -> None:
    raw = mail_with(
        ("../../etc/pass\x01wd.pdf", "application/pdf", b"%PDF-1.7"),
        ("C:\\Users\\x\\report.pdf", "application/pdf", b"%PDF-1.7"),
    )
    names = [a.filename for a in parse_message(raw, max_bytes=100_000).ticket.attachments]
    assert names == ["passwd.pdf", "report.pdf"]
