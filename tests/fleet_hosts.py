"""`make fleet`: a fleet on three hosts loses a whole host under load, and nothing is lost or done twice.

Three hosts are network namespaces made here, each with its own address on a bridge; Redis, the Jira
test server (holding Cloud's burst limit over all callers) and an SMTP server (STARTTLS, AUTH) listen on
a fourth, the bridge's own address. Each host runs workers of each role. While the fleet works through
the mail, the second host is killed as a machine dies: every process in it at once, its link down.
Then: every mail must end as one run, done, with one Jira issue and one acknowledgement; nothing stuck.
The figures: lost, duplicates, stuck, and the time to resume (from the kill until the last run that was
running on the dead host is done elsewhere). The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import redis

from agent.store import RunStore
from tests.hosts import Hosts, made_hosts
from tests.jira_server import FakeJira, running_jira
from tests.smtp_server import PASSWORD, USER, running_smtp
from tests.support import TRIAGE, email_bytes
from tests.worker_processes import deliver
from workers.embedded_redis import redis_answers, redis_server_binary
from workers.servers import free_port

JIRA_PER_S = 10.0  # what the Jira allows, per endpoint and method, over every caller
VICTIM = 1  # the host that dies
# (host, worker options): every role on the dead host, and elsewhere too.
LAYOUT = [
    (0, ["--role", "ingest", "--pool", "threads", "-c", "2"]),
    (0, ["--role", "plan", "--pool", "threads", "-c", "4"]),
    (0, ["--role", "execute", "--pool", "prefork", "-c", "2"]),
    (1, ["--role", "ingest", "--pool", "threads", "-c", "2"]),
    (1, ["--role", "plan", "--pool", "threads", "-c", "4"]),
    (1, ["--role", "execute", "--pool", "threads", "-c", "4"]),
    (2, ["--role", "plan", "--pool", "threads", "-c", "4"]),
    (2, ["--role", "execute", "--pool", "prefork", "-c", "2"]),
]


def fleet_env(hosts: Hosts, redis_port: int, jira: FakeJira, smtp: Any, work: Path) -> dict[str, str]:
    """The settings of every worker: the services host's Redis, Jira and SMTP, one Maildir, a quick
    sweeper (so that a dead host's work is found within a minute)."""
    services = hosts.services
    return {
        **os.environ,
        "TRIAGE_REDIS_URL": f"redis://{services}:{redis_port}/0",
        "TRIAGE_NAMESPACE": f"fleet-{uuid.uuid4().hex[:6]}",
        "TRIAGE_MAILDIR": str(work / "mailbox"),
        "TRIAGE_POLL_INTERVAL_S": "1",
        "TRIAGE_METRICS_PORT": "0",
        "TRIAGE_JIRA_URL": jira.url.replace("127.0.0.1", services),
        "TRIAGE_JIRA_USER": jira.user,
        "TRIAGE_JIRA_API_TOKEN": jira.token,
        "TRIAGE_JIRA_RATES": json.dumps(
            dict.fromkeys(("search", "create", "comment", "attachments", "other"), JIRA_PER_S)
        ),
        "TRIAGE_RETRY_SCALE": "0.05",
        "TRIAGE_SWEEP_INTERVAL_S": "5",
        "TRIAGE_SWEEP_STALE_S": "20",
        "TRIAGE_TOOL_TIMEOUTS": json.dumps({"create_jira_issue": 10, "acknowledge": 10}),
        "TRIAGE_OUTBOX_PATH": str(work / "outbox.jsonl"),
        "TRIAGE_SMTP_HOST": services,
        "TRIAGE_SMTP_PORT": str(smtp.port),
        "TRIAGE_SMTP_USER": USER,
        "TRIAGE_SMTP_PASSWORD": PASSWORD,
        "TRIAGE_SMTP_CA_FILE": str(smtp.ca_file),
        "TRIAGE_ACK_FROM": "help@support.example",
    }


def write_mail(box: Path, messages: int) -> list[str]:
    """`messages` new tickets from customers of ten companies, delivered at once; their Maildir keys."""
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    keys = []
    for n in range(messages):
        key = f"{1_800_000_000 + n}.fleet{n}.mx"
        raw = email_bytes(
            sender=f"customer{n}@company{n % 10}.example",
            subject=f"Cannot log in to workspace {n}",
            message_id=f"<{uuid.uuid4().hex}@company{n % 10}.example>",
        )
        deliver(box, key, raw)
        keys.append(key)
    return keys


def on_host(store: RunStore, pids: set[int]) -> set[str]:
    """The runs with a step running in one of these processes now."""
    found = set()
    for run_id in store.runs.active_ids():
        run = store.runs.get(run_id)
        owners = {s.owner for s in (run.steps.values() if run else []) if s.status == "running" and s.owner}
        if any(int(owner.rpartition(":")[2]) in pids for owner in owners):
            found.add(run_id)
    return found


def run_fleet(messages: int, settle_s: float, work: Path) -> dict[str, Any]:
    """Run the fleet, kill a host once a quarter of the mail is done, and measure; the figures."""
    keys = write_mail(work / "mailbox", messages)
    figures: dict[str, Any] = {"messages": messages, "hosts": 3, "workers": len(LAYOUT)}
    with (
        made_hosts(3) as hosts,
        running_jira(FakeJira(burst=(JIRA_PER_S, int(JIRA_PER_S))), host="0.0.0.0") as jira,
        running_smtp(work, host=hosts.services) as smtp,
    ):
        port = free_port()
        redis_args = [
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            hosts.services,
            "--dir",
            str(work),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        with open(work / "redis.log", "wb") as log:
            redis_server = subprocess.Popen([redis_server_binary(), *redis_args], stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 10
            while not redis_answers(f"redis://127.0.0.1:{port}/0") and time.monotonic() < deadline:
                time.sleep(0.05)
            env = fleet_env(hosts, port, jira, smtp, work)
            store = RunStore(redis.Redis(port=port), env["TRIAGE_NAMESPACE"], 3600)
            for n, (host, options) in enumerate(LAYOUT):
                hosts.start(
                    host, [TRIAGE, "worker", *options], env, work / f"worker-{n}-host{host}.log", work
                )
            figures.update(_kill_and_watch(hosts, store, keys, settle_s))
            figures.update(_counted(store, keys, jira, smtp))
        finally:
            redis_server.kill()
            redis_server.wait()
    return figures


def _final(store: RunStore, keys: list[str]) -> dict[str, str | None]:
    """Each mail's run status once final (None while it is not)."""
    by_key = {d.key: d for d in store.deliveries.recent(limit=100_000)}
    statuses: dict[str, str | None] = {}
    for key in keys:
        delivery = by_key.get(key)
        run = store.runs.get(delivery.run_id or "") if delivery else None
        statuses[key] = run.status if run is not None and run.is_final else None
    return statuses


def _kill_and_watch(hosts: Hosts, store: RunStore, keys: list[str], settle_s: float) -> dict[str, Any]:
    """Wait for a quarter of the mail to be done, kill the victim host, wait for the rest."""
    started = time.time()
    while sum(v is not None for v in _final(store, keys).values()) < len(keys) // 4:
        if time.time() - started > settle_s:
            return {"killed_after_s": None}
        time.sleep(0.2)
    pids = set(hosts.pids(VICTIM))
    orphans = on_host(store, pids)
    killed_at = time.time()
    died = hosts.kill(VICTIM)
    done_at_kill = sum(v is not None for v in _final(store, keys).values())
    deadline = time.monotonic() + settle_s
    while any(v is None for v in _final(store, keys).values()) and time.monotonic() < deadline:
        time.sleep(1)
    finished = [store.runs.get(r) for r in orphans]
    ends = [r.finished_at.timestamp() for r in finished if r is not None and r.finished_at is not None]
    return {
        "killed_after_s": round(killed_at - started, 1),
        "processes_killed": died,
        "done_when_killed": done_at_kill,
        "running_on_the_dead_host": len(orphans),
        "resumed_in_s": round(max(ends) - killed_at, 1) if ends and len(ends) == len(orphans) else None,
    }


def _counted(store: RunStore, keys: list[str], jira: FakeJira, smtp: Any) -> dict[str, Any]:
    """Lost, duplicates and stuck, from Redis, Jira and the SMTP server."""
    statuses = _final(store, keys)
    deliveries = store.deliveries.recent(limit=100_000)
    runs = [store.runs.get(d.run_id or "") for d in deliveries if d.run_id]
    issues = Counter(
        label
        for i in jira.state.issues.values()
        for label in i["fields"]["labels"]
        if label.startswith("triage-T")
    )
    acks: Counter[str] = Counter(m["In-Reply-To"] for m in smtp.messages())
    ack_ids = Counter(
        {
            parent: len({m["Message-ID"] for m in smtp.messages() if m["In-Reply-To"] == parent})
            for parent in acks
        }
    )
    return {
        "outcomes": dict(Counter(v or "unfinished" for v in statuses.values())),
        "lost": sum(1 for v in statuses.values() if v != "done"),
        "duplicates": sum(n - 1 for n in issues.values() if n > 1)
        + sum(n - 1 for n in ack_ids.values() if n > 1)
        + sum(n - 1 for n in Counter(d.key for d in deliveries).values() if n > 1),
        "stuck": sum(1 for r in runs if r is None or not r.is_final),
        "issues": len(jira.state.issues),
        "acknowledgements": len(acks),
        "jira_refusals": jira.state.rate_refusals,
    }


def main() -> None:
    """Run it as `make fleet` does; exit 1 when anything was lost, duplicated or stuck."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--settle-seconds", type=float, default=300)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="triage-fleet-"))
    figures = run_fleet(args.messages, args.settle_seconds, work)
    ok = figures.get("killed_after_s") is not None and not (
        figures["lost"] or figures["duplicates"] or figures["stuck"]
    )
    print(
        f"{'PASSED' if ok else 'FAILED'}: {figures['messages']} mails, 3 hosts, {figures['workers']} workers; "
        f"host {VICTIM} killed ({figures.get('processes_killed')} processes) with "
        f"{figures.get('running_on_the_dead_host')} runs running on it; resumed in {figures.get('resumed_in_s')} s; "
        f"lost {figures['lost']}, duplicates {figures['duplicates']}, stuck {figures['stuck']}; work in {work}"
    )
    print(json.dumps(figures))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
