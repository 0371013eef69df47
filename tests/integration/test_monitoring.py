"""Monitoring end to end: a prefork worker (two processes) does real work, a real Prometheus scrapes it,
the numbers add up across processes, and every PromQL expression we ship evaluates."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import yaml

from agent.store import RunStore
from tests.support import ROOT, SAMPLE_MAILBOX, TRIAGE, require_program, wait_for
from workers.servers import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

DASHBOARD = ROOT / "monitoring" / "grafana" / "dashboards" / "triage.json"
ALERTS = ROOT / "monitoring" / "prometheus" / "alerts.yml"


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def dashboard_expressions() -> list[str]:
    """The dashboard's queries as Grafana sends them here: $__rate_interval is four scrape intervals."""
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [t["expr"].replace("$__rate_interval", "4s") for p in panels for t in p.get("targets", [])]


def alert_expressions() -> list[str]:
    return [rule["expr"] for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


@pytest.fixture(scope="module")
def worker(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A prefork worker with 2 processes and embedded beat polling a copy of the sample mailbox."""
    tmp = tmp_path_factory.mktemp("monitoring")
    shutil.copytree(SAMPLE_MAILBOX, tmp / "mailbox")
    namespace = f"test-mon-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {**os.environ, "TRIAGE_REDIS_URL": redis_url, "TRIAGE_NAMESPACE": namespace,
           "TRIAGE_MAILDIR": str(tmp / "mailbox"), "TRIAGE_POLL_INTERVAL_S": "1", "TRIAGE_METRICS_PORT": str(port),
           "TRIAGE_METRICS_HOST": "127.0.0.1", "TRIAGE_METRICS_DIR": str(tmp / "metrics"),
           "TRIAGE_OUTBOX_PATH": str(tmp / "outbox.jsonl"), "TRIAGE_RETRY_SCALE": "0.01",
           # Tools stand in for I/O (1 ms): the plan's parallel steps go through the execute queue, as they
           # do with a model to ask; quick local work would run in the plan task (tasks/execute.py).
           "TRIAGE_SIMULATED_TOOL_LATENCY_S": "0.001"}  # fmt: skip
    log = open(tmp / "worker.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([TRIAGE, "worker", "--role", "all", "--pool", "prefork", "-c", "2"], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp)  # fmt: skip
    store = RunStore(redis.Redis.from_url(redis_url), namespace, 3600)
    try:
        yield {"port": port, "store": store, "tmp": tmp, "proc": proc}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        store.erase_namespace()


@pytest.fixture(scope="module")
def prometheus(worker: dict[str, Any]) -> Iterator[str]:
    """A real Prometheus scraping the worker every second, with our alert rules loaded."""
    prometheus = require_program("prometheus", "prometheus")
    tmp = worker["tmp"]
    config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"}, "rule_files": [str(ALERTS)],
              "scrape_configs": [{"job_name": "triage-workers",
                                  "static_configs": [{"targets": [f"127.0.0.1:{worker['port']}"]}]}]}  # fmt: skip
    (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = open(tmp / "prometheus.log", "wb")  # noqa: SIM115 (lives as long as the server)
    proc = subprocess.Popen([prometheus, f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={tmp / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=log)  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return urllib.request.urlopen(f"{url}/-/ready", timeout=1).status == 200
        except OSError:
            return False

    try:
        wait_for(ready, 60, "prometheus to be ready")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def query(prometheus: str, expr: str) -> dict[str, Any]:
    return get_json(f"{prometheus}/api/v1/query?query={urllib.parse.quote(expr)}")  # type: ignore[no-any-return]


def value(prometheus: str, expr: str) -> float | None:
    result = query(prometheus, expr)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


@pytest.fixture(scope="module")
def processed(worker: dict[str, Any], prometheus: str) -> str:
    """Wait until the sample mailbox is processed and Prometheus has scraped the final counts."""
    store: RunStore = worker["store"]

    def all_final() -> bool:
        runs = [store.runs.get(d.run_id) for d in store.deliveries.recent() if d.run_id]
        return len(store.deliveries.recent()) == 16 and all(r is not None and r.is_final for r in runs)

    wait_for(all_final, 120, "the sample mailbox to be processed")
    wait_for(lambda: value(prometheus, 'sum(triage_runs_finished_total{status="done"})') == 11, 60,
             "prometheus to scrape the final counts")  # fmt: skip
    return prometheus


def test_the_counts_of_both_worker_processes_add_up(worker: dict[str, Any], processed: str) -> None:
    [own] = (worker["tmp"] / "metrics").iterdir()  # the worker's own folder inside TRIAGE_METRICS_DIR
    pids = {f.name.split("_")[-1] for f in own.glob("counter_*.db")}
    assert len(pids) >= 2, "both prefork processes (and the parent) wrote metrics"
    assert value(processed, 'sum(triage_runs_finished_total{status="done"})') == 11
    assert value(processed, 'sum(triage_tool_calls_total{tool="create_jira_issue", outcome="success"})') == 9
    assert value(processed, 'sum(triage_tool_calls_total{tool="comment_jira_issue", outcome="success"})') == 2


def test_ingest_outcomes_plans_and_mailbox_health_are_exported(
    worker: dict[str, Any], processed: str
) -> None:
    outcomes = {r["metric"]["outcome"]: float(r["value"][1]) for r in
                query(processed, "sum by (outcome) (triage_messages_ingested_total)")["data"]["result"]}  # fmt: skip
    assert outcomes == {"ticket": 9, "threaded": 2, "automated": 3, "duplicate": 1, "quarantined": 1}
    assert value(processed, 'sum(triage_plans_total{planner="rule"})') == 11
    assert value(processed, "max(triage_quarantined_messages)") == 1
    assert value(processed, "max(triage_runs_in_progress)") == 0
    assert value(processed, "time() - max(triage_mailbox_last_success_timestamp_seconds)") < 60
    assert value(processed, "max(triage_mailbox_consecutive_failures)") == 0
    assert (value(processed, "max(triage_redis_memory_used_bytes)") or 0) > 0
    limit = int(worker["store"].redis.info("memory")["maxmemory"])
    assert value(processed, "max(triage_redis_memory_max_bytes)") == limit


def test_queue_depth_wait_and_stage_durations_are_measured(processed: str) -> None:
    depths = query(processed, "triage_queue_depth")["data"]["result"]
    assert {r["metric"]["queue"] for r in depths} == {"ingest", "plan", "execute"}
    # One execute message per new ticket (extract: the plan task runs categorize, and the step finishing
    # second runs create_issue), none for a reply (the plan task comments), plus retries.
    assert value(processed, 'sum(triage_queue_wait_seconds_count{queue="execute"})') >= 9
    stages = {
        r["metric"]["stage"]
        for r in query(processed, "triage_stage_duration_seconds_count")["data"]["result"]
    }
    assert stages == {"ingest", "plan", "execute"}


@pytest.mark.parametrize("expr", dashboard_expressions() + alert_expressions())
def test_every_dashboard_and_alert_expression_evaluates(processed: str, expr: str) -> None:
    answer = query(processed, expr)
    assert answer["status"] == "success", answer
