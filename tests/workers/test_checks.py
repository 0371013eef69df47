"""Start-up checks find typed problems: fatal ones stop the start, warnings are said and let it go on."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import redis

from agent.store import RunStore
from bench.other_systems import other_systems
from tools.catalog import CATALOG
from workers.checks import (
    Problem,
    catalog_cut_problems,
    categorizer_problems,
    jira_problems,
    redis_problems,
    refuse,
    settings_problems,
)
from workers.runtime import tool_catalog
from workers.settings import ConfigError, load_settings


def test_good_settings_have_no_problem() -> None:
    settings = load_settings()
    assert settings_problems(settings, tool_catalog(settings), None) == []


def test_each_setting_that_would_fail_every_ticket_is_a_fatal_problem_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "categories.json"
    broken.write_text('{"categories": []}')
    settings = load_settings(categories_file=broken, visibility_timeout_s=100)
    problems = settings_problems(settings, tool_catalog(settings), None)
    assert [(p.where, p.fatal) for p in problems] == [
        ("TRIAGE_CATEGORIES_FILE", True),
        ("TRIAGE_VISIBILITY_TIMEOUT_S=100", True),
    ]
    with pytest.raises(ConfigError) as refused:
        refuse(problems)
    assert str(refused.value) == "\n".join(str(p) for p in problems)


def test_redaction_without_presidio_installed_is_refused_saying_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings(llm_redact=True)
    assert settings_problems(settings, tool_catalog(settings), None) == []  # the dev install has it
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if "presidio" in name else real(name, *a)
    )
    [problem] = settings_problems(settings, tool_catalog(settings), None)
    assert problem.where == "TRIAGE_LLM_REDACT" and "ticket-triage[redact]" in str(problem)


def test_warnings_alone_do_not_refuse() -> None:
    refuse([Problem("jira", "cannot reach it; tasks retry", fatal=False)])


def test_a_dry_run_jira_has_nothing_to_check() -> None:
    assert jira_problems(load_settings().tool_config()) == []


def test_a_redis_that_keeps_its_keys_passes_and_one_that_cannot_be_read_is_a_warning(store: RunStore) -> None:
    assert redis_problems(store.health) == []  # the test Redis runs with maxmemory-policy noeviction
    unreachable = RunStore(redis.Redis(port=1, socket_timeout=1), "t", 60)
    [problem] = redis_problems(unreachable.health)
    assert problem.where == "redis" and not problem.fatal and "not checked" in problem.message


def test_the_categorizer_is_trained_at_start_and_a_broken_one_is_fatal(tmp_path: Path) -> None:
    config = load_settings(classifier="tfidf").tool_config()
    assert categorizer_problems(config) == ([], "categorize_ticket uses the tfidf classifier (4 categories)")
    broken = tmp_path / "categories.json"
    broken.write_text("not json")
    [problem], said = categorizer_problems(config.model_copy(update={"categories_file": broken}))
    assert problem.where == "categorize_ticket" and problem.fatal and said == ""


def test_a_prompt_limit_that_leaves_no_room_for_the_mcp_servers_tools_is_refused() -> None:
    catalog = dict(CATALOG) | other_systems(40)
    assert catalog_cut_problems(load_settings(planner_max_tools=len(CATALOG) + 1), catalog) == []
    [problem] = catalog_cut_problems(load_settings(planner_max_tools=len(CATALOG)), catalog)
    assert problem.fatal and problem.where == f"TRIAGE_PLANNER_MAX_TOOLS={len(CATALOG)}"
    assert "leaves no room for the MCP servers' 40 tools" in problem.message
    assert catalog_cut_problems(load_settings(planner_max_tools=3), dict(CATALOG)) == []  # no server
