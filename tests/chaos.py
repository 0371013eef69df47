"""`make chaos`: prove that every message ends as exactly one outcome while the fleet is being broken.

Real worker processes (prefork and thread pools) work through hundreds of messages (sample mailbox
variants plus bounce-corpus mail) against a Redis with append-only persistence and a Jira-compatible
server that fails at random, while this harness SIGKILLs worker processes and whole workers, stops one
worker warmly, and restarts Redis. Then it checks: every message has exactly one final outcome (the
expected one), Jira holds exactly one issue per ticket and one comment per reply, nothing is stuck,
and the dead-letter list holds only what was designed to fail. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from agent.store import RunStore
from tests.chaos_backends import message_broker, state_store
from tests.jira_server import FakeJira, running_jira
from tests.smtp_server import PASSWORD, USER, running_smtp
from tests.support import CORPORA, TRIAGE, variant_mailbox

# What each sample message must become (by its file name's first field).
SAMPLE_OUTCOMES = {
    "1764000011": "dead_letter",  # designed to fail: Jira rejects this ticket's fields (400) in every variant
    "1764000005": "threaded", "1764000006": "duplicate", "1764000007": "automated", "1764000008": "automated",
    "1764000009": "automated", "1764000010": "quarantined", "1764000016": "threaded",
}  # fmt: skip


class Fleet:
    """Worker processes, each in its own process group (a group kill is a machine dying)."""

    def __init__(self, specs: list[list[str]], env: dict[str, str], logs: Path) -> None:
        self.specs, self.env, self.logs = specs, env, logs
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * len(specs)

    def start(self, i: int) -> None:
        log = open(self.logs / f"worker-{i}.log", "ab")  # noqa: SIM115 (lives as long as the worker)
        self.procs[i] = subprocess.Popen([TRIAGE, "worker", *self.specs[i]], env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip

    def children(self, i: int) -> list[int]:
        proc = self.procs[i]
        if proc is None:
            return []
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == proc.pid:
                found.append(int(stat.parent.name))
        return found

    def kill_group(self, i: int) -> None:
        proc = self.procs[i]
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        self.start(i)

    def revive(self) -> int:
        """Restart workers that exited on their own, as a supervisor (compose's restart policy) does."""
        revived = 0
        for i, proc in enumerate(self.procs):
            if proc is not None and proc.poll() is not None:
                tail = (self.logs / f"worker-{i}.log").read_text(errors="replace").splitlines()[-15:]
                print(f"worker {i} exited on its own (code {proc.returncode}); its log ends:", *tail,
                      sep="\n  ", flush=True)  # fmt: skip
                self.start(i)
                revived += 1
        return revived

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            if proc is not None:
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)


def build_mailbox(folder: Path, messages: int) -> dict[str, str]:
    """A Maildir of sample variants plus bounces; returns each file's expected final status."""
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    expected: dict[str, str] = {}
    variants = max(1, (messages * 7 // 8) // 16)
    stamp = 1_700_000_000
    for v in range(variants):
        scratch = Path(tempfile.mkdtemp())
        variant_mailbox(scratch, f"c{v}")
        for path in sorted((scratch / "cur").iterdir()):
            name = f"{stamp}.V{v}.{path.name.split('.')[0]}.chaos"
            (folder / "new" / name).write_bytes(path.read_bytes())
            os.utime(folder / "new" / name, (stamp, stamp))
            expected[name] = SAMPLE_OUTCOMES.get(path.name.split(".")[0], "done")
            stamp += 1
        shutil.rmtree(scratch)
    bounces = sorted((CORPORA / "bounces-sisimai" / "maildir" / "bsd").glob("*.eml"))
    for path in bounces[: max(0, messages - len(expected))]:
        name = f"{stamp}.B.{path.stem}.chaos"
        (folder / "new" / name).write_bytes(path.read_bytes())
        os.utime(folder / "new" / name, (stamp, stamp))
        expected[name] = "automated"
        stamp += 1
    return expected


def final_status(store: RunStore, delivery: Any) -> str | None:
    """A delivery's final status, or None while it is still in flight."""
    if delivery.run_id is None:
        return str(delivery.outcome)
    run = store.runs.get(delivery.run_id)
    if run is None or not run.is_final:
        return None
    if run.status != "done":
        return str(run.status)
    return "threaded" if delivery.outcome == "threaded" else "done"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=512)
    parser.add_argument("--chaos-seconds", type=float, default=45, help="how long to break things")
    parser.add_argument("--settle-seconds", type=float, default=300, help="how long to wait for the end")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--store", choices=["plain", "sentinel"], default="plain", help="one Redis, or Sentinels"
    )
    parser.add_argument(
        "--broker", choices=["redis", "rabbitmq"], default="redis", help="the store's Redis, or RabbitMQ"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (worker logs) even if it passes"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="triage-chaos-"))
    expected = build_mailbox(work / "mailbox", args.messages)
    figures: dict[str, Any] = {"messages": len(expected), "store": args.store, "broker": args.broker, "kills": 0,
                               "process_kills": 0, "worker_kills": 0, "warm_shutdowns": 0, "store_breaks": 0,
                               "broker_restarts": 0, "workers_revived": 0}  # fmt: skip
    services = contextlib.ExitStack()
    state = services.enter_context(state_store(args.store, work))
    broker = services.enter_context(message_broker(args.broker))
    # Jira Cloud, whose search finds a new issue only a second after it was created.
    # Acknowledgements go through a real SMTP server (STARTTLS, AUTH): one per ticket, whatever dies.
    jira_server = running_jira(FakeJira(failure_rate=0.1, deployment="Cloud", search_lag_s=1.0))
    with jira_server as jira, running_smtp(work) as smtp:
        # Jira refuses Sven's tickets every time (a field error repeats): a refusal whose answer a kill lost
        # is refused again on the retry, as real Jira would, so those tickets always end dead-lettered.
        jira.always_refuse("POST", "/issue", "400", body_contains="Sven Lindqvist")
        namespace = f"chaos-{uuid.uuid4().hex[:6]}"
        env = {
            **os.environ,
            **state.env,
            **(broker.env if broker else {}),
            "TRIAGE_NAMESPACE": namespace,
            "TRIAGE_MAILDIR": str(work / "mailbox"),
            "TRIAGE_POLL_INTERVAL_S": "1",
            "TRIAGE_METRICS_PORT": "0",
            "TRIAGE_JIRA_URL": jira.url,
            "TRIAGE_JIRA_USER": jira.user,
            "TRIAGE_JIRA_API_TOKEN": jira.token,
            "TRIAGE_RETRY_SCALE": "0.05",
            "TRIAGE_SWEEP_INTERVAL_S": "5",
            "TRIAGE_SWEEP_STALE_S": "20",
            "TRIAGE_JIRA_SEARCH_LAG_S": "2",
            "TRIAGE_TOOL_TIMEOUTS": json.dumps(
                {
                    "categorize_ticket": 5,
                    "extract_entities": 5,
                    "create_jira_issue": 10,
                    "comment_jira_issue": 10,
                }
            ),
            "TRIAGE_OUTBOX_PATH": str(work / "outbox.jsonl"),
            "TRIAGE_SMTP_HOST": "localhost",
            "TRIAGE_SMTP_PORT": str(smtp.port),
            "TRIAGE_SMTP_USER": USER,
            "TRIAGE_SMTP_PASSWORD": PASSWORD,
            "TRIAGE_SMTP_CA_FILE": str(smtp.ca_file),
            "TRIAGE_ACK_PER_SENDER_HOUR": "100",
            "TRIAGE_ACK_FROM": "help@support.example",
        }
        fleet = Fleet([["--role", "ingest", "--pool", "threads", "-c", "2"],
                       ["--role", "all", "--pool", "prefork", "-c", "2"],
                       ["--role", "all", "--pool", "threads", "-c", "8"],
                       ["--role", "execute", "--pool", "prefork", "-c", "2"]], env, work)  # fmt: skip
        for i in range(len(fleet.specs)):
            fleet.start(i)
        store = RunStore(state.client, namespace, 3600)
        started = time.monotonic()
        print(
            f"chaos: {len(expected)} messages, 4 workers, {state.name}, broker {broker.name if broker else 'the same'}, "
            f"Jira failing 10% of requests, work in {work}",
            flush=True,
        )
        next_action, broke_store, broke_broker, warm_stopped = started + 3, False, False, False
        while time.monotonic() - started < args.chaos_seconds:
            if time.monotonic() >= next_action:
                roll = rng.random()
                if not broke_store and time.monotonic() - started > args.chaos_seconds * 0.4:
                    print(f"chaos: {state.break_it()}", flush=True)
                    broke_store = True
                    figures["store_breaks"] += 1
                elif broker and not broke_broker and time.monotonic() - started > args.chaos_seconds * 0.55:
                    print(f"chaos: {broker.break_it()}", flush=True)
                    broke_broker = True
                    figures["broker_restarts"] += 1
                elif not warm_stopped and (
                    roll < 0.15 or time.monotonic() - started > args.chaos_seconds * 0.7
                ):
                    target = fleet.procs[2]
                    if target is not None:
                        os.killpg(target.pid, signal.SIGTERM)  # warm shutdown: finish or return the work
                        target.wait(timeout=120)
                        fleet.start(2)
                        warm_stopped = True
                        figures["warm_shutdowns"] += 1
                elif roll < 0.65:
                    i = rng.choice([1, 3])
                    children = fleet.children(i)
                    if children:
                        os.kill(rng.choice(children), signal.SIGKILL)  # a prefork process dies mid-task
                        figures["process_kills"] += 1
                else:
                    fleet.kill_group(rng.choice([0, 1, 2, 3]))  # a whole worker dies (and comes back)
                    figures["worker_kills"] += 1
                next_action = time.monotonic() + rng.uniform(2, 4)
            figures["workers_revived"] += fleet.revive()
            time.sleep(0.2)
        figures["kills"] = figures["process_kills"] + figures["worker_kills"]
        print(f"chaos over after {time.monotonic() - started:.0f}s; letting the fleet settle", flush=True)

        def statuses() -> dict[str, str | None]:
            by_key = {d.key: d for d in store.deliveries.recent(limit=1_000_000)}
            return {name: final_status(store, by_key[name]) if name in by_key else None for name in expected}

        deadline = time.monotonic() + args.settle_seconds
        current = statuses()
        while any(v is None for v in current.values()) and time.monotonic() < deadline:
            time.sleep(2)
            figures["workers_revived"] += fleet.revive()
            current = statuses()
        fleet.stop_all()
        deliveries = store.deliveries.recent(limit=1_000_000)
        runs = [store.runs.get(d.run_id) for d in deliveries if d.run_id]
        tickets = [r for r in runs if r is not None and not r.ticket.thread_of and r.status == "done"]
        replies = [r for r in runs if r is not None and r.ticket.thread_of and r.status == "done"]
        issue_counts = Counter(label for i in jira.state.issues.values() for label in i["fields"]["labels"]
                               if label.startswith("triage-T"))  # fmt: skip
        comment_markers = Counter(c["body"].rsplit("[triage-ref ", 1)[-1] for cs in jira.state.comments.values()
                                  for c in cs)  # fmt: skip
        acks: Counter[str] = Counter()  # deliveries of an acknowledgement, by the message it answers
        ack_ids: dict[str, set[str]] = defaultdict(set)  # and its Message-IDs (a resend keeps its own)
        for message in smtp.messages():
            acks[message["In-Reply-To"]] += 1
            ack_ids[message["In-Reply-To"]].add(message["Message-ID"])
        answered = {f"<{r.ticket.message_id}>" for r in tickets}
        wrong = {
            n: (current[n], want)
            for n, want in expected.items()
            if current[n] is not None and current[n] != want
        }
        figures.update(
            outcomes=dict(Counter(v or "unfinished" for v in current.values())),
            lost=sum(1 for v in current.values() if v is None),
            duplicates=sum(n - 1 for n in issue_counts.values() if n > 1) + sum(n - 1 for n in comment_markers.values() if n > 1)
            + sum(1 for d in Counter(d.key for d in deliveries).values() if d > 1),
            stuck=sum(1 for r in runs if r is None or not r.is_final),
            wrong_outcome=len(wrong),
            jira_issues=len(jira.state.issues),
            tickets_done=len(tickets),
            tickets_without_issue=sum(1 for r in tickets if issue_counts[f"triage-{r.ticket.id}"] != 1),
            replies_done=len(replies),
            jira_comments=sum(comment_markers.values()),
            jira_random_failures=jira.random_failures,
            acknowledgements=sum(acks.values()),
            tickets_without_one_ack=sum(1 for parent in answered if len(ack_ids.get(parent, ())) != 1),
            acks_not_for_a_ticket=sum(1 for parent in acks if parent not in answered),
            ack_redeliveries=sum(n - 1 for n in acks.values() if n > 1),  # the same Message-ID again
            dead_letters=[f"{r.id}: {r.error}" for r in store.runs.dead_letters()],
            seconds=round(time.monotonic() - started, 1),
        )  # fmt: skip
        for name, (got, want) in list(wrong.items())[:10]:
            print(f"  wrong outcome {name}: {got}, expected {want}")
    services.close()
    letters = figures.pop("dead_letters")
    undesigned = [letter for letter in letters if "Jira rejected the request (400)" not in letter]
    for letter in undesigned[:10]:
        print(f"  undesigned dead letter {letter}")
    figures["dead_letters"] = len(letters)  # each designed: Jira's 400 for the ticket it was told to reject
    figures["undesigned_dead_letters"] = len(undesigned)
    broken = (
        "lost",
        "duplicates",
        "stuck",
        "wrong_outcome",
        "undesigned_dead_letters",
        "tickets_without_issue",
        "tickets_without_one_ack",
        "acks_not_for_a_ticket",
    )
    ok = not any(figures[name] for name in broken)
    print(f"{'PASSED' if ok else 'FAILED'}: {figures['messages']} messages, {figures['kills']} kills "
          f"({figures['process_kills']} processes, {figures['worker_kills']} workers), {figures['warm_shutdowns']} warm "
          f"shutdown(s), {figures['store_breaks']} store break(s) ({args.store}), {figures['broker_restarts']} broker restart(s) ({args.broker}), {figures['jira_random_failures']} Jira failures; "
          f"lost {figures['lost']}, duplicates {figures['duplicates']}, stuck {figures['stuck']}")  # fmt: skip
    print(json.dumps(figures))
    if ok and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
