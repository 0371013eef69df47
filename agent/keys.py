"""Every Redis key of the system, Celery's included, in one place. All live under the namespace prefix."""

from __future__ import annotations

import hashlib
import re

_NAMESPACE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class Keys:
    """Key names for one namespace (deployments, test runs and demos each have their own)."""

    def __init__(self, namespace: str) -> None:
        if not _NAMESPACE.match(namespace):
            raise ValueError(f"namespace {namespace!r} must be 1-64 of A-Z a-z 0-9 _ . -")
        self.prefix = f"{namespace}:"

    def run(self, run_id: str) -> str:
        """Hash: one run (fields ticket, status, plan, step:<id>, dispatched:<id>, ...); TTL retention."""
        return f"{self.prefix}run:{run_id}"

    @property
    def runs(self) -> str:
        """Sorted set: run ids scored by creation time (unix seconds); trimmed to the retention."""
        return f"{self.prefix}runs"

    @property
    def active_runs(self) -> str:
        """Sorted set: ids of runs not yet final, scored by creation time (runs in progress)."""
        return f"{self.prefix}runs-active"

    @property
    def mailbox_health(self) -> str:
        """Hash: per mailbox, '<name>:last_success' (unix seconds) and '<name>:failures' (consecutive)."""
        return f"{self.prefix}mailbox-health"

    def delivery(self, delivery_id: str) -> str:
        """String: JSON Delivery, the outcome of one inbound message; TTL retention."""
        return f"{self.prefix}delivery:{delivery_id}"

    @property
    def deliveries(self) -> str:
        """Sorted set: delivery ids scored by time (unix seconds); trimmed to the retention."""
        return f"{self.prefix}deliveries"

    def ingest_attempts(self, delivery_id: str) -> str:
        """Integer: how often ingesting a message was started (poison detection); TTL retention."""
        return f"{self.prefix}ingest-attempts:{delivery_id}"

    def raw(self, delivery_id: str) -> str:
        """String: the raw bytes of an inbound message, exactly as delivered; TTL retention."""
        return f"{self.prefix}raw:{delivery_id}"

    def message(self, message_id: str) -> str:
        """String: delivery id that first claimed this Message-ID (dedupe, threading); TTL retention."""
        digest = hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return f"{self.prefix}msgid:{digest}"

    @property
    def quarantine(self) -> str:
        """Sorted set: delivery ids of quarantined messages scored by time; trimmed to the retention."""
        return f"{self.prefix}quarantine"

    def issue_runs(self, issue_key: str) -> str:
        """Sorted set: ids of the runs that opened or commented on one issue (SUP-6), scored by when;
        TTL retention, renewed with each run. A reply by subject key and a search by issue key read it."""
        return f"{self.prefix}issue-runs:{issue_key.upper()}"

    @property
    def dead_letters(self) -> str:
        """Sorted set: run ids that could not complete, scored by time; kept until retried or discarded."""
        return f"{self.prefix}dead-letters"

    def ledger(self, key: str) -> str:
        """String: JSON record of a side effect done under an idempotency key; TTL retention."""
        return f"{self.prefix}ledger:{key}"

    def poller_lock(self, source: str) -> str:
        """String: lock held by the one poller of a mailbox; expires unless renewed (seconds)."""
        digest = hashlib.sha256(source.encode()).hexdigest()[:16]
        return f"{self.prefix}lock:poller:{digest}"

    def ledger_lock(self, key: str) -> str:
        """String: lock held while a side effect under this idempotency key is checked and done."""
        return f"{self.prefix}lock:ledger:{key}"

    def imap_cursor(self, mailbox: str) -> str:
        """Hash: an IMAP folder's cursor: uidvalidity and last_uid (the last UID handled); never expires."""
        digest = hashlib.sha256(mailbox.encode()).hexdigest()[:16]
        return f"{self.prefix}cursor:{digest}"

    def incident(self, incident_id: str) -> str:
        """Hash: one incident (fields id, title, opened_at, problem_key, m:<ticket id> JSON members);
        TTL retention, renewed as members join."""
        return f"{self.incident_prefix}{incident_id}"

    @property
    def incident_prefix(self) -> str:
        """Prefix of the incident hashes (the register's script builds the key of a found incident)."""
        return f"{self.prefix}incident:"

    def incident_unlinked(self, incident_id: str) -> str:
        """Set: ticket ids of an incident's members whose issue is not linked to the problem issue yet."""
        return f"{self.prefix}incident-unlinked:{incident_id}"

    def incident_merged(self, incident_id: str) -> str:
        """Set: ids of incidents merged into this one whose problem issue is not linked to its own yet."""
        return f"{self.prefix}incident-merged:{incident_id}"

    def incident_of(self, ticket_id: str) -> str:
        """String: the id of the incident a ticket belongs to (set once); TTL retention."""
        return f"{self.prefix}incident-of:{ticket_id}"

    @property
    def incidents(self) -> str:
        """Sorted set: incident ids scored by their latest report (unix seconds); trimmed to the retention."""
        return f"{self.prefix}incidents"

    def hold(self, run_id: str) -> str:
        """String: JSON Hold, why and until when a run waits for a person; TTL retention."""
        return f"{self.prefix}hold:{run_id}"

    def decision(self, run_id: str) -> str:
        """String: JSON Decision on a held run (approved, rejected), set once; TTL retention."""
        return f"{self.prefix}decision:{run_id}"

    @property
    def review_queue(self) -> str:
        """Sorted set: ids of held runs nobody decided on yet, scored by when they were held."""
        return f"{self.prefix}review-queue"

    @property
    def read_back_cursor(self) -> str:
        """String: when the corrections read-back last asked Jira what changed (unix seconds); kept."""
        return f"{self.prefix}cursor:jira-read-back"

    def console_session(self, digest: str) -> str:
        """A console login, by the SHA-256 of its cookie (a copy of Redis holds no usable session)."""
        return f"{self.prefix}console-session:{digest}"

    def login_failures(self, who: str) -> str:
        """Failed console logins of one user name or address, counted for a window."""
        digest = hashlib.sha256(who.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return f"{self.prefix}console-failures:{digest}"

    @property
    def audit(self) -> str:
        """List: JSON records of operator actions (retry, discard, purge), newest first; kept."""
        return f"{self.prefix}audit"

    def pace(self, limit: str) -> str:
        """Integer: when the next turn under a shared API limit is due (ms, Redis's clock); expires."""
        return f"{self.prefix}pace:{limit}"

    def pace_hold(self, limit: str) -> str:
        """Integer: until when an API said no more calls under a limit (ms, Redis's clock); expires."""
        return f"{self.prefix}pace-hold:{limit}"

    @property
    def fair_prefix(self) -> str:
        """Prefix of the fair share's per-tenant keys: `runs:<mailbox>\\n<domain>` (list: the run ids of a
        sender domain waiting for their turn, oldest first) and `domains:<mailbox>` (sorted set: the
        mailbox's domains with waiting runs, by virtual time); emptied as turns are taken."""
        return f"{self.prefix}fair:"

    @property
    def fair_waiting(self) -> str:
        """Hash: run id -> its mailbox and sender domain, while it waits for its turn to be planned."""
        return f"{self.prefix}fair-waiting"

    @property
    def llm_spent(self) -> str:
        """Prefix of the LLM books (hashes of tokens and micro-USD): `ticket:<id>`, `day:<n>` (the fleet's
        on Redis's UTC day n) and `day:<n>:<mailbox>` (agent/store/llm_budget.py)."""
        return f"{self.prefix}llm-spent:"

    def llm_day(self, day: int) -> str:
        """Hash: the fleet's LLM tokens and micro-USD of Redis's UTC day `day` (days since 1970); its
        mailboxes' under `<this>:<mailbox>`."""
        return f"{self.llm_spent}day:{day}"

    def llm_ticket(self, ticket_id: str) -> str:
        """Hash: the LLM tokens one ticket spent."""
        return f"{self.llm_spent}ticket:{ticket_id}"

    @property
    def shadow_cases(self) -> str:
        """Sorted set: JSON ReplayCase of each run a shadow model (TRIAGE_SHADOW_MODEL) planned beside
        production, by when; trimmed to the retention."""
        return f"{self.prefix}shadow-cases"

    @property
    def llm_paused(self) -> str:
        """String (JSON): who paused the model for the fleet, when and why; absent while it is on."""
        return f"{self.prefix}llm-paused"

    @property
    def fair_counts(self) -> str:
        """Hash: mailbox -> how many of its runs wait for their turn (what the metrics read per scrape)."""
        return f"{self.prefix}fair-counts"

    @property
    def fair_mailboxes(self) -> str:
        """Sorted set: the mailboxes with waiting runs, by virtual time (agent/store/fair_share.py)."""
        return f"{self.prefix}fair-mailboxes"

    @property
    def fair_weights(self) -> str:
        """Hash: the weight of each mailbox and each mailbox's domain with runs waiting."""
        return f"{self.prefix}fair-weights"

    @property
    def fair_clock(self) -> str:
        """Hash: the virtual time of the last turn taken, over the mailboxes ('') and in each mailbox."""
        return f"{self.prefix}fair-clock"

    @property
    def fair_running(self) -> str:
        """Sorted set: run id -> when it took its turn (ms): the runs in flight, until each is over."""
        return f"{self.prefix}fair-running"

    @property
    def workers(self) -> str:
        """Sorted set: worker name -> until when its last heartbeat says it is alive (ms, Redis's clock)."""
        return f"{self.prefix}workers"

    @property
    def worker_info(self) -> str:
        """Hash: worker name -> JSON of what it said in its heartbeat (its slots, whether it executes)."""
        return f"{self.prefix}worker-info"

    @property
    def workers_since(self) -> str:
        """String: since when (ms, Redis's clock) the heartbeats have been kept without a gap; gone with
        the last worker, or with a Redis that lost its data."""
        return f"{self.prefix}workers-since"

    def counter(self, name: str) -> str:
        """Integer: a named counter (local dry-run issue numbers); never expires."""
        return f"{self.prefix}counter:{name}"

    @property
    def kombu_prefix(self) -> str:
        """Prefix of Celery's own keys (kombu's global_keyprefix): its queues, unacked messages, bindings."""
        return f"{self.prefix}kombu:"

    def queue(self, name: str) -> str:
        """List: a Celery queue (kombu's; JSON task messages, each a task id and its arguments)."""
        return f"{self.kombu_prefix}{name}"
