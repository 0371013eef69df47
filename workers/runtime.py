"""The process-wide objects tasks use: settings, Redis, the run store, the planner and tool config."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from agent.planner import Planner, RulePlanner
from agent.store import RunStore
from tools.base import ToolConfig
from tools.categorize import classifier_for
from workers.settings import ConfigError, Settings, load_settings


@dataclass(frozen=True)
class Runtime:
    """Everything a task needs besides its arguments."""

    settings: Settings
    store: RunStore
    planner: Planner
    tool_config: ToolConfig


_current: Runtime | None = None


def build_runtime(settings: Settings) -> Runtime:
    """Connect to Redis and assemble the runtime; train the categorizer now, so a bad file stops start-up."""
    try:
        classifier_for(settings.categories_file)
    except ValueError as exc:
        raise ConfigError(f"TRIAGE_CATEGORIES_FILE: {exc}") from None
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10, health_check_interval=30)
    return Runtime(
        settings=settings,
        store=RunStore(client, settings.namespace, settings.retention_s),
        planner=RulePlanner(),
        tool_config=settings.tool_config(),
    )


def install(settings: Settings) -> Runtime:
    """Make these settings the process's runtime."""
    global _current
    _current = build_runtime(settings)
    return _current


def runtime() -> Runtime:
    """The process's runtime, built from the environment on first use."""
    return _current if _current is not None else install(load_settings())
