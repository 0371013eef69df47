"""What operators do across the rooms of the store: erase a person, and the audit trail of it all."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis

from agent.keys import Keys
from agent.run import Run, now
from agent.store.deliveries import Deliveries
from agent.store.incidents import Incidents
from agent.store.ledger import SideEffectLedger
from agent.store.runs import Runs
from inbox.addresses import address_in

_HEADERS_READ = 64 * 1024  # of stored raw mail, what erasure reads to find the sender (not megabytes)
AUDIT_KEPT = 100_000  # newest entries of the audit trail kept (failed logins from strangers land there too)


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed, the runs it removed, and the Jira places holding the sender's text:
    (issue key, None) for an issue the system created, (issue key, comment id) for a comment it added."""

    removed: dict[str, int]
    run_ids: set[str]
    in_jira: list[tuple[str, str | None]]


class Operations:
    """Erasure (runs, deliveries, raw mail, ledger records) and the audit trail of operator actions."""

    def __init__(self, client: redis.Redis, keys: Keys, runs: Runs, deliveries: Deliveries,
                 ledger: SideEffectLedger, incidents: Incidents) -> None:  # fmt: skip
        self.redis, self.keys = client, keys
        self.runs, self.deliveries, self.ledger, self.incidents = runs, deliveries, ledger, incidents

    def record_audit(self, action: str, run_id: str | None, reason: str, **details: Any) -> None:
        """Keep an operator action in the audit trail."""
        entry = {"at": now().isoformat(), "action": action, "run": run_id, "reason": reason, **details}
        pipe = self.redis.pipeline()
        pipe.lpush(self.keys.audit, json.dumps(entry))
        pipe.ltrim(self.keys.audit, 0, AUDIT_KEPT - 1)
        pipe.execute()

    def audit_trail(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest operator actions."""
        return [json.loads(v) for v in self.redis.lrange(self.keys.audit, 0, limit - 1)]

    def purge_sender(self, address: str) -> Erasure:
        """Erase one sender's stored mail and run data (an erasure request); say what went, and where in
        Jira the sender's text still is (the issues and comments their runs made)."""
        address = address.strip().lower()
        removed = dict.fromkeys(
            ("runs", "deliveries", "raw_messages", "ledger_entries", "incident_memberships"), 0
        )
        runs = {r.id: r for r in map(self.runs.get, self.runs.all_ids()) if r and r.ticket.sender == address}
        in_jira = sorted(
            {ref for run in runs.values() for ref in _jira_refs(run)}, key=lambda r: (r[0], r[1] or "")
        )
        for run in runs.values():
            removed["ledger_entries"] += self.ledger.erase_ticket(run.ticket.id)
            removed["incident_memberships"] += self.incidents.forget_ticket(run.ticket.id)
            self.deliveries.erase_message_claim(run.ticket.message_id)
            self.runs.erase(run.id)
            removed["runs"] += 1
        for delivery in self.deliveries.recent(limit=10_000_000):
            if delivery.run_id in runs or self._sent_by(delivery.delivery_id, address):
                removed["raw_messages"] += self.deliveries.erase(delivery.delivery_id)
                removed["deliveries"] += 1
        # Raw mail whose delivery record is gone (expired, or never written: a poller died) is found by
        # its own bytes.
        for delivery_id in list(self.deliveries.with_raw()):
            if self._sent_by(delivery_id, address):
                removed["raw_messages"] += self.deliveries.erase(delivery_id)
        return Erasure(removed, set(runs), in_jira)

    def _sent_by(self, delivery_id: str, address: str) -> bool:
        head = self.deliveries.raw_head(delivery_id, _HEADERS_READ)  # the sender is in the headers
        return bool(head) and address_in(head) == address


def _jira_refs(run: Run) -> list[tuple[str, str | None]]:
    """The real (not dry-run) Jira issues and comments a run's steps wrote."""
    refs: list[tuple[str, str | None]] = []
    for state in run.steps.values():
        result = state.result or {}
        if result.get("issue_key") and result.get("dry_run") is False:
            refs.append((str(result["issue_key"]), result.get("comment_id")))
    return refs
