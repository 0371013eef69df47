"""IMAP ingest against a real Dovecot: once, in order, resumable, concurrent-safe, and never stuck."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from pydantic import SecretStr

from agent.run import Delivery
from agent.store import RunStore
from inbox.imap import CONNECTION_ERRORS, ImapSource
from inbox.source import MailboxMisconfigured
from tasks import ingest as ingest_module
from tasks.ingest import follow_imap, poll_source
from tests.conftest import Pipeline
from tests.dovecot import PASSWORD, USER, Dovecot, TokenEndpoint, running_dovecot, running_token_endpoint
from tests.support import CORPORA, TRIAGE, email_bytes, imap_config, needs_corpora, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def tokens() -> Iterator[TokenEndpoint]:
    with running_token_endpoint() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def dovecot(tokens: TokenEndpoint) -> Iterator[Dovecot]:
    # Not under pytest's tmp tree: that is mode 0700, and Dovecot's processes run as the dovecot user.
    root = Path(tempfile.mkdtemp(prefix="triage-dovecot-"))
    try:
        with running_dovecot(root, token_url=tokens.url) as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def folder(dovecot: Dovecot) -> str:
    """A fresh folder per test (its own cursor, its own UIDVALIDITY)."""
    name = f"T{uuid.uuid4().hex[:10]}"
    with admin(dovecot) as client:
        client.create_folder(name)
    return name


def admin(dovecot: Dovecot) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False, timeout=10)
    client.login(USER, PASSWORD)
    return client


def append(dovecot: Dovecot, folder: str, *messages: bytes) -> None:
    with admin(dovecot) as client:
        for raw in messages:
            client.append(folder, raw)


def source_for(dovecot: Dovecot, folder: str, pipeline: Pipeline, **changes: Any) -> ImapSource:
    config = imap_config(host="127.0.0.1", port=dovecot.port, ssl="false", user=USER, password=PASSWORD,
                         folder=folder, timeout_s=5)  # fmt: skip
    return ImapSource(config.model_copy(update=changes), pipeline.store.mailboxes)


def deliveries_of(pipeline: Pipeline, source: ImapSource) -> list[Delivery]:
    return [d for d in pipeline.store.deliveries.recent(limit=100_000) if d.source == source.name]


def mails(prefix: str, n: int) -> list[bytes]:
    return [email_bytes(subject=f"{prefix} {i}", message_id=f"<{prefix}-{i}-{uuid.uuid4().hex[:6]}@example.com>")
            for i in range(n)]  # fmt: skip


def test_new_mail_is_picked_up_once_flagged_and_left_unread(
    pipeline: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    append(dovecot, folder, *mails("once", 3))
    source = source_for(dovecot, folder, pipeline)
    try:
        assert poll_source(source) == 3
        assert poll_source(source) == 0
    finally:
        source.close()
    assert [d.outcome for d in deliveries_of(pipeline, source)] == ["ticket"] * 3
    with admin(dovecot) as client:
        client.select_folder(folder, readonly=True)
        flags = client.get_flags(client.search("ALL"))
    assert all(b"$Triaged" in f and b"\\Seen" not in f for f in flags.values())


def test_xoauth2_reads_the_token_file_at_every_connect_so_a_refreshed_token_takes_over(
    pipeline: Pipeline, dovecot: Dovecot, folder: str, tokens: TokenEndpoint, tmp_path: Path
) -> None:
    token_file = tmp_path / "imap-token"
    old = tokens.issue()
    token_file.write_text(old + "\n")
    source = source_for(dovecot, folder, pipeline, password=None, oauth2_token_file=token_file)
    append(dovecot, folder, *mails("oauth-a", 2))
    try:
        assert poll_source(source) == 2
        source.close()  # the connection drops; the old token has expired meanwhile
        tokens.revoke(old)
        # Dovecot 2.3 answers a token its endpoint rejects with a "temporary" failure (UNAVAILABLE).
        with pytest.raises(IMAPClientError, match="(?i)authentication fail"):
            poll_source(source)
        token_file.write_text(tokens.issue())  # what a token refresher does
        append(dovecot, folder, *mails("oauth-b", 1))
        assert poll_source(source) == 1
    finally:
        source.close()
    assert [d.outcome for d in deliveries_of(pipeline, source)] == ["ticket"] * 3
    assert tokens.asked >= 3  # Dovecot really asked the token endpoint each time


def test_xoauth2_with_a_fixed_token_and_a_missing_token_file(
    pipeline: Pipeline, dovecot: Dovecot, folder: str, tokens: TokenEndpoint, tmp_path: Path
) -> None:
    append(dovecot, folder, *mails("oauth-fixed", 1))
    fixed = source_for(dovecot, folder, pipeline, password=None, oauth2_token=SecretStr(tokens.issue()))
    try:
        assert poll_source(fixed) == 1
    finally:
        fixed.close()
    missing = source_for(dovecot, folder, pipeline, password=None, oauth2_token_file=tmp_path / "none")
    with pytest.raises(FileNotFoundError):
        poll_source(missing)
    assert pipeline.store.health.state_counts()["mailboxes"][missing.name]["failures"] >= 1


def test_a_restarted_poller_resumes_from_the_cursor(
    pipeline: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    append(dovecot, folder, *mails("first", 2))
    first = source_for(dovecot, folder, pipeline, processed="leave")
    assert poll_source(first) == 2
    first.close()
    append(dovecot, folder, *mails("second", 2))
    second = source_for(
        dovecot, folder, pipeline, processed="leave"
    )  # a new process: only the cursor remains
    try:
        assert poll_source(second) == 2
    finally:
        second.close()
    assert len(deliveries_of(pipeline, second)) == 4


def test_a_uidvalidity_reset_reads_the_folder_again_without_new_tickets(
    pipeline: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    old = mails("old", 2)
    append(dovecot, folder, *old)
    source = source_for(dovecot, folder, pipeline)
    assert poll_source(source) == 2
    source.close()
    with admin(dovecot) as client:  # the server rebuilt the folder: same mail, new UIDVALIDITY
        client.delete_folder(folder)
        client.create_folder(folder)
    append(dovecot, folder, *old, *mails("new", 1))
    try:
        assert poll_source(source) == 3
    finally:
        source.close()
    outcomes = Counter(d.outcome for d in deliveries_of(pipeline, source))
    assert outcomes == {"ticket": 3, "duplicate": 2}


def test_two_concurrent_pollers_produce_no_duplicates(
    pipeline: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    sources = [source_for(dovecot, folder, pipeline) for _ in range(2)]
    errors: list[BaseException] = []

    def poll_forever(source: ImapSource) -> None:
        try:
            for _ in range(15):
                poll_source(source)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=poll_forever, args=(s,)) for s in sources]
    for thread in threads:
        thread.start()
    for _ in range(4):
        append(dovecot, folder, *mails("race", 3))
    for thread in threads:
        thread.join()
    poll_source(sources[0])  # whatever arrived after the last rounds
    for source in sources:
        source.close()
    assert errors == []
    recorded = deliveries_of(pipeline, sources[0])
    assert len(recorded) == 12 and {d.outcome for d in recorded} == {"ticket"}


def test_a_server_stopped_mid_poll_is_retried_and_nothing_is_lost_or_doubled(
    pipeline: Pipeline, dovecot: Dovecot, folder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    append(dovecot, folder, *mails("outage", 5))
    source = source_for(dovecot, folder, pipeline)
    handled = 0
    real_mark = source.mark_processed

    def mark_then_crash(message: Any) -> None:
        nonlocal handled
        real_mark(message)
        handled += 1
        if handled == 2:
            dovecot.stop()  # the server goes away in the middle of the poll

    monkeypatch.setattr(source, "mark_processed", mark_then_crash)
    with pytest.raises((*CONNECTION_ERRORS, IMAPClientError)):
        poll_source(source)
    health = pipeline.store.health.state_counts()["mailboxes"][source.name]
    assert health["failures"] == 1
    source.close()
    dovecot.start()
    monkeypatch.setattr(source, "mark_processed", real_mark)
    try:
        assert poll_source(source) == 3
    finally:
        source.close()
    recorded = deliveries_of(pipeline, source)
    assert len(recorded) == 5 and len({d.message_id for d in recorded}) == 5
    assert pipeline.store.health.state_counts()["mailboxes"][source.name]["failures"] == 0


def test_a_malformed_message_between_two_good_ones_is_quarantined_and_the_poller_moves_on(
    pipeline: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    good = mails("good", 2)
    append(dovecot, folder, good[0], b"\x00\x01 this is not mail\r\n", good[1])
    source = source_for(dovecot, folder, pipeline)
    try:
        assert poll_source(source) == 3
    finally:
        source.close()
    recorded = deliveries_of(pipeline, source)
    assert [d.outcome for d in recorded] == ["ticket", "quarantined", "ticket"]
    assert recorded[1].reason and pipeline.store.deliveries.raw(recorded[1].delivery_id) is not None


@needs_corpora
def test_the_bounce_corpus_in_an_imap_folder_makes_no_tickets(
    pipeline: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    bounces = sorted((CORPORA / "bounces-sisimai" / "maildir" / "bsd").glob("*.eml"))[::20]
    append(dovecot, folder, *(p.read_bytes() for p in bounces))
    source = source_for(dovecot, folder, pipeline)
    try:
        assert poll_source(source) == len(bounces)
    finally:
        source.close()
    assert {d.outcome for d in deliveries_of(pipeline, source)} == {"automated"}


def test_ingest_pauses_while_the_plan_queue_is_too_long(
    pipeline: Pipeline, dovecot: Dovecot, folder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    append(dovecot, folder, *mails("pressure", 2))
    source = source_for(dovecot, folder, pipeline)
    monkeypatch.setattr(ingest_module, "_plan_backlog", lambda rt: rt.settings.max_plan_backlog + 1)
    try:
        assert poll_source(source) == 0
        assert pipeline.store.mailboxes.cursor(source.name).last_uid == 0  # nothing consumed
        monkeypatch.undo()
        assert poll_source(source) == 2
    finally:
        source.close()


def test_a_server_that_never_answers_times_out_instead_of_hanging(pipeline: Pipeline) -> None:
    with socket.socket() as silent:  # accepts connections, never sends a greeting
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        config = imap_config(host="127.0.0.1", port=silent.getsockname()[1], ssl="false", user=USER,
                             password=PASSWORD, timeout_s=1)  # fmt: skip
        source = ImapSource(config, pipeline.store.mailboxes)
        started = time.monotonic()
        with pytest.raises((TimeoutError, OSError)):
            poll_source(source)
        assert time.monotonic() - started < 30
    assert pipeline.store.health.state_counts()["mailboxes"][source.name]["failures"] >= 1


@pytest.mark.parametrize("idle", [True, False], ids=["idle", "polling"])
def test_follow_mode_picks_up_new_mail(pipeline: Pipeline, dovecot: Dovecot, folder: str, idle: bool) -> None:
    source = source_for(dovecot, folder, pipeline)
    interval = 30.0 if idle else 1.0  # with IDLE, news arrives long before the interval
    worker = threading.Thread(target=follow_imap, args=(source,),
                              kwargs={"interval_s": interval, "idle": idle, "max_polls": 2}, daemon=True)  # fmt: skip
    worker.start()
    wait_for(
        lambda: pipeline.store.mailboxes.cursor(source.name).uidvalidity is not None, 10, "the first poll"
    )
    time.sleep(0.3)  # let the poller settle into IDLE / its sleep (not a wait on the result)
    appended = time.monotonic()
    append(dovecot, folder, *mails("follow", 1))
    wait_for(lambda: deliveries_of(pipeline, source), 20, "the new mail to be ingested")
    latency = time.monotonic() - appended
    worker.join(timeout=40)
    source.close()
    print(f"\nAPPEND -> recorded and enqueued with {'IDLE' if idle else 'polling every 1s'}: {latency:.3f}s")


def test_the_demo_reads_an_imap_mailbox_with_the_same_outcomes_as_a_maildir(
    dovecot: Dovecot, folder: str, redis_url: str
) -> None:
    import json
    import os
    import subprocess

    from tests.support import ROOT, SAMPLE_MAILBOX

    append(dovecot, folder, *(p.read_bytes() for p in sorted((SAMPLE_MAILBOX / "cur").glob("17*"))))
    env = {**os.environ, "TRIAGE_REDIS_URL": redis_url, "TRIAGE_IMAP_HOST": "127.0.0.1",
           "TRIAGE_IMAP_PORT": str(dovecot.port), "TRIAGE_IMAP_SSL": "false", "TRIAGE_IMAP_USER": USER,
           "TRIAGE_IMAP_PASSWORD": PASSWORD, "TRIAGE_IMAP_FOLDER": folder}  # fmt: skip

    def statuses(*args: str, extra: dict[str, str]) -> list[str]:
        done = subprocess.run([TRIAGE, "demo", "--json", *args], env={**env, **extra}, capture_output=True,
                              text=True, cwd=ROOT, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return [json.loads(line)["status"] for line in done.stdout.splitlines()]

    before = folder_state(dovecot, folder)
    from_imap = statuses("--imap", extra={"TRIAGE_IMAP_PROCESSED": "move"})
    from_maildir = statuses(extra={"TRIAGE_IMAP_HOST": ""})
    assert len(from_imap) == 16 and from_imap == from_maildir
    assert folder_state(dovecot, folder) == before  # the demo only looked: no flag, no move, nothing read


def folder_state(dovecot: Dovecot, folder: str) -> dict[int, tuple[bytes, ...]]:
    """Every message's UID and flags (\\Recent left out: it belongs to the session that looks)."""
    with admin(dovecot) as client:
        client.select_folder(folder, readonly=True)
        flags = client.get_flags(client.search("ALL"))
    return {uid: tuple(sorted(f for f in fl if f != b"\\Recent")) for uid, fl in flags.items()}


def test_a_missing_move_folder_fails_the_poll_naming_the_setting(
    pipeline: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    append(dovecot, folder, *mails("move", 1))
    source = source_for(dovecot, folder, pipeline, processed="move", processed_folder="NoSuchFolder")
    assert ingest_module.poll_once(source) == 0  # one log line, no traceback; the mail waits
    assert pipeline.store.health.state_counts()["mailboxes"][source.name]["failures"] >= 1
    with pytest.raises(MailboxMisconfigured, match="TRIAGE_IMAP_PROCESSED_FOLDER: the folder 'NoSuchFolder'"):
        poll_source(source)
    assert deliveries_of(pipeline, source) == []


def test_an_ingest_worker_with_only_imap_configured_polls_it(dovecot: Dovecot, folder: str, redis_url: str,
                                                            tmp_path: Path) -> None:  # fmt: skip
    import os
    import subprocess

    namespace = f"test-imap-only-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TRIAGE_REDIS_URL": redis_url, "TRIAGE_NAMESPACE": namespace, "TRIAGE_IMAP_HOST": "127.0.0.1",
           "TRIAGE_IMAP_PORT": str(dovecot.port), "TRIAGE_IMAP_SSL": "false", "TRIAGE_IMAP_USER": USER,
           "TRIAGE_IMAP_PASSWORD": PASSWORD, "TRIAGE_IMAP_FOLDER": folder, "TRIAGE_POLL_INTERVAL_S": "1",
           "TRIAGE_METRICS_PORT": "0", "TRIAGE_OUTBOX_PATH": str(tmp_path / "outbox.jsonl")}  # fmt: skip
    env.pop("TRIAGE_MAILDIR", None)
    store = RunStore(redis.Redis.from_url(redis_url), namespace, 3600)
    with open(tmp_path / "ingest.log", "wb") as log_in, open(tmp_path / "rest.log", "wb") as log_rest:
        workers = [subprocess.Popen([TRIAGE, "worker", "--role", "ingest", "--pool", "threads", "-c", "2"], env=env,
                                    stdout=log_in, stderr=subprocess.STDOUT, cwd=tmp_path),
                   subprocess.Popen([TRIAGE, "worker", "--role", "all", "--pool", "threads", "-c", "4"],
                                    env={**env, "TRIAGE_IMAP_HOST": ""}, stdout=log_rest, stderr=subprocess.STDOUT,
                                    cwd=tmp_path)]  # fmt: skip
        try:
            append(
                dovecot,
                folder,
                email_bytes(subject="Printer on fire", message_id=f"<imap-only-{namespace}@x>"),
            )

            def done() -> bool:
                runs = [store.runs.get(d.run_id) for d in store.deliveries.recent() if d.run_id]
                return len(runs) == 1 and all(r is not None and r.status == "done" for r in runs)

            wait_for(done, 60, "the appended message to be triaged")
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=30)
            store.erase_namespace()
    said = (tmp_path / "ingest.log").read_text()
    assert f"ingest: polling IMAP {USER}@127.0.0.1:{dovecot.port}/{folder} every 1s" in said
