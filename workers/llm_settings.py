"""The settings of the LLM (TRIAGE_LLM_*): which model, how it is asked, its limits over the fleet, what
a prompt may take and what its tokens cost; part of Settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class LLMSettings(BaseSettings):
    """The model the planner, the observer and the LLM tools ask; workers/settings.py's Settings has these
    fields."""

    llm_model: str | None = Field(None, description="model name; set it to plan and analyse with an LLM")
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint; unset: api.openai.com")
    llm_api_key: SecretStr = Field(SecretStr("unused"), description="API key (local servers accept any)")
    llm_temperature: float = Field(0.2, ge=0, le=1, description="sampling temperature (refused above 1)")
    llm_timeout_s: float = Field(30.0, gt=0, le=600, description="timeout of one LLM request")
    llm_queue_timeout_s: float = Field(
        30.0, gt=0, le=3600, description="longest a request waits for its turn before the model is skipped"
    )
    llm_fallback_model: str | None = Field(
        None,
        description="a cheaper model on the same endpoint, asked when a budget cannot take a call to "
        "TRIAGE_LLM_MODEL (then the rules plan; a policy rule on llm_budget_spent holds such runs)",
    )
    shadow_model: str | None = Field(
        None,
        description="a candidate model planned beside production on every finished run, its side effects "
        "captured and never sent, recorded for `triage replay --shadow` (same endpoint and settings)",
    )
    llm_redact: bool = Field(
        False,
        description="replace names, e-mail addresses, phone numbers, IBANs, card numbers, account ids and "
        "street addresses by placeholders in what goes to the model (needs the redact extra: Presidio)",
    )
    llm_max_transport_retries: int = Field(2, ge=0, le=10, description="retries on 429/5xx/timeouts")
    llm_max_concurrency: int = Field(4, ge=1, le=256, description="LLM requests in flight per process")
    llm_requests_per_min: int | None = Field(
        None,
        ge=1,
        description="LLM requests a minute over the whole fleet (the endpoint's limit); unset: none",
    )
    llm_tokens_per_min: int | None = Field(
        None,
        ge=1000,
        description="LLM tokens a minute over the fleet (a request counts its prompt and longest answer)",
    )
    llm_max_output_tokens: int = Field(800, ge=64, description="max tokens of one answer")
    llm_max_repairs: int = Field(2, ge=0, le=10, description="rejected plans sent back before fallback")
    llm_ticket_tokens: int | None = Field(
        None, ge=1000, description="most LLM tokens one ticket may spend (plan, analysis, looks, drafts)"
    )
    llm_daily_tokens: int | None = Field(
        None, ge=1000, description="most LLM tokens the whole fleet may spend a day (UTC)"
    )
    llm_daily_usd: float | None = Field(
        None, gt=0, description="most the whole fleet may spend on the LLM a day (UTC), by TRIAGE_LLM_PRICES"
    )
    llm_mailbox_daily_tokens: dict[str, int] = Field(
        {}, description="mailbox -> most LLM tokens its tickets may spend a day (JSON)"
    )
    llm_prompt_budget: int = Field(
        2000,
        ge=600,
        le=200_000,
        description="tokens a planning prompt may take: the tools are shown in less detail, and the e-mail "
        "cut, to fit",
    )
    planner_max_tools: int = Field(
        24,
        ge=1,
        le=1000,
        description="most tools a planning prompt shows: with more in the catalog (MCP servers), the "
        "system's own and those whose descriptions are nearest the e-mail (bench/tool_recall.py)",
    )
    llm_structured_output: Literal["json_schema", "json_object", "tools"] = Field(
        "json_schema", description="how JSON is requested (json_object for llama.cpp)"
    )
    llm_tools: bool = Field(True, description="also categorize and extract with the LLM when it is set")
    llm_prices: dict[str, tuple[float, float]] = Field(
        {
            "gpt-4o-mini": (0.15, 0.6),
            "gpt-4o": (2.5, 10.0),
            "gpt-4.1-mini": (0.4, 1.6),
            "gpt-4.1": (2.0, 8.0),
        },
        description="model -> [USD per 1M prompt, per 1M completion tokens] (JSON)",
    )
