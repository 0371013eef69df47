"""The incident register on the real Redis: who opens an incident, who joins it, and that a ticket
belongs to at most one, however many workers judge at the same moment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from agent.store import RunStore
from tools.incident_port import Incident, Member

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def member(ticket: str, sender: str | None = None) -> Member:
    return Member(
        ticket_id=ticket,
        sender=sender or f"someone@{ticket.lower()}.example",
        issue_key=f"SUP-{ticket[1:]}",
        joined_at=NOW,
    )


def fresh(ticket: str) -> Incident:
    return Incident(id=f"INC-{ticket}", title=f"report {ticket}", opened_at=NOW)


def judge(store: RunStore, ticket: str, like: list[str], senders: dict[str, str] | None = None) -> str | None:
    senders = senders or {}
    candidates = [member(t, senders.get(t)) for t in (ticket, *like)]
    return store.incidents.open_or_join(fresh(ticket), candidates, min_reports=3, quorum=2)


def test_three_customers_open_one_incident_with_every_report_as_a_member(store: RunStore) -> None:
    assert judge(store, "T1", []) is None
    assert judge(store, "T2", ["T1"]) is None  # two customers: not yet
    assert judge(store, "T3", ["T2", "T1"]) == "INC-T3"
    incident = store.incidents.get("INC-T3")
    assert incident is not None and incident.title == "report T3" and incident.problem_key is None
    assert {m.ticket_id for m in incident.members} == {"T1", "T2", "T3"}
    assert {m.ticket_id for m in store.incidents.unlinked("INC-T3")} == {"T1", "T2", "T3"}
    assert [store.incidents.incident_of(t) for t in ("T1", "T2", "T3")] == ["INC-T3"] * 3


def test_one_customer_writing_three_times_is_not_an_incident(store: RunStore) -> None:
    same = {"T1": "ann@example.com", "T2": "ann@example.com", "T3": "ann@example.com", "T4": "bo@example.com"}
    assert judge(store, "T3", ["T1", "T2"], same) is None
    assert judge(store, "T4", ["T1", "T2", "T3"], same) is None  # two customers, four mails
    assert store.incidents.incident_of("T4") is None


def test_one_strangers_many_addresses_are_one_reporter(store: RunStore) -> None:
    tagged = {"T1": "eve+1@gmail.com", "T2": "E.V.E+2@googlemail.com", "T3": "ann@shop.example"}
    assert judge(store, "T3", ["T1", "T2"], tagged) is None  # two mailboxes: eve's and ann's
    one_domain = {"T4": "a@evil.example", "T5": "b@evil.example", "T6": "c@evil.example"}
    assert judge(store, "T6", ["T4", "T5"], one_domain) is None  # three mailboxes of one domain
    two_domains = {**one_domain, "T7": "ann@shop.example"}
    assert judge(store, "T7", ["T4", "T5"], two_domains) == "INC-T7"


def test_a_later_report_joins_when_two_members_are_like_it_and_not_on_one_look_alike(store: RunStore) -> None:
    judge(store, "T3", ["T1", "T2"])
    assert judge(store, "T4", ["T1", "T2"]) == "INC-T3"
    assert judge(store, "T5", ["T1"]) is None  # one look-alike member, and not enough free customers
    assert store.incidents.incident_of("T5") is None
    incident = store.incidents.get("INC-T3")
    assert incident is not None and {m.ticket_id for m in incident.members} == {"T1", "T2", "T3", "T4"}


def test_a_ticket_stays_in_its_incident_and_free_candidates_can_open_another(store: RunStore) -> None:
    judge(store, "T3", ["T1", "T2"])
    assert judge(store, "T3", ["T7", "T8", "T9"]) == "INC-T3"  # judged again (a retry): the same one
    # T1 is taken; T6's other like tickets are three free customers: they open their own.
    assert judge(store, "T6", ["T1", "T4", "T5"]) == "INC-T6"
    assert store.incidents.incident_of("T1") == "INC-T3"
    incident = store.incidents.get("INC-T6")
    assert incident is not None and {m.ticket_id for m in incident.members} == {"T4", "T5", "T6"}


def test_reports_judged_at_the_same_moment_end_in_one_incident(store: RunStore) -> None:
    reports = [f"T{i}" for i in range(1, 13)]
    for i, ticket in enumerate(reports[:2]):
        judge(store, ticket, reports[:i])
    start = threading.Barrier(10)
    found: dict[str, str | None] = {}

    def judge_one(ticket: str) -> None:
        start.wait()
        found[ticket] = judge(store, ticket, [t for t in reports if t != ticket])

    threads = [threading.Thread(target=judge_one, args=(t,)) for t in reports[2:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found.values())) == 1 and None not in found.values()
    [incident_id] = set(found.values())
    assert {store.incidents.incident_of(t) for t in reports} == {incident_id}


def test_linking_and_the_problem_issue_are_recorded(store: RunStore) -> None:
    judge(store, "T3", ["T1", "T2"])
    store.incidents.note_problem("INC-T3", "SUP-100")
    store.incidents.note_linked("INC-T3", "T1", "SUP-1")
    incident = store.incidents.get("INC-T3", members=False)
    assert incident is not None and incident.problem_key == "SUP-100" and incident.members == []
    assert {m.ticket_id for m in store.incidents.unlinked("INC-T3")} == {"T2", "T3"}
    linked = {m.ticket_id: m.linked for m in store.incidents.get("INC-T3").members}  # type: ignore[union-attr]
    assert linked == {"T1": True, "T2": False, "T3": False}


def test_an_erased_ticket_leaves_its_incident_and_old_incidents_leave_the_index(store: RunStore) -> None:
    judge(store, "T3", ["T1", "T2"])
    assert store.incidents.forget_ticket("T2") and not store.incidents.forget_ticket("T2")
    incident = store.incidents.get("INC-T3")
    assert incident is not None and {m.ticket_id for m in incident.members} == {"T1", "T3"}
    assert store.incidents.incident_of("T2") is None
    assert [i.id for i in store.incidents.recent(datetime.now(UTC) - timedelta(hours=1))] == ["INC-T3"]
    later = datetime.now(UTC) + timedelta(seconds=store.retention_s + 60)
    assert store.incidents.trim(later) == 1
    assert store.incidents.recent(datetime.now(UTC) - timedelta(hours=1)) == []


def test_a_report_alike_to_two_incidents_merges_them_into_the_one_opened_first(store: RunStore) -> None:
    """One outage told in two vocabularies opened two incidents; a report alike to both shows they are
    one: the later one's members move, with their links, and its id waits for its problem issue's link."""
    assert judge(store, "T3", ["T1", "T2"]) == "INC-T3"
    store.incidents.note_linked("INC-T3", "T1", "SUP-1")
    later = Incident(id="INC-T6", title="report T6", opened_at=NOW + timedelta(minutes=5))
    candidates = [member(t) for t in ("T6", "T4", "T5")]
    assert store.incidents.open_or_join(later, candidates, min_reports=3, quorum=2) == "INC-T6"
    store.incidents.note_linked("INC-T6", "T4", "SUP-4")

    assert judge(store, "T7", ["T5", "T1", "T4", "T2"]) == "INC-T3"
    kept = store.incidents.get("INC-T3")
    assert kept is not None and {m.ticket_id for m in kept.members} == {f"T{n}" for n in range(1, 8)}
    assert [store.incidents.incident_of(f"T{n}") for n in range(1, 8)] == ["INC-T3"] * 7
    assert {m.ticket_id for m in store.incidents.unlinked("INC-T3")} == {"T2", "T3", "T5", "T6", "T7"}
    assert store.incidents.get("INC-T6") is None and store.incidents.merged("INC-T3") == ["INC-T6"]
    assert [i.id for i in store.incidents.recent(NOW - timedelta(days=1))] == ["INC-T3"]
    store.incidents.note_merge_linked("INC-T3", "INC-T6")
    assert store.incidents.merged("INC-T3") == []


def test_one_like_report_in_another_incident_merges_nothing(store: RunStore) -> None:
    assert judge(store, "T3", ["T1", "T2"]) == "INC-T3"
    later = Incident(id="INC-T6", title="report T6", opened_at=NOW + timedelta(minutes=5))
    assert store.incidents.open_or_join(later, [member(t) for t in ("T6", "T4", "T5")], 3, 2) == "INC-T6"
    assert judge(store, "T7", ["T1", "T2", "T4"]) == "INC-T3"  # two votes here, one there
    assert store.incidents.get("INC-T6") is not None and store.incidents.merged("INC-T3") == []
