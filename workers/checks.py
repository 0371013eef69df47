"""Start-up checks, in one place: each finds typed problems (fatal or a warning) instead of failing later.

Settings checks run wherever a runtime is built (the CLI, a worker): a fatal one is a ConfigError that
names the variable. Service checks run when a worker starts: a fatal one stops it (exit 2) before it
takes a task, a warning is printed and the worker goes on (an unreachable service is retried by tasks).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from agent.planner import RulePlanner
from agent.store.health import StoreHealth
from tools.ack_templates import TemplateError, templates
from tools.base import Tool, ToolConfig
from tools.catalog import CATALOG
from tools.jira_client import JiraUnreachable
from tools.jira_site import check_site
from tools.llm_client import OpenAICompatibleLLM
from tools.taxonomy import classifier_for
from workers.memory_choice import memory_enabled
from workers.redaction import redacted
from workers.reply_settings import ReplySettings
from workers.settings import ConfigError, Settings


@dataclass(frozen=True)
class Problem:
    """One thing wrong at start-up: where (a setting or a service), what, and whether it stops the start."""

    where: str
    message: str
    fatal: bool = True

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def longest_hold_s(settings: Settings, catalog: dict[str, Tool[Any, Any]]) -> float:
    """The longest a task message may stay unacknowledged: a tool's hard limit or a retry's delay."""
    hard = max(t.hard_timeout_s for t in catalog.values())
    retry = max(t.retry.cap_s for t in catalog.values()) * settings.retry_scale
    return max(hard, retry)


def settings_problems(
    settings: Settings, catalog: dict[str, Tool[Any, Any]], llm: OpenAICompatibleLLM | None
) -> list[Problem]:
    """What in these settings would fail every ticket (all fatal). Trains the TF-IDF classifier (ms)."""
    problems = []
    try:
        classifier_for(settings.categories_file)
    except ValueError as exc:
        problems.append(Problem("TRIAGE_CATEGORIES_FILE", str(exc)))
    if llm is not None and settings.llm_tools:
        worst = llm.worst_case_s()
        for name in ("categorize_ticket", "extract_entities"):
            if (limit := catalog[name].timeout_s) < worst + 5:
                why = (
                    f"{name} gives up after {limit:.0f}s, but one LLM call can take {worst:.0f}s (queue + "
                    "timeout x tries): lower TRIAGE_LLM_TIMEOUT_S or TRIAGE_LLM_MAX_TRANSPORT_RETRIES, or "
                    "raise TRIAGE_TOOL_TIMEOUTS"
                )
                problems.append(Problem("TRIAGE_LLM_TIMEOUT_S", why))
    if memory_enabled(settings) and settings.jira_url is not None and not settings.jira_labels:
        why = (
            "is empty, but the corrections read-back finds this system's issues in Jira by the first "
            'label: set one (default ["triage"])'
        )
        problems.append(Problem("TRIAGE_JIRA_LABELS", why))
    problems += acknowledgement_problems(settings)
    problems += catalog_cut_problems(settings, catalog) if llm is not None else []
    if settings.llm_redact and importlib.util.find_spec("presidio_analyzer") is None:
        fix = "pip install 'ticket-triage[redact]' (the image: docker build --build-arg REDACT=1)"
        problems.append(Problem("TRIAGE_LLM_REDACT", f"is on, but Presidio is not installed: {fix}"))
    hold = longest_hold_s(settings, catalog)
    if settings.visibility_timeout_s <= hold:
        why = (
            f"must exceed {hold:.0f}s, the longest a task can stay unacknowledged (hard time limit or "
            "retry delay); otherwise Redis redelivers running tasks and work is done twice"
        )
        problems.append(Problem(f"TRIAGE_VISIBILITY_TIMEOUT_S={settings.visibility_timeout_s}", why))
    return problems


def catalog_cut_problems(settings: Settings, catalog: dict[str, Tool[Any, Any]]) -> list[Problem]:
    """A limit on the tools a prompt shows that leaves no room for the MCP servers' tools (the system's
    own are always shown): the model could never be offered one."""
    own = sum(name in CATALOG for name in catalog)
    if own == len(catalog) or settings.planner_max_tools > own:
        return []
    why = (
        f"leaves no room for the MCP servers' {len(catalog) - own} tools: the system's own {own} are "
        "always shown; raise it"
    )
    return [Problem(f"TRIAGE_PLANNER_MAX_TOOLS={settings.planner_max_tools}", why)]


def plan_length_problems(settings: Settings, rules: RulePlanner) -> list[Problem]:
    """The rule plan longer than plans may be: every run the rules plan (and every model's fallback)
    would be refused and dead-lettered."""
    if (longest := rules.most_steps()) <= settings.max_plan_steps:
        return []
    return [
        Problem(
            f"TRIAGE_MAX_PLAN_STEPS={settings.max_plan_steps}",
            (
                f"is shorter than the rule plan ({longest} steps with memory, incidents, drafts and "
                f"acknowledgements as configured): raise it to {longest} at least, or switch some of them off"
            ),
        )
    ]


EXAMPLE_SENDER = ReplySettings.model_fields["ack_from"].default  # support@example.com


def acknowledgement_problems(settings: Settings) -> list[Problem]:
    """Acknowledgements that would go out wrong: from the example address through a real SMTP server, or
    with a template that cannot be used (TemplateError names the file)."""
    problems = []
    if settings.ack == "on" and settings.smtp_host is not None and settings.ack_from == EXAMPLE_SENDER:
        why = (
            f"is still the example address {EXAMPLE_SENDER}, and TRIAGE_SMTP_HOST would send customers mail "
            "from it: set your support address (or TRIAGE_ACK=off)"
        )
        problems.append(Problem("TRIAGE_ACK_FROM", why))
    try:
        templates(settings.ack_templates_dir)
    except (TemplateError, OSError) as exc:
        problems.append(Problem("TRIAGE_ACK_TEMPLATES_DIR", str(exc)))
    return problems


def refuse(problems: Iterable[Problem]) -> None:
    """Raise ConfigError naming every fatal problem (the settings are not usable)."""
    fatal = [str(p) for p in problems if p.fatal]
    if fatal:
        raise ConfigError("\n".join(fatal))


def redis_problems(health: StoreHealth) -> list[Problem]:
    """A Redis that may evict keys when full loses tickets without a trace (fatal); one that cannot be
    read is left to Celery's connection retries (a warning)."""
    try:
        risk = health.eviction_risk()
    except redis.RedisError as exc:
        return [Problem("redis", f"cannot read its memory policy ({exc}); not checked", fatal=False)]
    return [Problem("redis", risk)] if risk is not None else []


def jira_problems(config: ToolConfig) -> list[Problem]:
    """Jira settings the server rejects (credentials, project, issue type, priority, component) are fatal;
    an unreachable Jira is a warning: tasks retry until it answers."""
    if config.jira_dry_run:
        return []
    try:
        return [Problem("jira", problem) for problem in check_site(config)]
    except JiraUnreachable as exc:
        message = redacted(
            f"cannot reach {config.jira_url} (TRIAGE_JIRA_URL): {exc}; tasks retry until it answers"
        )
        return [Problem("jira", message, fatal=False)]


def categorizer_problems(config: ToolConfig) -> tuple[list[Problem], str]:
    """Train the configured categorizer now (before a prefork pool forks, so children share it); a broken
    embeddings install is fatal. Also returns what it trained, to say so."""
    try:
        classifier = classifier_for(config.categories_file, config.classifier)
    except Exception as exc:
        return [Problem("categorize_ticket", f"cannot train the {config.classifier} classifier: {exc}")], ""
    return (
        [],
        f"categorize_ticket uses the {classifier.name} classifier ({len(classifier.labels)} categories)",
    )
