"""Structured output from any OpenAI-compatible chat endpoint, with usage and cost accounting.

Three ways to ask for JSON, because servers differ:
- `json_schema`: response_format json_schema with strict=True (OpenAI, vLLM);
- `json_object`: response_format json_object with the schema beside it, as llama-cpp-python's server
  accepts it (it compiles the schema into a grammar);
- `tools`: one forced function call whose parameters are the schema (function calling).
Transport errors (429 honouring Retry-After, 5xx, timeouts) are retried by the openai client itself,
with its backoff; what still fails raises LLMUnavailable, and callers fall back to offline work.
Around each call: the kill switch, redaction, the budgets' reservation, the fleet's pacing, a span.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import openai

from tools.llm import LLMConfig, LLMReply, LLMUnavailable, Usage, cost_usd
from tools.llm_budget import Budget, Charge, Reserved, worst_case_tokens
from tools.llm_trace import answered, chat_span
from tools.pacing_port import Limit, Pacer, RateLimited, take_turn

if TYPE_CHECKING:  # tools/pii.py reads names with the extractor, whose tools import tools.base
    from tools.pii import Redaction, Redactor


class OpenAICompatibleLLM:
    """The real openai client pointed at OpenAI or any compatible server (vLLM, Ollama, llama.cpp)."""

    def __init__(
        self,
        config: LLMConfig,
        pacer: Pacer | None = None,
        off: Callable[[], str | None] | None = None,
        budget: Budget | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.config, self.pacer, self.budget, self.redactor = config, pacer, budget, redactor
        self.off = off  # why the fleet's model is switched off (`triage llm pause`), None while it is on
        self.client = openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key.get_secret_value(),
            timeout=config.timeout_s,
            max_retries=config.max_transport_retries,
        )
        self._turns = threading.BoundedSemaphore(config.max_concurrency)

    def worst_case_s(self) -> float:
        """The longest one complete() call can take: its wait for a turn plus every try's timeout."""
        return self.config.queue_timeout_s + self.config.timeout_s * (self.config.max_transport_retries + 1)

    def _request(self, schema: dict[str, Any], name: str) -> dict[str, Any]:
        mode = self.config.structured_output
        if mode == "json_schema":
            return {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": name, "schema": schema, "strict": True},
                }
            }
        if mode == "json_object":
            return {"response_format": {"type": "json_object", "schema": schema}}
        function = {"name": name, "description": f"Return the {name}.", "parameters": schema}
        return {
            "tools": [{"type": "function", "function": function}],
            "tool_choice": {"type": "function", "function": {"name": name}},
        }

    def complete(
        self, messages: list[dict[str, str]], schema: dict[str, Any], name: str, charge: Charge | None = None
    ) -> LLMReply:
        """Ask once (the client retries transport errors); raise LLMUnavailable when no answer comes: the
        model is switched off, `charge`'s budgets cannot take the call's worst case, or no answer came.
        With a redactor, the model sees placeholders for personal data and the answer has them put back."""
        if self.off is not None and (why := self.off()) is not None:
            raise LLMUnavailable(why)
        messages, redaction = self._redacted(messages)
        model, reserved, note = self._booked(messages, charge)
        if not self._turns.acquire(timeout=self.config.queue_timeout_s):
            busy = f"{self.config.max_concurrency} requests in flight for {self.config.queue_timeout_s:.0f}s"
            raise LLMUnavailable(f"no turn: {busy}")
        try:
            self._take_turn(messages)
            reply = self._complete(model, messages, schema, name)
        finally:
            self._turns.release()
        if self.budget is not None and charge is not None and reserved is not None:
            spent = reply.usage.prompt_tokens + reply.usage.completion_tokens
            self.budget.settle(charge, reserved, spent, reply.usage.cost_usd)
        content = redaction.restore(reply.content) if redaction is not None else reply.content
        return LLMReply(content, reply.usage, note)

    def _booked(
        self, messages: list[dict[str, str]], charge: Charge | None
    ) -> tuple[str, Reserved | None, str | None]:
        """The model to ask and its booking: the configured one, or, when a budget cannot take it, the
        cheaper TRIAGE_LLM_FALLBACK_MODEL if one can (the note says so); LLMUnavailable when none fits."""
        try:
            return self.config.model, self._reserve(messages, charge, self.config.model), None
        except LLMUnavailable as refused:
            cheaper = self.config.fallback_model
            if cheaper is None:
                raise
            try:
                booked = self._reserve(messages, charge, cheaper)
            except LLMUnavailable as exc:
                raise LLMUnavailable(f"{refused}; and for the cheaper {cheaper}: {exc}") from None
            return cheaper, booked, f"{refused}: answered by the cheaper model {cheaper}"

    def _redacted(self, messages: list[dict[str, str]]) -> tuple[list[dict[str, str]], Redaction | None]:
        """The messages as they may leave (TRIAGE_LLM_REDACT); a redaction that fails sends nothing."""
        if self.redactor is None:
            return messages, None
        try:
            return self.redactor.redact(messages)
        except Exception as exc:  # Presidio's failure must never let the mail go out in clear
            raise LLMUnavailable(f"redaction failed, nothing sent: {type(exc).__name__}") from None

    def _reserve(self, messages: list[dict[str, str]], charge: Charge | None, model: str) -> Reserved | None:
        """Book the call's worst case with `model`'s prices in its charge's budgets (a call that fails
        keeps it booked: it may have been billed); LLMUnavailable when one of them cannot take it."""
        if self.budget is None or charge is None:
            return None
        config = self.config
        tokens = worst_case_tokens(messages, config.max_output_tokens)
        prompt = tokens - config.max_output_tokens
        usd = cost_usd(config.prices, model, prompt, config.max_output_tokens)
        booked = self.budget.reserve(charge, tokens, usd)
        if isinstance(booked, str):
            raise LLMUnavailable(booked)
        return booked

    def _endpoint(self) -> str:
        """The name the fleet's limits of this endpoint and model go by."""
        return f"llm:{self.config.base_url or 'api.openai.com'}:{self.config.model}"

    def _take_turn(self, messages: list[dict[str, str]]) -> None:
        """A turn under the fleet's limits of this endpoint (requests and tokens a minute), waiting for
        it up to queue_timeout_s; longer: LLMUnavailable, and the caller does without the model."""
        if self.pacer is None:
            return
        config, endpoint = self.config, self._endpoint()
        # Requests: paced when a rate is set, and held off after a refusal either way.
        limits = [Limit(f"{endpoint}:requests", (config.requests_per_min or 0) / 60, 1)]
        if config.tokens_per_min:
            tokens = sum(len(m.get("content") or "") for m in messages) // 4 + config.max_output_tokens
            limits.append(
                Limit(f"{endpoint}:tokens", config.tokens_per_min / 60, config.tokens_per_min, tokens)
            )
        try:
            take_turn(self.pacer, limits, "llm", config.queue_timeout_s)
        except RateLimited as exc:
            raise LLMUnavailable(f"no turn under the fleet's LLM budget: {exc}") from None

    def _hold_off(self, refusal: openai.RateLimitError) -> None:
        """The endpoint still refused for its rate after the client's own retries: no worker of the fleet
        asks it again before its Retry-After (5 s when it says nothing)."""
        if self.pacer is None:
            return
        try:
            seconds = float(refusal.response.headers.get("retry-after") or 5)
        except ValueError:
            seconds = 5.0
        self.pacer.refused("llm", "429")
        self.pacer.hold_off(f"{self._endpoint()}:requests", seconds)

    def _complete(
        self, model: str, messages: list[dict[str, str]], schema: dict[str, Any], name: str
    ) -> LLMReply:
        """One request to `model`, in its span (tools/llm_trace.py)."""
        config = self.config
        sampling = {"model": model, "temperature": config.temperature, "max_tokens": config.max_output_tokens}
        with chat_span(model, config.base_url, sampling, messages, config.trace_content) as span:
            response, latency_s = self._ask(messages, schema, name, sampling)
            reply = self._reply(response, latency_s, model)
            answered(span, response, reply.content if config.trace_content else None)
            return reply

    def _ask(
        self, messages: list[dict[str, str]], schema: dict[str, Any], name: str, sampling: dict[str, Any]
    ) -> tuple[Any, float]:
        """The server's chat completion and the seconds it took; LLMUnavailable when none came."""
        started = time.monotonic()
        try:
            response = self.client.chat.completions.create(
                messages=messages,  # type: ignore[arg-type]
                **sampling,
                **self._request(schema, name),
            )
        except openai.APIError as exc:
            if isinstance(exc, openai.RateLimitError):
                self._hold_off(exc)
            failed = Usage(calls=1, latency_s=time.monotonic() - started)
            raise LLMUnavailable(f"{type(exc).__name__}: {getattr(exc, 'message', exc)}", failed) from None
        except (ValueError, TypeError) as exc:  # a body that is not a chat completion
            failed = Usage(calls=1, latency_s=time.monotonic() - started)
            raise LLMUnavailable(f"malformed response: {exc}", failed) from None
        return response, time.monotonic() - started

    def _reply(self, response: Any, latency: float, model: str) -> LLMReply:
        """The JSON text of a chat completion and what it cost; LLMUnavailable when it has none."""
        prompt = response.usage.prompt_tokens if response.usage else 0
        completion = response.usage.completion_tokens if response.usage else 0
        usage = Usage(
            calls=1,
            prompt_tokens=prompt,
            completion_tokens=completion,
            latency_s=latency,
            cost_usd=cost_usd(self.config.prices, model, prompt, completion),
        )
        if not response.choices:
            raise LLMUnavailable("the response has no choices", usage)
        message = response.choices[0].message
        if self.config.structured_output == "tools":
            calls = message.tool_calls or []
            content = calls[0].function.arguments if calls and calls[0].type == "function" else ""
        else:
            content = message.content or ""
        if not content.strip():
            raise LLMUnavailable(f"empty answer (finish_reason={response.choices[0].finish_reason})", usage)
        return LLMReply(content=content, usage=usage)
