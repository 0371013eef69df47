"""The process-wide objects tasks use: settings, Redis, the run store, the planner and tool config."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from agent.autonomy import Policy
from agent.llm_planner import PROMPT_VERSION, LLMPlanner
from agent.memory.chroma import Memory
from agent.memory.embedding import Embedder, HashedNgrams, MiniLM
from agent.memory.kb import KnowledgeBase
from agent.observer import Observer
from agent.planner import Planner, RulePlanner
from agent.store import RunStore
from agent.store.llm_budget import Caps, LLMBudget
from agent.tool_shortlist import Shortlist
from tools import embeddings, jira_client
from tools.base import Tool, ToolConfig
from tools.catalog import CATALOG, with_timeouts
from tools.incident import link_incident
from tools.kb_port import KnowledgeSearch
from tools.llm import LLM
from tools.llm_client import OpenAICompatibleLLM
from tools.mcp_remote import RemoteProblem, remote_catalog
from tools.pacing_port import Pacer
from tools.pii import Redactor
from tools.remember import remember_reply, remember_ticket
from workers import checks
from workers.broker import QueueDepths
from workers.desks import DEFAULT_DESK, Desk, build_desks, policy_from
from workers.memory_choice import memory_enabled
from workers.pacing import MeteredPacer
from workers.redis_connection import redis_client
from workers.settings import ConfigError, Settings, load_settings


@dataclass(frozen=True)
class Abilities:
    """What a worker has besides the catalog: a model is never offered a tool for what it lacks, and the
    rule plan has a step only for what it has."""

    memory: bool
    incidents: bool
    acknowledge: bool
    drafts: bool


@dataclass(frozen=True)
class Runtime:
    """Everything a task needs besides its arguments."""

    settings: Settings
    store: RunStore
    planner: Planner
    tool_config: ToolConfig
    catalog: dict[str, Tool[Any, Any]]  # the tools with TRIAGE_TOOL_TIMEOUTS applied
    depths: QueueDepths  # the broker's queue depths (Redis's kombu lists, or RabbitMQ's queues)
    llm: LLM | None = None  # the tools use it when TRIAGE_LLM_TOOLS is on
    memory: Memory | None = None  # long-term memory when TRIAGE_MEMORY is on (opened on first use)
    policy: Policy | None = None  # the autonomy policy (TRIAGE_POLICY_PATH); None: every run acts on its own
    kb: KnowledgeSearch | None = None  # the knowledge base (TRIAGE_KB_PATH, in memory)
    observer: Observer | None = None  # LLM mode: looks at a model plan's results (TRIAGE_OBSERVE_ROUNDS)
    pacer: Pacer | None = None  # the fleet's shared API limits (Jira's client has it too)
    desks: dict[str, Desk] = field(default_factory=dict)  # the mailboxes file's, by name (workers/desks.py)

    def desk(self, mailbox: str) -> Desk:
        """The desk of a ticket's mailbox: the file's, else the TRIAGE_* settings' own (the default mailbox,
        and a mailbox the file no longer names: its tickets still finish, the way the settings say)."""
        return self.desks.get(mailbox) or Desk(DEFAULT_DESK, self.tool_config, self.policy, kb=self.kb)

    @property
    def abilities(self) -> Abilities:
        """What this runtime has: memory, incidents, acknowledgements, drafts (a knowledge base)."""
        drafts = self.kb is not None or any(d.kb is not None for d in self.desks.values())
        return Abilities(self.memory is not None, self.incidents, self.settings.ack == "on", drafts)

    def rules(self) -> RulePlanner:
        """The rule planner as this runtime configures it (memory, incidents, acknowledgements, drafts)."""
        able = self.abilities
        return rule_planner(able.memory, able.incidents, able.acknowledge, able.drafts)

    def observing(self, planner: str) -> tuple[int, float]:
        """(rounds, seconds per look) in which a run planned by `planner` is looked at again before it
        closes: only a model's plan is (rules and fallbacks are fixed plans), and only with an observer."""
        if self.observer is None or planner != "llm":
            return 0, 0.0
        return self.settings.observe_rounds, observe_time_limit(self.settings) + 30

    @property
    def incidents(self) -> bool:
        """True when reports of one outage are gathered (TRIAGE_INCIDENTS, which needs memory)."""
        return self.memory is not None and self.settings.incidents == "on"


def rule_planner(memory: bool, incidents: bool, acknowledge: bool, draft: bool = False) -> RulePlanner:
    """The rule plan's steps follow what is on: remembering, incidents, acknowledgements, drafts."""
    return RulePlanner(remember=memory, incidents=incidents, acknowledge=acknowledge, draft=draft)


_current: Runtime | None = None


def build_runtime(settings: Settings, servers: bool = True) -> Runtime:
    """Assemble the runtime (nothing connects yet, but for listing the MCP servers' tools: without
    `servers`, for a command that neither runs nor judges a plan, their tools are left out); settings that
    would fail every ticket stop it here (workers/checks.py). The embeddings classifier takes seconds to
    load, so a worker trains it when it starts (workers.app) and other processes on first use."""
    catalog = tool_catalog(settings, servers)
    client = redis_client(settings)
    store = RunStore(client, settings.namespace, settings.retention_s)
    pacer = MeteredPacer(store.pacing)  # the fleet's shared API limits: Jira, the LLM, the SMTP relay
    llm_config = settings.llm_config()
    budget = LLMBudget(client, store.keys, budget_caps(settings), settings.retention_s)
    redactor = Redactor(settings.account_id_pattern) if settings.llm_redact else None
    llm = OpenAICompatibleLLM(llm_config, pacer, store.llm.why_off, budget, redactor) if llm_config else None
    checks.refuse(checks.settings_problems(settings, catalog, llm))
    memory = memory_of(settings)
    incidents = memory is not None and settings.incidents == "on"
    acknowledge = settings.ack == "on"
    kb = knowledge_base_of(settings, memory)
    tool_config = settings.tool_config()
    policy = policy_from(settings.policy_path, tool_config.categories_file)
    desks = build_desks(settings, Desk(DEFAULT_DESK, tool_config, policy, kb=kb), memory)
    drafts = kb is not None or any(d.kb is not None for d in desks.values())
    able = Abilities(memory is not None, incidents, acknowledge, drafts)
    rules = rule_planner(able.memory, able.incidents, able.acknowledge, able.drafts)
    checks.refuse(checks.plan_length_problems(settings, rules))
    planner, observer = model_planners(settings, llm, catalog, able, rules) if llm else (rules, None)
    jira_client.pace_with(pacer)
    return Runtime(
        settings=settings,
        store=store,
        planner=planner,
        tool_config=tool_config,
        catalog=catalog,
        depths=QueueDepths(settings, store.health),
        llm=llm if settings.llm_tools else None,
        memory=memory,
        policy=policy,
        kb=kb,
        observer=observer,
        pacer=pacer,
        desks=desks,
    )


def model_planners(
    settings: Settings,
    llm: LLM,
    catalog: dict[str, Tool[Any, Any]],
    able: Abilities,
    fallback: Planner,
    prompt_version: str = PROMPT_VERSION,
) -> tuple[Planner, Observer | None]:
    """The model's planner (falling back to `fallback`) and observer (None with TRIAGE_OBSERVE_ROUNDS=0),
    offered the catalog's tools this worker can use; a replay builds a candidate's the same way."""
    absent = {remember_ticket.name, remember_reply.name} if not able.memory else set()
    absent |= set() if able.incidents else {link_incident.name}
    absent |= set() if able.acknowledge else {"acknowledge"}
    absent |= set() if able.drafts else {"draft_reply"}
    offered = {n: t for n, t in catalog.items() if n not in absent}
    asking = {
        "max_steps": settings.max_plan_steps,
        "max_repairs": settings.llm_max_repairs,
        "prompt_budget": settings.llm_prompt_budget,
    }
    shortlist = shortlist_of(settings, offered)
    planner = LLMPlanner(
        llm, offered, fallback=fallback, prompt_version=prompt_version, shortlist=shortlist, **asking
    )
    observer = Observer(llm, offered, shortlist=shortlist, **asking) if settings.observe_rounds else None
    return planner, observer


def shortlist_of(settings: Settings, offered: dict[str, Tool[Any, Any]]) -> Shortlist | None:
    """What picks a ticket's tools when the catalog offers more than TRIAGE_PLANNER_MAX_TOOLS: the
    system's own always, the MCP servers' nearest the e-mail; None when every tool fits."""
    if len(offered) <= settings.planner_max_tools:
        return None
    return Shortlist(offered, CATALOG, settings.planner_max_tools, embedder_of(settings))


def budget_caps(settings: Settings) -> Caps:
    """The LLM budgets the settings set (TRIAGE_LLM_TICKET_TOKENS, _DAILY_TOKENS, _DAILY_USD and
    _MAILBOX_DAILY_TOKENS)."""
    return Caps(
        ticket_tokens=settings.llm_ticket_tokens,
        daily_tokens=settings.llm_daily_tokens,
        daily_usd=settings.llm_daily_usd,
        mailbox_daily_tokens=settings.llm_mailbox_daily_tokens,
    )


def observe_time_limit(settings: Settings) -> int:
    """Seconds one look at a run's results may take at most: each answer, repaired and retried."""
    asks = (settings.llm_max_repairs + 1) * (settings.llm_max_transport_retries + 1)
    return math.ceil(asks * settings.llm_timeout_s) + 30


def embedder_of(settings: Settings) -> Embedder:
    """The project's embedder (TRIAGE_MEMORY_EMBEDDER; auto: MiniLM when its weights are installed,
    README: Memory): memory's, and what picks a large catalog's tools for a prompt."""
    wanted = settings.memory_embedder
    minilm = wanted == "minilm" or (wanted == "auto" and embeddings.available())
    return MiniLM() if minilm else HashedNgrams()


def memory_of(settings: Settings) -> Memory | None:
    """Long-term memory as configured (nothing opens until first use), or None when it is off."""
    if not memory_enabled(settings):
        return None
    embedder = embedder_of(settings)
    if settings.memory_url is not None:
        return Memory(embedder, settings.namespace, url=settings.memory_url)
    return Memory(embedder, settings.namespace, path=settings.memory_path)


def knowledge_base_of(settings: Settings, memory: Memory | None) -> KnowledgeBase | None:
    """The knowledge base (TRIAGE_KB_PATH), indexed in memory; None when there is none, or when memory is
    off by its default here (a worker of a fleet without TRIAGE_MEMORY_URL says so at start)."""
    if settings.kb_path is None or (memory is None and settings.memory == "auto"):
        return None
    if memory is None or not settings.kb_path.is_dir():
        raise ConfigError(f"TRIAGE_KB_PATH={settings.kb_path}: needs memory and an existing folder")
    return KnowledgeBase(memory, settings.kb_path)


def tool_catalog(settings: Settings, servers: bool = True) -> dict[str, Tool[Any, Any]]:
    """The tools with the timeouts configured for them (every reader of a tool's limits uses this), and
    with `servers` the tools of the MCP servers configured (TRIAGE_MCP_SERVERS: each is asked for its
    list now)."""
    try:
        built_in = with_timeouts(settings.tool_timeouts)
    except ValueError as exc:
        raise ConfigError(f"TRIAGE_TOOL_TIMEOUTS: {exc}") from None
    if not servers:
        return built_in
    try:
        return built_in | remote_catalog(settings.mcp_servers)
    except RemoteProblem as exc:
        raise ConfigError(f"TRIAGE_MCP_SERVERS: {exc}") from None


def install(settings: Settings, servers: bool = True) -> Runtime:
    """Make these settings the process's runtime (`servers`: see build_runtime)."""
    global _current
    _current = build_runtime(settings, servers)
    return _current


def runtime() -> Runtime:
    """The process's runtime, built from the environment on first use."""
    return _current if _current is not None else install(load_settings())
