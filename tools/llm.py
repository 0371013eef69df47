"""The model as its callers see it: how to reach it (LLMConfig), what a call answers and costs (LLMReply,
Usage), why it did not answer (LLMUnavailable), and anything that answers (LLM: the real client,
tools/llm_client.py, or a script in the tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, SecretStr

from tools.llm_budget import Charge

StructuredMode = Literal["json_schema", "json_object", "tools"]


class LLMConfig(BaseModel):
    """How to reach the model: built from the TRIAGE_LLM_* settings, which hold every default."""

    model_config = ConfigDict(frozen=True)

    base_url: str | None
    api_key: SecretStr
    model: str
    temperature: float
    timeout_s: float
    max_output_tokens: int
    max_transport_retries: int
    structured_output: StructuredMode
    max_concurrency: int  # requests in flight from one process; more wait (a self-hosted model has one queue)
    prices: dict[str, tuple[float, float]]  # model -> (USD per 1M prompt tokens, per 1M completion tokens)
    queue_timeout_s: float = 30.0  # longest a request waits for its turn before the caller falls back
    requests_per_min: int | None = None  # over the whole fleet (the shared pacer); None: no such limit
    tokens_per_min: int | None = None  # over the whole fleet: each request counts its prompt and max answer
    trace_content: bool = False  # the messages and answers in the calls' spans (TRIAGE_TRACE_CONTENT)
    fallback_model: str | None = None  # asked when a budget cannot take a call to `model` (a cheaper one)


@dataclass
class Usage:
    """LLM usage of one run (or one call): what it cost and how it went."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    cost_usd: float = 0.0
    repairs: int = 0
    fallbacks: int = 0

    def add(self, other: Usage) -> None:
        """Accumulate another usage record into this one."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class LLMUnavailable(Exception):
    """The model could not be asked (transport failure after retries, refusal, empty answer).

    `usage` still counts the failed call: it took time (and an empty answer may have cost tokens).
    """

    def __init__(self, message: str, usage: Usage | None = None) -> None:
        super().__init__(message)
        self.usage = usage or Usage(calls=1)


@dataclass
class LLMReply:
    """The model's JSON text and what the call cost; `note` says when another model answered, and why."""

    content: str
    usage: Usage = field(default_factory=Usage)
    note: str | None = None


class LLM(Protocol):
    """Anything that answers chat messages with JSON matching a schema (the real client or a script)."""

    def complete(
        self, messages: list[dict[str, str]], schema: dict[str, Any], name: str, charge: Charge | None = None
    ) -> LLMReply:
        """Ask for one JSON answer conforming to `schema`, spending `charge`'s budgets."""
        ...


def cost_usd(prices: dict[str, tuple[float, float]], model: str, prompt: int, completion: int) -> float:
    """Estimated cost of a call from the configured price table (0 for a model not in it)."""
    per_prompt, per_completion = prices.get(model, (0.0, 0.0))
    return (prompt * per_prompt + completion * per_completion) / 1_000_000
