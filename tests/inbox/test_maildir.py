"""The Maildir source: delivery order, exact bytes, processed only when marked."""

from __future__ import annotations

from pathlib import Path

from inbox.maildir import MaildirSource
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
    assert MaildirSource(tmp_path / "box")._box.get_bytes(delivery.key) == raw  # renamed, never rewritten
    assert next(iter((tmp_path / "box" / "cur").iterdir())).name.endswith(":2,S")


def test_delivery_ids_are_stable_across_polls(tmp_path: Path) -> None:
    source = MaildirSource(make_maildir(tmp_path / "box", email_bytes()))
    assert [d.delivery_id for d in source.pending()] == [
        d.delivery_id for d in MaildirSource(source.path).pending()
    ]
