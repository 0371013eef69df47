"""The Maildir source: delivery order, exact bytes, processed only when marked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from inbox.maildir import MaildirSource
from inbox.source import MailboxMisconfigured
from tests.support import email_bytes, make_maildir


def test_pending_messages_come_in_delivery_order_with_their_exact_bytes(tmp_path: Path) -> None:
    first, second = email_bytes(subject="first", message_id="<1@x>"), email_bytes(subject="second")
    source = MaildirSource(make_maildir(tmp_path / "box", first, second))
    assert [d.raw for d in source.pending()] == [first, second]


def test_a_marked_message_is_not_pending_again_and_its_bytes_are_untouched(tmp_path: Path) -> None:
    raw = email_bytes().replace(b"\n", b"\r\n")
    source = MaildirSource(make_maildir(tmp_path / "box", raw))
    delivery = next(source.pending())
    source.mark_processed(delivery)
    assert list(source.pending()) == []
    [marked] = (tmp_path / "box" / "cur").iterdir()
    assert marked.name == f"{delivery.key}:2,S" and marked.read_bytes() == raw  # renamed, never rewritten


def test_flags_a_mail_client_set_are_kept_and_only_seen_messages_count_as_processed(tmp_path: Path) -> None:
    box = make_maildir(tmp_path / "box")
    (box / "cur" / "1.flagged:2,F").write_bytes(email_bytes(message_id="<flagged@x>"))
    (box / "cur" / "2.read:2,RS").write_bytes(email_bytes(message_id="<read@x>"))
    (box / "cur" / ".keep").write_bytes(b"")
    source = MaildirSource(box)
    [delivery] = source.pending()
    assert delivery.key == "1.flagged"
    source.mark_processed(delivery)
    assert sorted(p.name for p in (box / "cur").iterdir()) == [".keep", "1.flagged:2,FS", "2.read:2,RS"]


def test_delivery_ids_are_stable_across_polls(tmp_path: Path) -> None:
    source = MaildirSource(make_maildir(tmp_path / "box", email_bytes()))
    assert [d.delivery_id for d in source.pending()] == [
        d.delivery_id for d in MaildirSource(source.path).pending()
    ]


def test_a_poll_reads_only_the_messages_it_yields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    box = make_maildir(tmp_path / "box", email_bytes(message_id="<new@x>"))
    for i in range(3):  # cur/ keeps every processed message: a poll must not cost more as it grows
        (box / "cur" / f"{i}.seen:2,S").write_bytes(email_bytes(message_id=f"<seen-{i}@x>"))
    opened: list[str] = []
    path_open = Path.open
    monkeypatch.setattr(
        Path, "open", lambda path, *a, **k: opened.append(path.name) or path_open(path, *a, **k)
    )
    [delivery] = MaildirSource(box).pending()
    assert opened == [delivery.key]


def test_a_message_a_mail_client_flagged_after_the_scan_is_still_marked(tmp_path: Path) -> None:
    box = make_maildir(tmp_path / "box", email_bytes())
    source = MaildirSource(box)
    delivery = next(source.pending())
    [file] = (box / "new").iterdir()
    file.rename(box / "cur" / f"{delivery.key}:2,F")  # a client flags it while the poller works
    source.mark_processed(delivery)
    assert [p.name for p in (box / "cur").iterdir()] == [f"{delivery.key}:2,FS"]


def test_an_empty_folder_is_an_empty_maildir(tmp_path: Path) -> None:
    (tmp_path / "mail").mkdir()  # a fresh volume, as docker compose mounts var/mail
    assert list(MaildirSource(tmp_path / "mail").pending()) == []
    assert sorted(p.name for p in (tmp_path / "mail").iterdir()) == ["cur", "new", "tmp"]


@pytest.mark.parametrize(("make", "says"), [
    (lambda p: None, "does not exist"),
    (lambda p: (p.mkdir(), (p / "notes.txt").write_text("x")), "is not a Maildir (no cur/ or new/ folder)"),
])  # fmt: skip
def test_a_missing_folder_or_one_that_is_not_a_maildir_fails_the_poll_naming_the_setting(
    tmp_path: Path, make: Any, says: str
) -> None:
    make(tmp_path / "mail")
    with pytest.raises(MailboxMisconfigured, match=f"TRIAGE_MAILDIR: .* {re.escape(says)}"):
        list(MaildirSource(tmp_path / "mail").pending())


def test_a_message_over_the_limit_is_not_read_whole_only_its_head_comes_with_the_reason(
    tmp_path: Path,
) -> None:
    big = email_bytes(body="z" * 300_000)
    source = MaildirSource(
        make_maildir(tmp_path / "box", big, email_bytes(message_id="<small@x>")), max_bytes=100_000
    )
    first, second = source.pending()
    assert first.raw == big[:65536] and first.error is not None
    assert first.error.startswith(f"message is {len(big)} bytes, over the 100000-byte limit")
    assert second.raw is not None and second.error is None
