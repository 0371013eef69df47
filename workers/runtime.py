"""The process-wide objects tasks use: settings, Redis, the run store, the planner and tool config."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from agent.llm_planner import LLMPlanner
from agent.planner import Planner, RulePlanner
from agent.store import RunStore
from tools.base import ToolConfig
from tools.catalog import CATALOG
from tools.llm import LLM, OpenAICompatibleLLM
from tools.taxonomy import classifier_for
from workers.settings import ConfigError, Settings, load_settings


@dataclass(frozen=True)
class Runtime:
    """Everything a task needs besides its arguments."""

    settings: Settings
    store: RunStore
    planner: Planner
    tool_config: ToolConfig
    llm: LLM | None = None  # the tools use it when TRIAGE_LLM_TOOLS is on


_current: Runtime | None = None


def build_runtime(settings: Settings) -> Runtime:
    """Connect to Redis and assemble the runtime; train the categorizer now, so a bad file stops start-up."""
    try:
        classifier_for(settings.categories_file)
    except ValueError as exc:
        raise ConfigError(f"TRIAGE_CATEGORIES_FILE: {exc}") from None
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10, health_check_interval=30)
    llm_config = settings.llm_config()
    llm = OpenAICompatibleLLM(llm_config) if llm_config is not None else None
    planner: Planner = RulePlanner()
    if llm is not None:
        planner = LLMPlanner(
            llm, CATALOG, max_steps=settings.max_plan_steps, max_repairs=settings.llm_max_repairs
        )
    return Runtime(
        settings=settings,
        store=RunStore(client, settings.namespace, settings.retention_s),
        planner=planner,
        tool_config=settings.tool_config(),
        llm=llm if settings.llm_tools else None,
    )


def install(settings: Settings) -> Runtime:
    """Make these settings the process's runtime."""
    global _current
    _current = build_runtime(settings)
    return _current


def runtime() -> Runtime:
    """The process's runtime, built from the environment on first use."""
    return _current if _current is not None else install(load_settings())
