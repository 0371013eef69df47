"""Long-term memory on real Chroma: embedded in a folder, and on a real `chroma run` server."""

from __future__ import annotations

import math
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.memory.chroma import Memory, MemoryUnavailable
from agent.memory.embedding import MAX_CHARS, HashedNgrams
from inbox.ticket import Ticket
from tests.chroma_server import ChromaServer
from tools.memory_port import Remembered

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_texts_that_share_wording_are_closer_than_texts_that_do_not() -> None:
    embed = HashedNgrams().embed
    outage, same_outage, invoice = embed([
        "The CSV export produces an empty file since this morning",
        "Since today our CSV exports come out empty, nothing in the files",
        "Please send a corrected invoice with our VAT number",
    ])  # fmt: skip
    assert cosine(outage, same_outage) > 0.3 > cosine(outage, invoice)
    assert math.isclose(cosine(outage, outage), 1.0)


def test_an_embedding_reads_a_bounded_prefix_of_the_text() -> None:
    embed = HashedNgrams(dimension=64).embed
    head = "word " * (MAX_CHARS // 5)
    assert embed([head + "tail " * 100_000]) == embed([head])
    assert embed([""]) == [[0.0] * 64]


def ticket(ticket_id: str, subject: str, body: str, sender: str = "ann@example.com", **at: int) -> Ticket:
    return Ticket(id=ticket_id, message_id=f"{ticket_id}@x", subject=subject, sender=sender,
                  sender_name="", body=body, received_at=AT + timedelta(**at), size=1)  # fmt: skip


def remembered(t: Ticket, **found: str) -> Remembered:
    return Remembered(ticket_id=t.id, subject=t.subject, body=t.body, sender=t.sender,
                      received_at=t.received_at, seen_at=t.received_at, **found)  # fmt: skip


def exercise(memory: Memory) -> None:
    """What every memory does, wherever it lives."""
    export = ticket("T1", "Export is empty", "The CSV export gives an empty file since the update")
    invoice = ticket(
        "T2", "Invoice wrong", "The invoice shows the wrong VAT number", sender="Bob@Example.com"
    )
    for t, found in ((export, {"category": "bug", "issue_key": "SUP-1"}), (invoice, {"category": "billing"})):
        memory.remember(remembered(t, **found))
    memory.remember(remembered(export, category="bug", issue_key="SUP-1"))  # again: still one entry
    assert memory.count() == 2

    later = ticket("T3", "CSV export empty again", "Our CSV export is an empty file", hours=2)
    recall = memory.recall(later)
    assert recall.similar[0].ticket_id == "T1"
    assert recall.similar[0].category == "bug" and recall.similar[0].issue_key == "SUP-1"
    assert recall.similar[0].similarity > recall.similar[1].similarity
    assert [c.ticket_id for c in recall.history] == ["T1"]  # the same sender, not Bob
    assert memory.recall(export).similar[0].ticket_id != "T1"  # a ticket is not its own neighbour
    assert memory.recall(later, history_since=AT + timedelta(hours=1)).history == []
    forged = Remembered(**{**remembered(later).model_dump(), "received_at": datetime(2099, 1, 1, tzinfo=UTC)})
    memory.remember(forged)  # a Date header from 2099: memory goes by when the ticket was handled

    assert memory.forget_sender("bob@example.com") == 1  # addresses compare without case
    assert memory.expire(before=AT + timedelta(minutes=1)) == 1
    assert memory.expire(before=AT + timedelta(hours=3)) == 1  # the forged date did not keep it
    assert memory.count() == 0


def test_an_embedded_memory_remembers_recalls_and_forgets(tmp_path: Path) -> None:
    exercise(Memory(HashedNgrams(), "test", path=tmp_path / "memory"))


def test_two_namespaces_do_not_share_a_memory(tmp_path: Path) -> None:
    one = Memory(HashedNgrams(), "one", path=tmp_path / "memory")
    one.remember(remembered(ticket("T1", "Export is empty", "empty CSV")))
    assert Memory(HashedNgrams(), "two", path=tmp_path / "memory").count() == 0


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_a_memory_on_a_chroma_server_does_the_same(chroma: ChromaServer) -> None:
    exercise(Memory(HashedNgrams(), "test", url=chroma.url))


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_a_server_that_stops_is_unavailable_until_it_is_back(chroma: ChromaServer) -> None:
    memory = Memory(HashedNgrams(), "test", url=chroma.url)
    t = ticket("T1", "Export is empty", "The CSV export is empty")
    memory.remember(remembered(t))
    chroma.stop()
    with pytest.raises(MemoryUnavailable, match="Chroma at http://127.0.0.1"):
        memory.recall(t)
    chroma.start()
    assert memory.count() == 1


@pytest.mark.timeout(60)
def test_a_server_that_accepts_and_never_answers_is_unavailable_within_the_deadline() -> None:
    with socket.socket() as silent:  # the kernel completes the handshake; nobody ever reads or answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        memory = Memory(
            HashedNgrams(), "test", url=f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=1
        )
        with pytest.raises(MemoryUnavailable, match="ReadTimeout"):  # not a hang (the test's timeout)
            memory.count()
