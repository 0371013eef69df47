"""Prometheus metric definitions: base units, small label sets, never ids or addresses as labels."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

TICKETS_INGESTED = Counter(
    "triage_messages_ingested_total",
    "Inbound messages by outcome (ticket, threaded, automated, duplicate, quarantined).",
    ["outcome"],
)
STEP_OUTCOMES = Counter(
    "triage_tool_calls_total",
    "Tool step attempts by tool and outcome (success, retry, failure).",
    ["tool", "outcome"],
)
TOOL_DURATION = Histogram(
    "triage_tool_duration_seconds",
    "Time a tool call took, by tool.",
    ["tool"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RUNS_FINISHED = Counter(
    "triage_runs_finished_total",
    "Runs that reached a final status (done, dead_letter).",
    ["status"],
)
RUN_DURATION = Histogram(
    "triage_run_duration_seconds",
    "Time from a run's creation to its final status.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
PLANS = Counter("triage_plans_total", "Plans made, by planner (rule, llm, fallback).", ["planner"])
LLM_CALLS = Counter("triage_llm_calls_total", "LLM calls, by purpose (plan, analysis).", ["purpose"])
LLM_TOKENS = Counter("triage_llm_tokens_total", "LLM tokens, by purpose and kind (prompt, completion).",
                     ["purpose", "kind"])  # fmt: skip
LLM_COST = Counter("triage_llm_cost_usd_total", "Estimated LLM spend in US dollars, by purpose.", ["purpose"])
LLM_LATENCY = Histogram(
    "triage_llm_request_duration_seconds",
    "Time spent waiting for the LLM, by purpose.",
    ["purpose"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
)
PLAN_REPAIRS = Counter("triage_plan_repairs_total", "Rejected LLM plans sent back for repair.")
