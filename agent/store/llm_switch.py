"""The fleet's switch for the model: `triage llm pause` turns every worker's LLM off at once (each
asks before every call), `resume` turns it on again. While it is off, plans come from the rules and the
LLM tools' offline halves answer, each run saying why."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis

from agent.keys import Keys


@dataclass(frozen=True)
class Paused:
    """Who switched the model off, when (Unix seconds) and why."""

    by: str
    at: float
    reason: str

    def why(self) -> str:
        """The reason a run records for planning without the model."""
        when = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(self.at))
        return f"the model is paused for the fleet (by {self.by} at {when}: {self.reason})"


class LLMSwitch:
    """One Redis key: present while the model is paused."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis, self.keys = client, keys

    def pause(self, by: str, reason: str) -> None:
        """Switch the model off for every worker until `resume`."""
        record = {"by": by, "at": time.time(), "reason": reason}
        self.redis.set(self.keys.llm_paused, json.dumps(record))

    def resume(self) -> bool:
        """Switch the model on again; False when it was not paused."""
        return bool(self.redis.delete(self.keys.llm_paused))

    def paused(self) -> Paused | None:
        """Who paused the model, or None while it is on."""
        raw = self.redis.get(self.keys.llm_paused)
        return None if raw is None else Paused(**json.loads(raw))

    def why_off(self) -> str | None:
        """Why no worker may ask the model now, or None while it is on (what the LLM client asks)."""
        paused = self.paused()
        return None if paused is None else paused.why()
