"""The real openai client against a local chat-completions server: modes, usage, cost and failures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.store import RunStore
from tests.llm_server import FakeOpenAI, Reply, running_openai
from tests.support import llm_config
from tools.llm import LLMUnavailable, StructuredMode
from tools.llm_client import OpenAICompatibleLLM

SCHEMA = {
    "type": "object",
    "properties": {"a": {"type": "integer"}},
    "required": ["a"],
    "additionalProperties": False,
}
MESSAGES = [{"role": "user", "content": "say a=1"}]


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with running_openai() as fake:
        yield fake


def llm(server: FakeOpenAI, mode: StructuredMode = "json_schema", **changes: object) -> OpenAICompatibleLLM:
    config = llm_config(base_url=server.url, api_key="k", model="gpt-4o-mini", structured_output=mode,
                        timeout_s=5, max_transport_retries=2, prices={"gpt-4o-mini": (0.15, 0.6)})  # fmt: skip
    return OpenAICompatibleLLM(config.model_copy(update=changes))


def test_json_schema_mode_asks_for_a_strict_schema_and_counts_usage_and_cost(server: FakeOpenAI) -> None:
    server.script.append(Reply(content='{"a": 1}'))
    reply = llm(server).complete(MESSAGES, SCHEMA, "answer")
    assert reply.content == '{"a": 1}'
    sent = server.requests[0]
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True},
    }
    assert sent["model"] == "gpt-4o-mini" and sent["temperature"] == 0.2 and sent["max_tokens"] == 800
    usage = reply.usage
    assert usage.calls == 1 and usage.prompt_tokens == 1 and usage.completion_tokens == 2
    assert usage.cost_usd == pytest.approx((1 * 0.15 + 2 * 0.6) / 1_000_000)


def test_json_object_mode_passes_the_schema_the_way_llama_cpp_accepts_it(server: FakeOpenAI) -> None:
    server.script.append(Reply(content='{"a": 1}'))
    llm(server, "json_object").complete(MESSAGES, SCHEMA, "answer")
    assert server.requests[0]["response_format"] == {"type": "json_object", "schema": SCHEMA}


def test_tools_mode_forces_one_function_call_and_reads_its_arguments(server: FakeOpenAI) -> None:
    server.script.append(Reply(tool_call='{"a": 1}'))
    assert llm(server, "tools").complete(MESSAGES, SCHEMA, "answer").content == '{"a": 1}'
    sent = server.requests[0]
    assert sent["tools"][0]["function"]["parameters"] == SCHEMA
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "answer"}}


def test_a_429_with_retry_after_is_retried_by_the_client(server: FakeOpenAI) -> None:
    server.script += [Reply(status=429, retry_after=0.2), Reply(content='{"a": 1}')]
    assert llm(server).complete(MESSAGES, SCHEMA, "answer").content == '{"a": 1}'
    assert len(server.requests) == 2


def test_server_errors_are_retried_then_reported_unavailable(server: FakeOpenAI) -> None:
    server.script += [Reply(status=500), Reply(status=503), Reply(content='{"a": 1}')]
    assert llm(server).complete(MESSAGES, SCHEMA, "answer").content == '{"a": 1}'
    server.script += [Reply(status=500)] * 3
    with pytest.raises(LLMUnavailable, match="InternalServerError"):
        llm(server).complete(MESSAGES, SCHEMA, "answer")


def test_a_slow_model_times_out_instead_of_hanging_the_run(server: FakeOpenAI) -> None:
    server.script.append(Reply(content='{"a": 1}', delay_s=2))
    with pytest.raises(LLMUnavailable, match="APITimeoutError"):
        llm(server, timeout_s=0.3, max_transport_retries=0).complete(MESSAGES, SCHEMA, "answer")


def test_a_malformed_body_is_reported_not_crashed_on(server: FakeOpenAI) -> None:
    server.script.append(Reply(malformed=True))
    with pytest.raises(LLMUnavailable):
        llm(server, max_transport_retries=0).complete(MESSAGES, SCHEMA, "answer")


def test_an_empty_answer_is_unavailable(server: FakeOpenAI) -> None:
    server.script.append(Reply(content=""))
    with pytest.raises(LLMUnavailable, match="empty answer"):
        llm(server).complete(MESSAGES, SCHEMA, "answer")


@pytest.mark.parametrize(
    "limit",
    [{"requests_per_min": 60}, {"tokens_per_min": 1000, "max_output_tokens": 600}],
    ids=["requests", "tokens"],
)
def test_the_endpoints_budget_is_the_fleets_two_workers_share_it(
    server: FakeOpenAI, store: RunStore, limit: dict[str, int]
) -> None:
    """Two processes' clients (one pacer in Redis): the first answer takes the minute's budget, so the
    second worker does without the model at once, without a request (its caller falls back)."""
    first, second = (llm(server, queue_timeout_s=0.2, **limit) for _ in range(2))
    first.pacer = second.pacer = store.pacing
    server.script.append(Reply(content='{"a": 1}'))
    assert first.complete(MESSAGES, SCHEMA, "answer").content == '{"a": 1}'
    with pytest.raises(LLMUnavailable, match="no turn under the fleet's LLM budget"):
        second.complete(MESSAGES, SCHEMA, "answer")
    assert len(server.requests) == 1


def test_a_refusal_the_client_could_not_retry_away_holds_every_worker_off_for_its_retry_after(
    server: FakeOpenAI, store: RunStore
) -> None:
    first, second = (llm(server, max_transport_retries=0, queue_timeout_s=0.2) for _ in range(2))
    first.pacer = second.pacer = store.pacing
    server.script.append(Reply(status=429, retry_after=30))
    with pytest.raises(LLMUnavailable, match="RateLimitError"):
        first.complete(MESSAGES, SCHEMA, "answer")
    with pytest.raises(LLMUnavailable, match="no turn under the fleet's LLM budget"):
        second.complete(MESSAGES, SCHEMA, "answer")  # another worker: not asked for 30 s
    assert len(server.requests) == 1
