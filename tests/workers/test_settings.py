"""Configuration fails at start-up with the name of the variable to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.memory.embedding import HashedNgrams, MiniLM
from agent.planner import RulePlanner
from tools.catalog import CATALOG
from workers.app import celery_config
from workers.checks import longest_hold_s
from workers.runtime import build_runtime, tool_catalog
from workers.settings import ConfigError, load_settings


def test_defaults_need_no_environment() -> None:
    settings = load_settings()
    assert settings.namespace == "triage" and settings.max_plan_steps == 10


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRIAGE_MAX_PLAN_STEPS", "lots"),
        ("TRIAGE_ACCOUNT_ID_PATTERN", "ACC[0-9"),
        ("TRIAGE_CATEGORIES_FILE", "/nonexistent/categories.json"),
        ("TRIAGE_JIRA_PRIORITIES", '{"low": "Low"}'),
        ("TRIAGE_NAMESPACE", "has spaces"),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        load_settings()


def test_an_imap_mailbox_needs_a_password_a_token_or_a_token_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TRIAGE_IMAP_OAUTH2_TOKEN_FILE"):
        load_settings(imap_host="imap.example.com", imap_user="support")
    config = load_settings(
        imap_host="imap.example.com", imap_user="support", imap_oauth2_token_file=tmp_path / "token"
    ).imap_config()
    assert config is not None and config.oauth2_token_file == tmp_path / "token" and config.password is None


def test_a_visibility_timeout_shorter_than_a_task_can_be_held_is_refused() -> None:
    settings = load_settings(visibility_timeout_s=100)
    assert longest_hold_s(settings, tool_catalog(settings)) >= 100
    with pytest.raises(ConfigError, match="TRIAGE_VISIBILITY_TIMEOUT_S=100: must exceed"):
        build_runtime(settings)


def test_tool_timeouts_are_configured_per_runtime_and_count_in_the_visibility_check() -> None:
    settings = load_settings(tool_timeouts={"categorize_ticket": 7, "create_jira_issue": 3000})
    catalog = tool_catalog(settings)
    assert catalog["categorize_ticket"].timeout_s == 7 and catalog["create_jira_issue"].timeout_s == 3000
    assert CATALOG["categorize_ticket"].timeout_s != 7, "the built-in catalog is never changed"
    assert longest_hold_s(settings, catalog) == catalog["create_jira_issue"].hard_timeout_s
    with pytest.raises(ConfigError, match="TRIAGE_VISIBILITY_TIMEOUT_S=3600: must exceed"):
        build_runtime(settings)


@pytest.mark.parametrize("timeouts", [{"no_such_tool": 5}, {"categorize_ticket": 0}])
def test_a_tool_timeout_for_an_unknown_tool_or_not_positive_is_refused(timeouts: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="TRIAGE_TOOL_TIMEOUTS: .* needs a known tool"):
        tool_catalog(load_settings(tool_timeouts=timeouts))


def test_the_broker_is_reliable_by_configuration() -> None:
    config = celery_config(load_settings(namespace="n1"))
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]
    assert config["worker_prefetch_multiplier"] == 1
    assert config["broker_transport_options"] == {"visibility_timeout": 3600, "global_keyprefix": "n1:kombu:"}
    # Beat keeps its interval schedule in memory: two workers with beat on one host (ingest and "all")
    # once shared a schedule file, and one beat died on it.
    assert config["beat_scheduler"] == "celery.beat:Scheduler" and "beat_schedule_filename" not in config


def test_a_categories_file_that_cannot_train_the_classifier_stops_start_up(tmp_path: Path) -> None:
    bad = tmp_path / "categories.json"
    bad.write_text('{"categories": [{"name": "only", "description": "d", "examples": ["e"]}]}')
    with pytest.raises(ConfigError, match="TRIAGE_CATEGORIES_FILE: categories file .* is invalid"):
        build_runtime(load_settings(categories_file=bad))


def test_a_configured_pattern_that_backtracks_catastrophically_is_refused() -> None:
    cubic = r"\border\s*(?:number)?\s*[:#]?\s*(\d{5,})"  # three adjacent \s*: the shape that stalled workers
    with pytest.raises(ConfigError, match="TRIAGE_ORDER_ID_PATTERN: .*backtracks catastrophically"):
        load_settings(order_id_pattern=cubic)
    assert load_settings(order_id_pattern=r"\border\s{0,5}#?(\d{5,})").order_id_pattern.startswith(r"\border")


def test_memory_is_off_unless_asked_and_then_lives_where_it_is_told(tmp_path: Path) -> None:
    assert build_runtime(load_settings()).memory is None
    folder = build_runtime(load_settings(memory="on", memory_path=tmp_path, memory_embedder="hashed")).memory
    assert folder is not None and folder.path == tmp_path and folder.url is None
    assert isinstance(folder.embedder, HashedNgrams)
    server = build_runtime(
        load_settings(memory="on", memory_url="http://chroma:8000", memory_embedder="minilm")
    )
    assert server.memory is not None and server.memory.url == "http://chroma:8000"
    assert isinstance(server.memory.embedder, MiniLM) and server.memory.name.endswith("all-MiniLM-L6-v2")
    assert isinstance(server.planner, RulePlanner) and server.planner.remember
