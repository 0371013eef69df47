"""Which attached files may go to the issue: judged by their bytes as well as their names, bounded."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage

import pytest

from inbox.attachments import FileLimits, judged, refusal
from inbox.parse import attachable_files, parse_message


def zipped(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"data")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("report.pdf", b"%PDF-1.7 ...", None),
        ("screenshot.png", b"\x89PNG\r\n\x1a\n...", None),
        ("logs.zip", zipped("app.log", "db/slow.log"), None),
        ("setup.exe", b"MZ\x90\x00", "a program or script (exe)"),
        ("invoice.pdf", b"MZ\x90\x00 renamed", "a program or script (by its content)"),
        ("run.txt", b"#!/bin/sh\nrm -rf /", "a program or script (by its content)"),
        ("macro.js", b"var x = 1;", "a program or script (js)"),
        ("bundle.zip", zipped("readme.txt", "tools/installer.EXE"), "a zip holding a program or script"),
        ("nested.zip", zipped("inner.zip"), "a zip holding another archive"),
        ("broken.zip", b"PK\x03\x04 not really", "a zip that cannot be read"),
        ("files.rar", b"Rar!\x1a\x07\x00", "a RAR archive, which cannot be looked into"),
        ("logs.tar.gz", b"\x1f\x8b\x08", "an archive that cannot be looked into"),
    ],
)
def test_programs_and_archives_that_hold_or_hide_them_are_refused(
    name: str, data: bytes, says: str | None
) -> None:
    found = refusal(name, data)
    assert (found is None) if says is None else (found is not None and found.startswith(says))


def test_a_file_over_the_limit_and_files_past_the_tickets_total_are_left_out() -> None:
    limits = FileLimits()  # the defaults: 10 MB a file, 25 MB a ticket
    per_file, per_ticket = limits.per_file, limits.per_ticket
    files = [("a.pdf", per_file + 1, b"%PDF"), ("b.pdf", per_file, b"%PDF"),
             ("c.pdf", per_file, b"%PDF"), ("d.pdf", per_ticket - 2 * per_file + 1, b"%PDF"),
             ("e.pdf", 10, b"%PDF")]  # fmt: skip
    assert judged(files, limits) == ["over 10 MB", None, None, "the ticket's files would pass 25 MB", None]
    smaller = FileLimits(per_file=2048, per_ticket=3000)  # TRIAGE_ATTACH_MAX_FILE_BYTES, _TICKET_BYTES
    assert judged(
        [("a.pdf", 2049, b"%PDF"), ("b.pdf", 2048, b"%PDF"), ("c.pdf", 1000, b"%PDF")], smaller
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
        ("report.pdf", None), ("tool.exe", "a program or script (exe)")]  # fmt: skip
    fit, left_out = attachable_files(raw, FileLimits())
    assert [(f.name, f.data) for f in fit] == [("report.pdf", b"%PDF-1.7")] and left_out == 1


def test_a_file_name_is_a_plain_name_without_folders_or_control_characters() -> None:
    raw = mail_with(("../../etc/pass\x01wd.pdf", "application/pdf", b"%PDF"),
                    ("C:\\Users\\x\\report.pdf", "application/pdf", b"%PDF"))  # fmt: skip
    names = [a.filename for a in parse_message(raw, max_bytes=100_000).ticket.attachments]
    assert names == ["passwd.pdf", "report.pdf"]
