"""Incidents in the pipeline: the incident mailbox (four outages, each reported by four or five customers,
among unrelated tickets that share words with them) ends with one problem issue per outage, each
customer's issue linked to it, and the unrelated tickets left alone; all through a real worker, Redis and
a Chroma server."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from agent.memory.chroma import Memory
from agent.memory.embedding import Embedder, HashedNgrams, MiniLM
from agent.planner import RulePlanner
from agent.run import Run
from evaluation.incidents import IncidentScores, score_incidents
from tests.chroma_server import ChromaServer
from tests.conftest import Pipeline
from tests.support import triage, variant_mailbox
from tests.test_incident_mailbox import ROOT
from tools import embeddings
from tools.incident import incident_id_of

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def run_incident_mailbox(
    pipeline: Pipeline,
    swap_runtime: Any,
    chroma: ChromaServer,
    embedder: Embedder,
    folder: Path,
    mailbox: Path = ROOT,
) -> tuple[list[Run], IncidentScores]:
    """Every mail of a labelled incident mailbox through the pipeline at once; the runs and the scores."""
    memory = Memory(embedder, f"test-{uuid.uuid4().hex[:8]}", url=chroma.url)
    swap_runtime(memory=memory, planner=RulePlanner(remember=True, incidents=True))
    labels = json.loads((mailbox / "outages.json").read_text())["outages"]
    suffix = uuid.uuid4().hex[:8]  # new Message-IDs: the mailbox is new to the system each time
    deliveries = pipeline.feed(variant_mailbox(folder, suffix, source=mailbox))
    # An out-of-office reply is mail a machine wrote: recorded with its reason, no run (nor incident).
    machines = [d for d in deliveries if d.run_id is None]
    assert all(d.outcome == "automated" and d.reason for d in machines), machines
    runs = [pipeline.wait_final(d.run_id, timeout=120) for d in deliveries if d.run_id is not None]
    original = {run.ticket.id: run.ticket.message_id.strip("<>").replace(f".{suffix}@", "@") for run in runs}
    outage = {ticket: labels[f"<{message_id}>"] for ticket, message_id in original.items()}
    incident = {run.ticket.id: pipeline.store.incidents.incident_of(run.ticket.id) for run in runs}
    return runs, score_incidents(outage, incident)


def check_outcome(pipeline: Pipeline, runs: list[Run], scores: IncidentScores) -> None:
    """Every run done; one problem issue per outage; each member's issue linked once; openers agree."""
    assert all(run.status == "done" and run.steps["incident"].status == "done" for run in runs)
    assert scores.singletons_linked <= 1, scores
    assert scores.incidents_per_outage == {"export": 1, "invoice_pdf": 1, "login": 1, "webhook": 1}, scores
    ours = {run.id for run in runs}
    outbox = [line for line in pipeline.outbox() if line["run_id"] in ours]
    assert len([line for line in outbox if line["kind"] == "create_problem"]) == scores.incidents == 4
    members = [run for run in runs if pipeline.store.incidents.incident_of(run.ticket.id) is not None]
    links = sorted(line["issue_key"] for line in outbox if line["kind"] == "link")
    assert links == sorted(run.steps["create_issue"].result["issue_key"] for run in members)  # type: ignore[index]
    openers = [run for run in runs if run.steps["incident"].result["opened"]]  # type: ignore[index]
    assert {incident_id_of(run.ticket.id) for run in openers} == {
        pipeline.store.incidents.incident_of(run.ticket.id) for run in members
    }
    listed = triage("incidents", "--json")  # what the desk sees: each open incident, all linked
    incidents = [json.loads(line) for line in listed.output.splitlines()]
    ours = [i for i in incidents if i["id"] in {incident_id_of(run.ticket.id) for run in openers}]
    assert len(ours) == 4 and all(i["problem_key"] for i in ours)
    assert sorted(m["ticket_id"] for i in ours for m in i["members"]) == sorted(r.ticket.id for r in members)
    assert all(m["linked"] for i in ours for m in i["members"])


def test_hashed_ngrams_find_every_outage_with_fewer_reports_and_a_stray(
    pipeline: Pipeline, swap_runtime: Any, chroma: ChromaServer, tmp_path: Path
) -> None:
    """The embedder without a model finds every outage, but short of the goal (precision 0.9, recall 0.8)
    that MiniLM reaches: reports worded far apart stay alone, a look-alike may join (README, Memory)."""
    runs, scores = run_incident_mailbox(pipeline, swap_runtime, chroma, HashedNgrams(), tmp_path / "mail")
    check_outcome(pipeline, runs, scores)
    assert scores.precision >= 0.8 and scores.recall >= 0.6, scores


@pytest.mark.embeddings
@pytest.mark.skipif(not embeddings.available(), reason="the MiniLM weights are not installed (make install)")
def test_minilm_gathers_every_report_of_each_outage_and_nothing_else(
    pipeline: Pipeline, swap_runtime: Any, chroma: ChromaServer, tmp_path: Path
) -> None:
    runs, scores = run_incident_mailbox(pipeline, swap_runtime, chroma, MiniLM(), tmp_path / "mail")
    check_outcome(pipeline, runs, scores)
    assert scores.precision >= 0.9 and scores.recall >= 0.8, scores


# Labelled mailboxes of outages told in many languages (README, Memory), and the outages in each.
MULTILINGUAL = [
    # Sign-in, exports and search failing, told in six languages; eight look-alikes: reports in two
    # languages are found by area and malfunction over the server's filters.
    ("incidents-fourth", {"export": 1, "search": 1, "sign_in": 1}),
    # Single sign-on and SMS codes failing at once (two outages of one area), and search, in ten
    # languages: told apart by the feature each names.
    ("incidents-twelfth", {"search": 1, "sms": 1, "sso": 1}),
    # Card payments declined and refunds stuck at once (two outages of one area), and the public booking
    # page failing, in twelve languages; thanks quoting yesterday's card outage joins none.
    ("incidents-twenty-first", {"booking": 1, "cards": 1, "refunds": 1}),
]


@pytest.mark.embeddings
@pytest.mark.skipif(not embeddings.available(), reason="the MiniLM weights are not installed (make install)")
@pytest.mark.parametrize(("name", "outages"), MULTILINGUAL)
def test_outages_told_in_many_languages_are_one_incident_each_through_a_chroma_server(
    pipeline: Pipeline,
    swap_runtime: Any,
    chroma: ChromaServer,
    tmp_path: Path,
    name: str,
    outages: dict[str, int],
) -> None:
    """A labelled mailbox all at once through a real worker and a Chroma server."""
    mailbox = ROOT.parent / name
    runs, scores = run_incident_mailbox(pipeline, swap_runtime, chroma, MiniLM(), tmp_path / "mail", mailbox)
    assert all(run.status == "done" and run.steps["incident"].status == "done" for run in runs)
    assert scores.incidents_per_outage == outages, scores
    assert scores.singletons_linked == 0 and scores.precision >= 0.95 and scores.recall >= 0.9, scores
