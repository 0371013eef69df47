"""A candidate planner to try beside production (`triage replay`, TRIAGE_SHADOW_MODEL): production's
settings with another model and prompt, built the way the runtime builds production's."""

from __future__ import annotations

from agent.replay import Candidate
from tools.llm_client import OpenAICompatibleLLM
from tools.pii import Redactor
from workers.runtime import Runtime, model_planners
from workers.settings import ConfigError


def candidate_of(rt: Runtime, model: str | None, prompt_version: str) -> Candidate:
    """The planner, observer and judgement tools' model to try. It spends no ticket's budget (a replay
    is no ticket's; a shadow's cost is its own figure) but keeps to the fleet's limits of the endpoint,
    stops with `triage llm pause` like the fleet's, and redacts as production does. ConfigError when
    there is no model to try."""
    settings = rt.settings if model is None else rt.settings.model_copy(update={"llm_model": model})
    config = settings.llm_config()
    if config is None:
        raise ConfigError("no model to try: give one (--model, TRIAGE_SHADOW_MODEL) or set TRIAGE_LLM_MODEL")
    redactor = Redactor(settings.account_id_pattern) if settings.llm_redact else None
    llm = OpenAICompatibleLLM(config, rt.pacer, rt.store.llm.why_off, redactor=redactor)
    planner, observer = model_planners(settings, llm, rt.catalog, rt.abilities, rt.rules(), prompt_version)
    return Candidate(planner, observer, rt.catalog, llm if settings.llm_tools else None)
