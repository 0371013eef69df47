"""Recovery: poison steps, the sweeper, and what operators do with dead letters."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent.run import StepState, now
from agent.store import RunStore
from tasks.execute import execute_step
from tasks.sweep import sweep_runs
from tests.conftest import Pipeline
from tests.integration.test_reliability import flaky
from tests.support import ScriptedPlanner, email_bytes, issue_plan, make_maildir, triage
from workers import runtime as runtime_module
from workers.heartbeat import GONE_AFTER_S

pytestmark = pytest.mark.integration


def feed_one(pipeline: Pipeline, tmp_path: Path, name: str, **headers: Any) -> str:
    [delivery] = pipeline.feed(
        make_maildir(tmp_path / name, email_bytes(message_id=f"<{name}@example.com>", **headers))
    )
    return delivery.run_id or ""


def reopen_as_if_interrupted(store: RunStore, run_id: str) -> None:
    """Put a finished run back to where an interruption would have left it: active, not final."""
    store.redis.hdel(store.keys.run(run_id), "finished_at")
    store.redis.zadd(store.keys.active_runs, {run_id: time.time()})
    store.runs.set_status(run_id, "running")


def test_a_step_whose_worker_keeps_dying_is_dead_lettered_as_poison(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    run_id = feed_one(pipeline, tmp_path, "poison-1")
    pipeline.wait_final(run_id)
    store = pipeline.store
    # As a worker killed mid-step leaves it: the step still "running", two deaths already counted.
    reopen_as_if_interrupted(store, run_id)
    store.runs.save_step(
        run_id, "create_issue", StepState(status="running", attempts=2, crashes=2, started_at=now())
    )
    execute_step.apply_async((run_id, "create_issue"))
    run = pipeline.wait_final(run_id)
    assert run.status == "dead_letter" and "poison: its worker died 3 times" in (run.error or "")


def test_the_sweeper_resends_a_step_stranded_by_a_dead_worker(pipeline: Pipeline, tmp_path: Path) -> None:
    run_id = feed_one(pipeline, tmp_path, "stranded-1")
    pipeline.wait_final(run_id)
    store = pipeline.store
    reopen_as_if_interrupted(store, run_id)
    long_ago = now() - timedelta(hours=1)
    store.runs.save_step(run_id, "create_issue", StepState(status="running", attempts=1, started_at=long_ago))
    sent = sweep_runs()
    assert sent["crashed_steps"] >= 1
    run = pipeline.wait_final(run_id)
    assert run.status == "done" and run.steps["create_issue"].crashes == 1
    assert run.steps["create_issue"].result["created"] is False  # the issue made before the crash is reused


def record_kept_for(store: RunStore, seconds: float) -> None:
    """Make the heartbeats' record as old as `seconds` (on Redis's clock, as the workers keep it)."""
    server_s, micro = store.redis.time()
    store.redis.set(store.keys.workers_since, int((server_s - seconds) * 1000 + micro // 1000))


def test_a_step_whose_host_died_is_sent_again_as_soon_as_its_workers_beat_no_more(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    run_id = feed_one(pipeline, tmp_path, "host-died-1")
    pipeline.wait_final(run_id)
    store = pipeline.store
    reopen_as_if_interrupted(store, run_id)
    store.workers.beat("execute-7@alive-host", 4, True, ttl_s=60, processes=["alive-host:7", "alive-host:8"])
    a_minute_ago = now() - timedelta(seconds=60)  # far inside its time limit and 30 s
    running = StepState(status="running", attempts=1, started_at=a_minute_ago, owner="alive-host:8")
    store.runs.save_step(run_id, "create_issue", running)
    record_kept_for(store, seconds=10)  # as after Redis lost the heartbeats: not every worker is back
    store.runs.save_step(run_id, "create_issue", running.model_copy(update={"owner": "dead-host:8"}))
    assert sweep_runs()["crashed_steps"] == 0  # one not back yet is not known to be dead

    record_kept_for(store, seconds=GONE_AFTER_S + 1)
    store.runs.save_step(run_id, "create_issue", running)
    assert sweep_runs()["crashed_steps"] == 0  # its process beats: it is still at work
    store.runs.save_step(run_id, "create_issue", running.model_copy(update={"owner": "dead-host:8"}))
    assert sweep_runs()["crashed_steps"] == 1  # no worker names its process: its host is gone
    run = pipeline.wait_final(run_id)
    assert run.status == "done" and run.steps["create_issue"].result["created"] is False
    store.workers.gone("execute-7@alive-host")


def test_the_sweeper_resends_a_step_whose_message_was_lost(pipeline: Pipeline, tmp_path: Path) -> None:
    run_id = feed_one(pipeline, tmp_path, "lost-1")
    pipeline.wait_final(run_id)
    store = pipeline.store
    reopen_as_if_interrupted(store, run_id)
    store.runs.save_step(run_id, "create_issue", StepState())  # dispatched an hour ago, never started
    store.redis.hset(store.keys.run(run_id), "dispatched:create_issue", time.time() - 3600)
    assert sweep_runs()["lost_steps"] >= 1
    assert pipeline.wait_final(run_id).status == "done"


def test_the_sweeper_resends_a_retry_that_never_came(pipeline: Pipeline, tmp_path: Path) -> None:
    run_id = feed_one(pipeline, tmp_path, "lost-retry-1")
    pipeline.wait_final(run_id)
    store = pipeline.store
    reopen_as_if_interrupted(store, run_id)
    long_ago = now() - timedelta(hours=1)  # its retry was due long ago; the message died with a connection
    store.runs.save_step(
        run_id, "create_issue", StepState(status="retrying", attempts=1, started_at=long_ago, error="503")
    )
    store.redis.hset(store.keys.run(run_id), "dispatched:create_issue", long_ago.timestamp())
    assert sweep_runs()["lost_steps"] >= 1
    assert pipeline.wait_final(run_id).status == "done"


class BrokenPlanner:
    """A planner with a bug: it raises instead of planning."""

    def make_plan(self, ticket: Any, recall: Any = None) -> Any:
        raise KeyError("subject_line")


def test_a_planner_that_raises_dead_letters_the_run_with_why(
    pipeline: Pipeline, tmp_path: Path, use_planner: Any
) -> None:
    use_planner(BrokenPlanner())
    run = pipeline.wait_final(feed_one(pipeline, tmp_path, "broken-planner-1"))
    assert run.status == "dead_letter" and run.error == "the planner failed: KeyError: 'subject_line'"
    assert run.id in {r.id for r in pipeline.store.runs.dead_letters()}


def test_retry_replays_a_dead_letter_after_the_fix_and_discard_closes_one(
    pipeline: Pipeline, tmp_path: Path, use_planner: Any, add_tool: Any
) -> None:
    add_tool(flaky)
    use_planner(
        ScriptedPlanner(
            issue_plan({"id": "step", "tool": "flaky", "args": {"failures": 1, "permanent": True}})
        )
    )
    first, second = feed_one(pipeline, tmp_path, "replay-1"), feed_one(pipeline, tmp_path, "replay-2")
    assert pipeline.wait_final(first).status == pipeline.wait_final(second).status == "dead_letter"

    # The flaky tool fails once per idempotency key: the replay is "after the fix".
    replay = triage("retry", first, "--reason", "Jira field fixed")
    assert replay.exit_code == 0, replay.output
    # create_issue runs beside the failed step: it may or may not have finished before the dead letter.
    sent_again = replay.output.split("sent again (")[1].rstrip(")\n").split(", ")
    assert "step" in sent_again
    done = pipeline.wait_final(first)
    assert done.status == "done" and done.steps["step"].result == {"attempt": 2}

    gone = triage("discard", second, "--reason", "spam that slipped through")
    assert gone.exit_code == 0
    assert pipeline.store.runs.get(second).status == "discarded"  # type: ignore[union-attr]
    assert second not in {r.id for r in pipeline.store.runs.dead_letters()}
    trail = pipeline.store.operations.audit_trail()
    assert {(e["action"], e["run"], e["reason"]) for e in trail[:2]} == {
        ("retry", first, "Jira field fixed"), ("discard", second, "spam that slipped through")}  # fmt: skip


def test_purge_erases_one_senders_mail_and_runs_and_says_what_went(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    jane = [
        email_bytes(sender="Jane <jane.purge@example.com>", message_id=f"<purge-j{i}@example.com>")
        for i in range(2)
    ]
    bob = email_bytes(sender="Bob <bob.keep@example.com>", message_id="<purge-b@example.com>")
    deliveries = pipeline.feed(make_maildir(tmp_path / "box", *jane, bob))
    for d in deliveries:
        pipeline.wait_final(d.run_id or "")
    result = triage("purge", "--sender", "JANE.purge@example.com")
    assert result.exit_code == 0, result.output
    # Each of Jane's tickets left a Jira line and an acknowledgement in the dry-run outboxes.
    assert "2 runs, 2 deliveries, 2 raw messages" in result.output and "4 outbox lines" in result.output
    store = pipeline.store
    assert (
        store.runs.get(deliveries[0].run_id or "") is None
        and store.deliveries.raw(deliveries[0].delivery_id) is None
    )
    assert store.runs.get(deliveries[2].run_id or "") is not None  # Bob's stays
    for path in pipeline.settings.tool_config().outboxes:
        outbox = [json.loads(line) for line in path.read_text().splitlines()]
        assert not {d.run_id for d in deliveries[:2]} & {line["run_id"] for line in outbox}
        assert deliveries[2].run_id in {line["run_id"] for line in outbox}
    assert "jane" not in json.dumps(
        store.operations.audit_trail()[0]
    )  # the trail proves the erasure, not the address


def test_purge_finds_raw_mail_by_its_bytes_whatever_its_from_looks_like_and_keeps_only_a_keyed_hash(
    pipeline: Pipeline, tmp_path: Path, swap_runtime: Any
) -> None:
    rt = runtime_module.runtime()
    swap_runtime(settings=rt.settings.model_copy(update={"audit_key": SecretStr("audit-secret")}))
    unquoted = b"From: Gina Gdpr gina.gdpr@example.com\nSubject: hi\nMessage-ID: <gdpr-1@x>\n\nErase me.\n"
    encoded = email_bytes(sender="=?utf-8?q?Gina_Gdpr?= <gina.gdpr@example.com>", message_id="<gdpr-2@x>")
    third = email_bytes(sender="Gina <gina.gdpr@example.com>", message_id="<gdpr-3@x>", subject="again")
    deliveries = pipeline.feed(make_maildir(tmp_path / "box", unquoted, encoded, third))
    for d in deliveries:
        if d.run_id:
            pipeline.wait_final(d.run_id)
    store = pipeline.store
    store.redis.delete(store.keys.delivery(deliveries[2].delivery_id))  # its delivery record expired
    result = triage("purge", "--sender", "gina.gdpr@example.com")
    assert result.exit_code == 0, result.output
    assert all(store.deliveries.raw(d.delivery_id) is None for d in deliveries)
    assert "3 runs, 2 deliveries, 3 raw messages" in result.output  # the third found by its bytes alone
    entry = store.operations.audit_trail()[0]
    expected = hmac.new(b"audit-secret", b"gina.gdpr@example.com", hashlib.sha256).hexdigest()
    assert entry["sender_hmac"] == expected and "gina" not in json.dumps(entry)
    assert hashlib.sha256(b"gina.gdpr@example.com").hexdigest()[:16] not in json.dumps(entry)


def test_outbox_lines_expire_with_the_retention(tmp_path: Path) -> None:
    from tools import outbox as outbox_file

    outbox = tmp_path / "outbox.jsonl"
    outbox.write_text(
        "".join(json.dumps({"run_id": f"T{i}", "at": at}) + "\n" for i, at in enumerate((100, 200, 300)))
    )
    assert outbox_file.expire(outbox, cutoff=250) == 2
    assert [json.loads(line)["run_id"] for line in outbox.read_text().splitlines()] == ["T2"]
    assert outbox_file.expire(outbox, cutoff=250) == 0


def test_a_message_that_keeps_killing_the_ingest_worker_is_quarantined_as_poison(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    from inbox.maildir import MaildirSource

    box = make_maildir(tmp_path / "box", email_bytes(message_id="<kills-the-parser@example.com>"))
    [message] = MaildirSource(box).pending()
    for _ in range(pipeline.settings.poison_threshold):  # each earlier poll died inside this message
        pipeline.store.deliveries.count_attempt(message.delivery_id)
    [delivery] = pipeline.feed(box)
    assert delivery.outcome == "quarantined" and (delivery.reason or "").startswith(
        "poison: the ingest worker died"
    )
    assert pipeline.store.deliveries.raw(delivery.delivery_id) is not None  # kept for a human to look at
