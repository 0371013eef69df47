"""The embeddings classifier (make test-embeddings): picked up when its weights are installed (make
install), more accurate than TF-IDF on few examples, and safe in a prefork worker that trained it first.

The floors are what this code measured on the Bitext development split (see the README).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis

from agent.store import RunStore
from cli.demo_report import outcome_row
from tests.support import SAMPLE_MAILBOX, TRIAGE, needs_corpora, wait_for
from tests.test_evaluation import DEV, triage_eval
from tests.tools.test_categorize import SUPPORT_REQUESTS
from tools import embeddings
from tools.base import ToolContext
from tools.categorize import categorize_ticket
from tools.taxonomy import classifier_for
from workers.settings import load_settings

pytestmark = [
    pytest.mark.embeddings,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        not embeddings.available(), reason="the MiniLM weights are not installed (make install)"
    ),
]


@pytest.fixture
def with_embeddings(ctx: ToolContext) -> ToolContext:
    return replace(ctx, config=ctx.config.model_copy(update={"classifier": "embeddings"}))


def test_auto_picks_the_embeddings_classifier_once_it_is_installed() -> None:
    assert load_settings(classifier="auto").tool_config().classifier == "embeddings"


@pytest.mark.parametrize(("subject", "body", "category"), SUPPORT_REQUESTS)
def test_support_requests_land_in_their_category(
    subject: str, body: str, category: str, with_embeddings: ToolContext
) -> None:
    result = categorize_ticket.run({"subject": subject, "body": body}, with_embeddings)
    assert result.category == category and not result.needs_review
    model = classifier_for(with_embeddings.config.categories_file, "embeddings")
    assert model.name == "embeddings (all-MiniLM-L6-v2)"


def test_gibberish_is_other_and_flagged_for_review(with_embeddings: ToolContext) -> None:
    result = categorize_ticket.run({"subject": "", "body": "zzz qqq"}, with_embeddings)
    assert result.category == "other" and result.needs_review


@needs_corpora
def test_ten_examples_per_category_floor() -> None:
    got = triage_eval(
        "--label-column", "category", "--train", str(DEV), "--per-class", "10", "--classifier", "embeddings"
    )
    assert got["mode"] == "embeddings" and got["n"] == 2147
    assert got["accuracy_forced"] >= 0.975 and got["macro_f1"] >= 0.97 and got["accuracy"] >= 0.95
    assert got["accuracy_answered"] >= 0.99 and got["coverage"] >= 0.95


def _categorize_in_child(path: Path, out: Any) -> None:
    out.put(classifier_for(path, "embeddings").predict("I was charged twice, refund me").label)


def test_processes_forked_after_training_use_the_model_without_hanging(ctx: ToolContext) -> None:
    """What a prefork worker does: train in the parent, fork, predict in every child."""
    path = ctx.config.categories_file
    assert classifier_for(path, "embeddings").predict("refund my double charge").label == "billing"
    fork = multiprocessing.get_context("fork")
    out = fork.Queue()
    children = [fork.Process(target=_categorize_in_child, args=(path, out)) for _ in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=60)
        if child.is_alive():
            child.kill()
    assert [child.exitcode for child in children] == [0, 0], "a child hung or failed"
    assert [out.get(timeout=5), out.get(timeout=5)] == ["billing", "billing"]


def test_a_prefork_worker_triages_the_sample_mailbox_with_embeddings(redis_url: str, tmp_path: Path) -> None:
    """The worker trains the model before its pool forks; the children use it."""
    shutil.copytree(SAMPLE_MAILBOX, tmp_path / "mailbox")
    namespace = f"test-emb-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TRIAGE_REDIS_URL": redis_url, "TRIAGE_NAMESPACE": namespace,
           "TRIAGE_MAILDIR": str(tmp_path / "mailbox"), "TRIAGE_POLL_INTERVAL_S": "1",
           "TRIAGE_METRICS_PORT": "0", "TRIAGE_OUTBOX_PATH": str(tmp_path / "outbox.jsonl"),
           "TRIAGE_CLASSIFIER": "embeddings"}  # fmt: skip
    log_path = tmp_path / "worker.log"
    store = RunStore(redis.Redis.from_url(redis_url), namespace, 3600)
    with log_path.open("wb") as log:
        proc = subprocess.Popen([TRIAGE, "worker", "--role", "all", "--pool", "prefork", "-c", "2"], env=env,
                                stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)  # fmt: skip
        try:

            def rows() -> list[dict[str, object]] | None:
                found = [
                    outcome_row(d, store.runs.get(d.run_id) if d.run_id else None)
                    for d in store.deliveries.recent()
                ]
                return [r for r in found if r is not None] if len(found) == 16 and None not in found else None

            final = wait_for(rows, 300, "the sample mailbox to be processed")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            store.erase_namespace()
    assert "uses the embeddings (all-MiniLM-L6-v2) classifier" in log_path.read_text()
    categories = sorted(str(r["category"]) for r in final if r["status"] == "done")
    assert categories == sorted(["billing"] * 3 + ["technical"] * 3 + ["account"] * 2 + ["other"])


def test_a_hostile_64_kb_text_costs_one_window_of_the_model(with_embeddings: ToolContext) -> None:
    """Categorizing with embeddings stays in the worker: it must be bounded work whatever the mail."""
    model = classifier_for(with_embeddings.config.categories_file, "embeddings")
    window = "I was charged twice this month, please refund the duplicate payment. "
    text = (window * 60)[: embeddings.EmbeddingClassifier.WINDOW_CHARS]
    assert model.predict(text + "x" * 65_536) == model.predict(text)  # what lies past the window is cut
