"""The pipeline against a real model: SmolLM2-135M served by llama-cpp-python (make test-llm).

A 135M model gets labels wrong, but with the schema compiled into a grammar it writes valid JSON; what
must hold is the system's promise: every message ends in a final status, each plan comes from the model
or from a recorded fallback, and usage is counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.llm_planner import LLMPlanner
from tests.conftest import Pipeline
from tests.support import llm_config
from tools.catalog import CATALOG
from tools.llm_client import OpenAICompatibleLLM
from workers.local_llm import MODEL_ALIAS, local_llm_available, local_llm_server

pytestmark = [pytest.mark.integration, pytest.mark.llm_local, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def local_llm() -> Iterator[str]:
    if not local_llm_available():
        pytest.skip("the local model is not installed (make install-llm)")
    with local_llm_server() as url:
        yield url


def test_the_sample_mailbox_with_a_real_local_model(
    pipeline: Pipeline, local_llm: str, tmp_path: Path, swap_runtime: Any
) -> None:
    config = llm_config(
        base_url=local_llm,
        api_key="local",
        model=MODEL_ALIAS,
        timeout_s=100,
        max_concurrency=1,  # one model, one CPU queue: wait here (bounded), fall back when the wait is too long
        structured_output="json_object",
        max_transport_retries=0,
        max_output_tokens=1200,
    )
    llm = OpenAICompatibleLLM(config)
    planner = LLMPlanner(llm, CATALOG, max_steps=10, max_repairs=1)
    swap_runtime(planner=planner, llm=llm)

    runs = pipeline.run_variant_mailbox(tmp_path / "box", timeout=900)

    assert len(runs) == 11 and all(r.is_final for r in runs)
    for run in runs:
        assert run.planner in ("llm", "fallback")
        if run.planner == "fallback":
            assert run.planner_notes[-1].startswith("fallback to rules: ")
        assert run.usage.calls >= 1  # answered, or failed and counted
    for run in runs:
        print(f"{run.id} {run.status} {run.planner} calls={run.usage.calls} {run.planner_notes}")
    assert sum(r.usage.prompt_tokens for r in runs) > 0 and sum(r.usage.completion_tokens for r in runs) > 0
    summary = {
        "runs": len(runs),
        "llm_plans": sum(r.planner == "llm" for r in runs),
        "fallbacks": sum(r.planner == "fallback" for r in runs),
        "calls_per_run": round(sum(r.usage.calls for r in runs) / len(runs), 2),
        "tokens_per_run": round(
            sum(r.usage.prompt_tokens + r.usage.completion_tokens for r in runs) / len(runs)
        ),
        "done": sum(r.status == "done" for r in runs),
    }
    print(f"\nlocal LLM: {summary}")
