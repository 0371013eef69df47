"""Prometheus metric definitions: base units, small label sets, never ids, senders or hostnames.

Counters and histograms are recorded in the process where things happen; under Celery's prefork pool
prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, see monitoring.exporter) adds them up.
State that lives in Redis (queue depth, runs in progress, dead letters, mailbox health) is read from
Redis at scrape time by monitoring.collector, so it is right however many processes there are.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

MESSAGES_INGESTED = Counter(
    "triage_messages_ingested_total",
    "Inbound messages by outcome (ticket, threaded, automated, duplicate, quarantined, spam) and mailbox.",
    ["outcome", "mailbox"],
)
MESSAGES_NOT_STORED = Counter(
    "triage_messages_not_stored_total",
    "Messages whose bytes Redis refused for want of memory (quarantined by reference, left in the mailbox).",
)
MAILBOX_POLLS = Counter(
    "triage_mailbox_polls_total",
    "Mailbox polls by outcome (success, failure) and mailbox.",
    ["outcome", "mailbox"],
)
STAGE_DURATION = Histogram(
    "triage_stage_duration_seconds",
    "Time a pipeline task ran, by stage (ingest, plan, execute).",
    ["stage"],
    buckets=_SECONDS,
)
QUEUE_WAIT = Histogram(
    "triage_queue_wait_seconds",
    "Time from enqueue (or a retry's due time) to task start, by queue.",
    ["queue"],
    buckets=_SECONDS,
)
TOOL_CALLS = Counter(
    "triage_tool_calls_total",
    "Tool steps by tool and outcome: success, retry (failed, retried), dead_letter (gave up), waiting.",
    ["tool", "outcome"],
)
TOOL_DURATION = Histogram(
    "triage_tool_duration_seconds", "Time a tool call took, by tool.", ["tool"], buckets=_SECONDS
)
RUNS_FINISHED = Counter(
    "triage_runs_finished_total",
    "Runs that reached a final status (done, dead_letter, ...), by mailbox.",
    ["status", "mailbox"],
)
RUN_DURATION = Histogram(
    "triage_run_duration_seconds",
    "Time from a run's creation to its final status.",
    buckets=(*_SECONDS, 900, 1800),
)
PLANS = Counter("triage_plans_total", "Plans made, by planner (rule, llm, fallback).", ["planner"])
PLAN_OBSERVATIONS = Counter(
    "triage_plan_observations_total",
    "Looks the LLM planner took at a plan's results, by outcome (extended, nothing, rejected, unavailable).",
    ["outcome"],
)
OBSERVED_STEPS = Counter(
    "triage_observed_steps_total", "Steps the LLM planner added after seeing results, by tool.", ["tool"]
)
PLAN_REPAIRS = Counter("triage_plan_repairs_total", "Rejected LLM plans sent back to the model for repair.")
LLM_DISAGREEMENTS = Counter(
    "triage_llm_disagreements_total",
    "Fields the model answered otherwise than the offline tools, which were sure and stood, by field.",
    ["field"],
)
LLM_CALLS = Counter("triage_llm_calls_total", "LLM calls, by purpose (plan, observe, analysis).", ["purpose"])
LLM_TOKENS = Counter(
    "triage_llm_tokens_total", "LLM tokens, by purpose and kind (prompt, completion).", ["purpose", "kind"]
)
LLM_COST = Counter("triage_llm_cost_usd_total", "Estimated LLM spend in US dollars, by purpose.", ["purpose"])
RUNS_HELD = Counter(
    "triage_runs_held_total", "Runs the autonomy policy held for a person, by mode.", ["mode"]
)
REVIEWS_DECIDED = Counter(
    "triage_reviews_decided_total",
    "Decisions on held runs, by action and by whom (person, timeout).",
    ["action", "by"],
)
CORRECTIONS = Counter(
    "triage_corrections_total", "Fields of issues this system made that people changed in Jira.", ["field"]
)
CORRECTION_OVERRIDES = Counter(
    "triage_correction_overrides_total",
    "People's categories of like tickets met when categorizing: applied, or flagged for review.",
    ["outcome"],
)
API_WAITS = Counter(
    "triage_api_waits_total", "Calls to a shared API that waited for their turn under its limits.", ["api"]
)
API_WAIT_SECONDS = Counter(
    "triage_api_wait_seconds_total", "Seconds calls waited for their turn under an API's limits.", ["api"]
)
API_REFUSALS = Counter(
    "triage_api_refusals_total", "Calls an API refused for its rate (429), by its reason.", ["api", "reason"]
)
RUNS_DEFERRED = Counter(
    "triage_runs_deferred_total", "Runs deferred because their sender passed TRIAGE_SENDER_MAX_PER_HOUR."
)
INCIDENTS_OPENED = Counter("triage_incidents_opened_total", "Incidents opened (one problem issue each).")
INCIDENT_LINKS = Counter(
    "triage_incident_links_total", "Customers' issues linked to an incident's problem issue."
)
LLM_LATENCY = Histogram(
    "triage_llm_request_duration_seconds",
    "Time spent waiting for one LLM answer, by purpose.",
    ["purpose"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128),
)
