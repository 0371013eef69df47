"""docker-compose.yml and the monitoring files refer only to things that exist in the project.

Docker cannot run here, so the file is checked as data: structure, every command a worker runs,
every file mounted, and the ports Prometheus scrapes."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest
import yaml

from tests.support import ROOT, require_program, triage
from workers.app import METRICS_PORTS, ROLES
from workers.settings import Settings

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
WORKERS = ("ingest", "planner", "executor")


def test_redis_keeps_its_data_append_only_and_reports_health() -> None:
    redis = SERVICES["redis"]
    assert (
        "--appendonly" in redis["command"]
        and redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    )
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


@pytest.mark.parametrize("name", WORKERS)
def test_each_worker_runs_a_real_triage_command_for_its_role(name: str) -> None:
    service = SERVICES[name]
    command = service["command"]
    assert command[:2] == ["worker", "--role"] and command[2] in ROLES
    assert triage(*command, "--help").exit_code == 0
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    env = service["environment"]
    assert env["TRIAGE_REDIS_URL"] == "redis://redis:6379/0"
    assert set(env) <= {f"TRIAGE_{f.upper()}" for f in Settings.model_fields}


def test_planners_and_executors_share_one_chroma_server_run_from_the_same_image() -> None:
    chroma = SERVICES["chroma"]
    assert chroma["image"] == SERVICES["executor"]["image"] and chroma["entrypoint"] == ["chroma"]
    assert chroma["command"][0] == "run" and "chroma-data" in COMPOSE["volumes"]
    for name in ("planner", "executor"):
        env = SERVICES[name]["environment"]
        assert env["TRIAGE_MEMORY"] == "on" and env["TRIAGE_MEMORY_URL"] == "http://chroma:8000"
        assert SERVICES[name]["depends_on"]["chroma"]["condition"] == "service_healthy"


def test_every_setting_the_env_example_names_exists() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    named = {line.lstrip("# ").split("=")[0] for line in lines if line.lstrip("# ").startswith("TRIAGE_")}
    assert "TRIAGE_IMAP_OAUTH2_TOKEN_FILE" in named
    assert named <= {f"TRIAGE_{f.upper()}" for f in Settings.model_fields}


def test_executors_scale_without_fixed_names_or_host_ports() -> None:
    executor = SERVICES["executor"]
    assert "container_name" not in executor and "ports" not in executor


def test_every_mounted_project_file_exists() -> None:
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./monitoring"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_prometheus_scrapes_every_worker_role_on_its_own_metrics_port() -> None:
    config = yaml.safe_load((ROOT / "monitoring" / "prometheus" / "prometheus.yml").read_text())
    discovered = {d["names"][0]: d["port"] for d in config["scrape_configs"][0]["dns_sd_configs"]}
    ports = {name: METRICS_PORTS[SERVICES[name]["command"][2]] for name in WORKERS}
    assert discovered == ports and len(set(ports.values())) == 3  # one host can run one worker of each
    assert all(SERVICES[name]["expose"] == [str(port)] for name, port in ports.items())
    assert "TRIAGE_METRICS_PORT" not in str(SERVICES)


def test_compose_runs_without_an_env_file() -> None:
    for name in WORKERS:
        assert SERVICES[name]["env_file"] == [{"path": ".env", "required": False}]


def test_the_dashboard_asks_for_its_data_source_and_mailbox_and_uses_the_rate_interval() -> None:
    dashboard = json.loads((ROOT / "monitoring/grafana/dashboards/triage.json").read_text())
    [variable, mailbox] = dashboard["templating"]["list"]
    assert variable["type"] == "datasource" and variable["query"] == "prometheus"
    assert mailbox["datasource"] == {"type": "prometheus", "uid": "${datasource}"} and mailbox["includeAll"]
    sources = [p.get("datasource") for p in dashboard["panels"] if p["type"] != "row"]
    sources += [t["datasource"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert sources and all(s == {"type": "prometheus", "uid": "${datasource}"} for s in sources)
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    windows = {w for e in exprs for w in re.findall(r"\[([^\]]+)\]", e)}
    # Per-second graphs follow the scrape interval; the fixed windows are deliberate: the same ratios the
    # alerts evaluate (10m, 30m, the override rate's 1d) and per-hour figures (1h).
    assert windows == {"$__rate_interval", "10m", "30m", "1h", "1d"}


def test_alerts_go_to_alertmanager_whose_configuration_amtool_accepts() -> None:
    config = yaml.safe_load((ROOT / "monitoring" / "prometheus" / "prometheus.yml").read_text())
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    mounted = SERVICES["alertmanager"]["volumes"][0].split(":")
    assert mounted[:2] == ["./monitoring/alertmanager/alertmanager.yml", "/etc/alertmanager/alertmanager.yml"]
    amtool = require_program("amtool", "prometheus-alertmanager")
    done = subprocess.run(
        [amtool, "check-config", mounted[0]], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr
    routed = subprocess.run(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={mounted[0]}",
            "severity=critical",
            "alertname=TriageRoleHasNoWorker",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert routed.stdout.strip() == "operators", routed.stdout + routed.stderr


def test_the_image_installs_the_wheel_with_the_proved_versions() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip wheel --no-cache-dir --no-deps -w /dist ." in dockerfile  # what tests/test_packaging.py runs
    assert "pip install --no-cache-dir -c /tmp/constraints.txt /tmp/dist/*.whl" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "var"} <= set(ignored)


@pytest.mark.parametrize(
    "args",
    [
        ["check", "config", "monitoring/prometheus/prometheus.yml"],
        ["check", "rules", "monitoring/prometheus/alerts.yml"],
        ["test", "rules", "monitoring/prometheus/alerts_test.yml"],
    ],
)
def test_promtool_accepts_the_config_rules_and_rule_tests(args: list[str]) -> None:
    promtool = require_program("promtool", "prometheus")
    done = subprocess.run([promtool, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_its_runbook_entry() -> None:
    rules = yaml.safe_load((ROOT / "monitoring" / "prometheus" / "alerts.yml").read_text())["groups"]
    runbook = (ROOT / "docs" / "operations.md").read_text()
    for rule in (r for group in rules for r in group["rules"]):
        assert f"\n### {rule['alert']}\n" in runbook, rule["alert"]
        assert rule["annotations"]["runbook"] == f"docs/operations.md#{rule['alert'].lower()}"


def test_the_console_service_serves_a_real_command_on_this_machine_only_with_its_users_kept() -> None:
    console = SERVICES["console"]
    assert console["command"][0] == "console" and triage(*console["command"], "--help").exit_code == 0
    assert console["ports"] == ["127.0.0.1:8080:8080"]
    users = console["environment"]["TRIAGE_CONSOLE_USERS"]
    [volume] = console["volumes"]
    name, mounted = volume.split(":")
    assert name in COMPOSE["volumes"] and users.startswith(mounted + "/")
    assert f"install -d -o triage -m 700 {mounted}" in (ROOT / "Dockerfile").read_text()
