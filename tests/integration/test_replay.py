"""`triage replay`: a candidate model tried on runs the worker recorded, through the real openai client
against a local server; its judgement is the candidate's, its side effects are captured and go nowhere
(no Jira request, no mail, no outbox line, no key in Redis), and the report says where it agrees."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.plan_schema import plan_to_answer
from agent.planner import RulePlanner
from agent.replay import side_of
from agent.run import Run
from tests.agent.test_plan import ticket
from tests.conftest import Pipeline
from tests.jira_server import FakeJira
from tests.llm_server import FakeOpenAI, running_openai
from tests.support import email_bytes, make_maildir, triage, wait_for
from workers import runtime as runtime_module

URGENT = ("Cannot log in", "Hi, I cannot log in since this morning, it is urgent.")
CALM = ("A question about my plan", "Hello, which plan includes the reports export?")


def candidate_model(request: dict[str, Any]) -> str:
    """A candidate that plans what the rules would but never acknowledges a question, and finds every
    ticket urgent, quoting the mail's first words for it (an urgency the rules do not see is not taken:
    tools/extract.py), unsure of the category (which leaves it to the classifier)."""
    block = request["messages"][1]["content"].split("<ticket>\n", 1)[1].rsplit("\n</ticket>", 1)[0]
    body = json.loads(block)["body"]
    if request["response_format"]["json_schema"]["name"] == "plan":
        rules = RulePlanner(acknowledge=not body.rstrip().endswith("?"))
        return json.dumps(plan_to_answer(rules.make_plan(ticket()).plan))
    words = body[:20]
    answer = {"category": "account", "confidence": 0.1, "customer_name": None, "account_id": None}
    return json.dumps(answer | {"urgency": "high", "urgency_words": words})


def feed(pipeline: Pipeline, folder: Path, mail: tuple[str, str]) -> Run:
    raw = email_bytes(subject=mail[0], body=mail[1], message_id=f"<{uuid.uuid4().hex}@example.com>")
    [delivery] = pipeline.feed(make_maildir(folder, raw))
    return pipeline.wait_final(delivery.run_id or "")


def test_a_candidate_is_tried_on_recorded_runs_and_nothing_it_does_goes_anywhere(
    pipeline: Pipeline, jira: FakeJira, swap_runtime: Any, tmp_path: Path
) -> None:
    since = datetime.now(UTC).isoformat()
    urgent, calm = feed(pipeline, tmp_path / "a", URGENT), feed(pipeline, tmp_path / "b", CALM)
    assert urgent.status == calm.status == "done" and side_of(calm).urgency == "medium"
    rt = runtime_module.runtime()
    keys = set(rt.store.redis.scan_iter(f"{rt.settings.namespace}*", count=10_000))
    requests, outbox = len(jira.state.requests), pipeline.outbox()

    with running_openai(FakeOpenAI(default=candidate_model)) as server:
        settings = rt.settings.model_copy(update={"llm_base_url": server.url, "llm_api_key": "k"})
        swap_runtime(settings=settings)
        done = triage("replay", "--since", since, "--model", "candidate-1", "--json")
        asked = [r["model"] for r in server.requests]

    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    cases = {c["run_id"]: c for c in report["cases"]}
    assert set(cases) == {urgent.id, calm.id} and set(asked) == {"candidate-1"}
    assert cases[urgent.id]["agrees_with_production"] is True  # urgent by the words and by the model
    assert cases[calm.id]["agrees_with_production"] is False  # no acknowledgement
    assert cases[calm.id]["candidate"]["urgency"] == "medium"  # the model's "high" had no words the rules see
    assert cases[calm.id]["candidate"]["category"] == cases[calm.id]["production"]["category"]
    captured = [c["tool"] for c in cases[urgent.id]["captured"]]
    assert "create_jira_issue" in captured and "acknowledge" in captured
    total = report["total"]
    assert (total["runs"], total["agree_with_production"], total["side_effects_captured"]) == (2, 1, 3)
    assert total["tokens"] > 0
    # Nothing the candidate did went anywhere.
    assert len(jira.state.requests) == requests and pipeline.outbox() == outbox
    written = set(rt.store.redis.scan_iter(f"{rt.settings.namespace}*", count=10_000)) - keys
    assert all(b":pace:llm:" in key for key in written), written  # only its turns at the model's endpoint


def test_the_report_reads_as_a_table_with_the_totals(
    pipeline: Pipeline, swap_runtime: Any, tmp_path: Path
) -> None:
    since = datetime.now(UTC).isoformat()
    feed(pipeline, tmp_path / "a", URGENT), feed(pipeline, tmp_path / "b", CALM)
    rt = runtime_module.runtime()
    with running_openai(FakeOpenAI(default=candidate_model)) as server:
        swap_runtime(settings=rt.settings.model_copy(update={"llm_base_url": server.url, "llm_model": "m"}))
        done = triage("replay", "--since", since)
    assert done.exit_code == 0, done.output
    print(done.output)  # the README shows it
    header, *rows, total = done.output.strip().splitlines()
    assert header.split()[:3] == ["run", "production", "candidate"] and len(rows) == 2
    assert sorted(row.split()[-3] for row in rows) == ["no", "yes"]  # the calm mail: not acknowledged
    assert total.startswith("2 runs replayed: the candidate agrees with production on 1 (50%)")
    assert "3 side effects captured, none sent" in total  # the question is not acknowledged


class Corrections:
    """Memory as the corrections read-back left it: what people set on each run's issue in Jira."""

    def __init__(self, corrected: dict[str, dict[str, str]]) -> None:
        self.corrected = corrected

    def corrections_of(self, ticket_id: str) -> dict[str, str] | None:
        return self.corrected.get(ticket_id)


def test_a_candidate_is_judged_against_what_people_later_corrected(
    pipeline: Pipeline, swap_runtime: Any, tmp_path: Path
) -> None:
    since = datetime.now(UTC).isoformat()
    urgent, calm = feed(pipeline, tmp_path / "a", URGENT), feed(pipeline, tmp_path / "b", CALM)
    rt = runtime_module.runtime()
    people = {urgent.id: {"urgency": "high"}, calm.id: {"urgency": "low", "category": "billing"}}
    with running_openai(FakeOpenAI(default=candidate_model)) as server:
        settings = rt.settings.model_copy(update={"llm_base_url": server.url, "llm_model": "m"})
        swap_runtime(settings=settings, memory=Corrections(people))
        done = triage("replay", "--since", since, "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    judged = {c["run_id"]: (c["corrected"], c["agrees_with_people"]) for c in report["cases"]}
    assert judged == {urgent.id: (people[urgent.id], True), calm.id: (people[calm.id], False)}
    assert (report["total"]["corrected_by_people"], report["total"]["agree_with_people"]) == (2, 1)


def test_a_shadow_model_plans_every_finished_run_beside_production_and_records_it_only(
    pipeline: Pipeline, jira: FakeJira, swap_runtime: Any, tmp_path: Path
) -> None:
    since = datetime.now(UTC).isoformat()
    rt = runtime_module.runtime()
    with running_openai(FakeOpenAI(default=candidate_model)) as server:
        settings = rt.settings.model_copy(update={"llm_base_url": server.url, "shadow_model": "shadow-1"})
        swap_runtime(settings=settings)
        calm = feed(pipeline, tmp_path / "b", CALM)
        requests = len(jira.state.requests)  # production's, all made: the run is final

        def recorded() -> Any:
            cases = rt.store.shadows.between(0, datetime.now(UTC).timestamp() + 1, 100)
            return next((c for c in cases if c.run_id == calm.id), None)

        case = wait_for(recorded, 30, "the shadow case")
        asked = {r["model"] for r in server.requests}
        report = json.loads(triage("replay", "--shadow", "--since", since, "--json").output)
    assert calm.planner == "rule" and asked == {"shadow-1"}  # production planned without the model
    assert case.candidate.planner == "llm" and not case.agrees_with_production  # no acknowledgement
    assert {c["tool"] for c in case.captured} >= {"create_jira_issue"}
    assert len(jira.state.requests) == requests  # the shadow's issue went nowhere
    assert [c["run_id"] for c in report["cases"]] == [calm.id] and report["total"]["runs"] == 1


def test_a_paused_fleet_pauses_the_candidate_too(
    pipeline: Pipeline, swap_runtime: Any, tmp_path: Path
) -> None:
    since = datetime.now(UTC).isoformat()
    feed(pipeline, tmp_path / "a", URGENT)
    rt = runtime_module.runtime()
    with running_openai(FakeOpenAI(default=candidate_model)) as server:
        swap_runtime(settings=rt.settings.model_copy(update={"llm_base_url": server.url, "llm_model": "m"}))
        rt.store.llm.pause("ops", "the provider bills twice")
        try:
            done = triage("replay", "--since", since, "--json")
        finally:
            rt.store.llm.resume()
        asked = list(server.requests)
    [case] = json.loads(done.output)["cases"]
    assert asked == [] and case["candidate"]["planner"] == "fallback"
