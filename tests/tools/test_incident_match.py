"""Whether two reports tell of one outage: by words, or by a shared product area and a malfunction."""

from __future__ import annotations

from datetime import UTC, datetime

from tools.incident_match import Likeness
from tools.memory_port import Recent, Symptoms

BROKEN_PAYMENTS = Symptoms(area="payments", malfunction=0.12)
PAYMENTS_QUESTION = Symptoms(area="payments", malfunction=-0.07)
BROKEN_SEARCH = Symptoms(area="search", malfunction=0.11)
BARELY_BROKEN = Symptoms(area="payments", malfunction=-0.02)
LIKENESS = Likeness(words=0.56, area=0.15)


def recent(ticket_id: str, vector: list[float], symptoms: Symptoms | None) -> Recent:
    at = datetime(2026, 12, 7, tzinfo=UTC)
    return Recent(
        ticket_id=ticket_id,
        sender=f"{ticket_id}@x.example",
        similarity=0.3,
        seen_at=at,
        vector=vector,
        symptoms=symptoms,
    )


def test_reports_alike_in_words_are_one_outage_unless_placed_in_two_areas() -> None:
    assert LIKENESS.alike(0.6, None, None)
    assert LIKENESS.alike(0.6, BROKEN_PAYMENTS, BARELY_BROKEN)  # a reading at the edge is no question
    assert LIKENESS.alike(0.6, BROKEN_PAYMENTS, BROKEN_PAYMENTS.model_copy(update={"area": None}))
    # "Card payments failing at checkout" and "Payout missing": 0.56 alike, two outages.
    assert not LIKENESS.alike(0.6, BROKEN_PAYMENTS, BROKEN_PAYMENTS.model_copy(update={"area": "payouts"}))


def test_a_question_worded_like_a_report_is_no_report() -> None:
    # "What is the maximum file size?" beside "413 when adding a file": 0.62 alike under MiniLM.
    assert not LIKENESS.alike(0.62, BROKEN_PAYMENTS, PAYMENTS_QUESTION)
    assert Likeness(words=0.56).alike(0.62, BROKEN_PAYMENTS, PAYMENTS_QUESTION)  # no symptoms: words


def test_reports_worded_apart_are_one_outage_when_both_tell_of_a_failure_of_one_area() -> None:
    # "Checkout down?" and "can't pay our invoice online": 0.40 alike under MiniLM.
    assert LIKENESS.alike(0.40, BROKEN_PAYMENTS, BROKEN_PAYMENTS)


def test_a_question_about_the_same_area_is_no_report_of_its_outage() -> None:
    # "Which payment methods do you accept?" beside a checkout outage.
    assert not LIKENESS.alike(0.40, BROKEN_PAYMENTS, PAYMENTS_QUESTION)


def test_failures_of_two_areas_are_two_outages_and_a_floor_holds_for_one() -> None:
    assert not LIKENESS.alike(0.40, BROKEN_PAYMENTS, BROKEN_SEARCH)
    assert not LIKENESS.alike(0.10, BROKEN_PAYMENTS, BROKEN_PAYMENTS)


def test_without_symptoms_only_words_count_and_memory_is_asked_down_to_the_lower_bar() -> None:
    assert not Likeness(words=0.56).alike(0.40, BROKEN_PAYMENTS, BROKEN_PAYMENTS)
    assert not LIKENESS.alike(0.40, BROKEN_PAYMENTS, None)
    assert (Likeness(words=0.56).floor, LIKENESS.floor) == (0.56, 0.15)


def test_a_like_ticket_counts_only_when_another_like_ticket_bears_it_out() -> None:
    a = recent("a", [1.0, 0.0], BROKEN_PAYMENTS)
    b = recent("b", [0.6, 0.8], BROKEN_PAYMENTS)  # 0.6 alike to a
    lone = recent("c", [0.0, -1.0], BROKEN_SEARCH)
    assert LIKENESS.corroborated([a, b, lone]) == [a, b]


def test_reports_in_two_languages_are_one_outage_by_area_and_malfunction_alone() -> None:
    # "Pagamentos recusados" and "Card payments failing": about 0.0 alike (MiniLM reads English only).
    portuguese = BROKEN_PAYMENTS.model_copy(update={"language": "pt"})
    english = BROKEN_PAYMENTS.model_copy(update={"language": "en"})
    assert LIKENESS.alike(0.01, portuguese, english)
    assert not LIKENESS.alike(0.01, english, english)  # one language: its likeness counts
    assert not LIKENESS.alike(0.01, portuguese, BROKEN_PAYMENTS)  # a language not told is no other one
    assert not LIKENESS.alike(0.01, portuguese, BROKEN_SEARCH.model_copy(update={"language": "en"}))
    assert not LIKENESS.alike(0.01, portuguese, PAYMENTS_QUESTION.model_copy(update={"language": "en"}))


def test_two_features_of_one_area_are_two_outages_in_any_language() -> None:
    # "SSO rejects us with a SAML error" and "Keine SMS-Codes": both sign-in failing.
    sso = Symptoms(area="sign-in", malfunction=0.1, language="en", feature="single sign-on")
    codes = Symptoms(area="sign-in", malfunction=0.2, language="de", feature="verification codes")
    unnamed = Symptoms(area="sign-in", malfunction=0.2, language="de")
    assert not LIKENESS.alike(0.01, sso, codes)
    assert not LIKENESS.alike(0.6, sso, codes.model_copy(update={"language": "en"}))
    assert LIKENESS.alike(0.01, sso, unnamed)  # "niemand kommt rein" names no feature: either outage
