"""The system's memory in Redis, under one namespace, in rooms that each own their keys and layout.

- `runs`: a hash per run (ticket, plan, step states) and the run indexes (agent/store/runs.py)
- `deliveries`: raw bytes, outcomes, Message-ID claims, quarantine (agent/store/deliveries.py)
- `ledger`: the tools' side-effect records and locks (agent/store/ledger.py)
- `mailboxes`: poller locks, IMAP cursors, poll health (agent/store/mailboxes.py)
- `incidents`: incidents and their members (agent/store/incidents.py)
- `reviews`: runs held for a person and the decision on each (agent/store/reviews.py)
- `fair`: runs waiting for their turn to be planned, per mailbox and sender domain (agent/store/fair_share.py)
- `pacing`: the fleet's shared turns at external APIs (agent/store/pacing.py)
- `workers`: the heartbeats of the fleet's workers (agent/store/workers.py)
- `llm`: the fleet's switch for the model (agent/store/llm_switch.py)
- `health`: what the collector exports (agent/store/health.py)
- `operations`: erasure and the audit trail, across rooms (agent/store/operations.py)

Every key is named in agent/keys.py.
"""

from __future__ import annotations

import redis

from agent.keys import Keys
from agent.store.deliveries import Deliveries
from agent.store.fair_share import FairShare
from agent.store.health import StoreHealth
from agent.store.incidents import Incidents
from agent.store.ledger import SideEffectLedger
from agent.store.llm_switch import LLMSwitch
from agent.store.mailboxes import Mailboxes
from agent.store.operations import Erasure, Operations
from agent.store.pacing import Pacing
from agent.store.reviews import Reviews
from agent.store.runs import Runs
from agent.store.shadows import Shadows
from agent.store.workers import Workers

__all__ = ["Erasure", "RunStore"]


class RunStore:
    """The rooms of one namespace on one Redis client."""

    def __init__(self, client: redis.Redis, namespace: str, retention_s: int) -> None:
        self.redis = client
        self.keys = Keys(namespace)
        self.retention_s = retention_s
        self.runs = Runs(client, self.keys, retention_s)
        self.deliveries = Deliveries(client, self.keys, retention_s)
        self.ledger = SideEffectLedger(client, self.keys, retention_s)
        self.mailboxes = Mailboxes(client, self.keys)
        self.incidents = Incidents(client, self.keys, retention_s)
        self.reviews = Reviews(client, self.keys, retention_s)
        self.health = StoreHealth(client, self.keys)
        self.pacing = Pacing(client, self.keys)
        self.fair = FairShare(client, self.keys)
        self.workers = Workers(client, self.keys)
        self.llm = LLMSwitch(client, self.keys)
        self.shadows = Shadows(client, self.keys, retention_s)
        rooms = (self.runs, self.deliveries, self.ledger, self.incidents)
        self.operations = Operations(client, self.keys, *rooms)

    def erase_namespace(self) -> int:
        """Delete every key of this namespace (demo and test clean-up); return how many."""
        deleted = 0
        batch: list[bytes] = []
        for key in self.redis.scan_iter(match=f"{self.keys.prefix}*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                deleted += int(self.redis.delete(*batch))
                batch = []
        if batch:
            deleted += int(self.redis.delete(*batch))
        return deleted
