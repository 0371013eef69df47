"""docker-compose.yml and the monitoring files refer only to things that exist in the project.

Docker cannot run here, so the file is checked as data: structure, every command a worker runs,
every file mounted, and the ports Prometheus scrapes."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tests.support import ROOT
from workers.app import ROLES
from workers.cli import main
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
    assert CliRunner().invoke(main, [*command, "--help"]).exit_code == 0
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    env = service["environment"]
    assert env["TRIAGE_REDIS_URL"] == "redis://redis:6379/0"
    assert set(env) <= {f"TRIAGE_{f.upper()}" for f in Settings.model_fields}


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


def test_prometheus_scrapes_every_worker_role_on_the_metrics_port() -> None:
    config = yaml.safe_load((ROOT / "monitoring" / "prometheus" / "prometheus.yml").read_text())
    [discovery] = config["scrape_configs"][0]["dns_sd_configs"]
    assert (
        sorted(discovery["names"]) == sorted(WORKERS)
        and discovery["port"] == Settings.model_fields["metrics_port"].default
    )
    assert all("9808" in SERVICES[w]["expose"] for w in WORKERS)


def test_grafana_provisions_the_prometheus_data_source_and_the_dashboard() -> None:
    source = yaml.safe_load((ROOT / "monitoring/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    dashboard = json.loads((ROOT / "monitoring/grafana/dashboards/triage.json").read_text())
    uids = {t["datasource"]["uid"] for p in dashboard["panels"] for t in p.get("targets", [])}
    assert uids == {source["datasources"][0]["uid"]}


def test_the_dockerfile_copies_every_package_the_project_installs() -> None:
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert all(f"COPY {p} ./{p}" in dockerfile for p in packages)


@pytest.mark.parametrize("args", [["check", "config", "monitoring/prometheus/prometheus.yml"],
                                  ["check", "rules", "monitoring/prometheus/alerts.yml"],
                                  ["test", "rules", "monitoring/prometheus/alerts_test.yml"]])  # fmt: skip
def test_promtool_accepts_the_config_rules_and_rule_tests(args: list[str]) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing (Debian package 'prometheus'; .ci/run installs it)"
    done = subprocess.run([promtool, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
