"""The fleet's shared API limits as a worker keeps them: the Redis pacer (agent/store/pacing.py), with
what it does counted for the dashboards (waits and refusals per API). The runtime hands it to the Jira
client and to the tools (ToolContext.pacer)."""

from __future__ import annotations

from agent.store.pacing import Pacing
from monitoring import metrics
from tools.pacing_port import Limit


class MeteredPacer:
    """The Redis pacer, counting each wait for a turn and each refusal an API answered."""

    def __init__(self, pacing: Pacing) -> None:
        self.pacing = pacing

    def reserve(self, limits: list[Limit]) -> float:
        """See tools.pacing_port.Pacer.reserve."""
        return self.pacing.reserve(limits)

    def hold_off(self, key: str, seconds: float) -> None:
        """See tools.pacing_port.Pacer.hold_off."""
        self.pacing.hold_off(key, seconds)

    def waited(self, api: str, seconds: float) -> None:
        """Count a wait for a turn (triage_api_waits_total, triage_api_wait_seconds_total)."""
        metrics.API_WAITS.labels(api).inc()
        metrics.API_WAIT_SECONDS.labels(api).inc(seconds)

    def refused(self, api: str, reason: str) -> None:
        """Count a refusal (triage_api_refusals_total)."""
        metrics.API_REFUSALS.labels(api, reason[:40]).inc()
