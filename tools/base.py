"""The Tool contract: a typed function with an argument model, a result model and its run policy."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, SecretStr

from tools import ledger_keys, outbox
from tools.incident_port import IncidentRegister
from tools.kb_port import KnowledgeSearch
from tools.ledger_port import Ledger
from tools.llm import LLM, Usage
from tools.llm_budget import Charge
from tools.mail_out import SmtpConfig
from tools.memory_port import TicketMemory
from tools.pacing_port import Pacer

# The id is the pattern's last group when it has groups, else the whole match.
# Each whitespace run is bounded and follows a word or sign of its own: no two runs can split the same
# spaces between them, so a failed match costs linear time, however much whitespace an attacker sends.
ORDER_ID_PATTERN = (
    r"\b(?:order|purchase|ord)\s{0,20}(?:(?:number|no\.?|num|id)\s{0,20})?(?:[:#]\s{0,20})?"
    r"(#?[A-Z]{0,4}-?\d{5,}[\w-]*)"
)
# Invoice numbers of the common shapes: #1187, INV-2025-1187, INV/2025/42, 2025-0042, 20250042.
INVOICE_ID_PATTERN = (
    r"\b(?:invoice|inovice|bill|receipt|factura|facture|rechnung)s?\s{0,20}"
    r"(?:(?:number|no\.?|num|nr\.?|n°|id)\s{0,20})?(?::\s{0,20})?"
    r"(#\d{3,}|[A-Z]{2,5}[-/]\d[\w/-]{1,}|\d{4}[-/]\d{2,}|\d{5,})"
)

A = TypeVar("A", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)

_NAME = re.compile(r"^[a-z][a-z0-9_]{2,63}$")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a tool is retried after a RetryableToolError."""

    max_attempts: int = 5
    base_s: float = 1.0
    cap_s: float = 60.0
    jitter: float = 0.5  # the delay is drawn from [delay * (1 - jitter), delay]

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("RetryPolicy.jitter must be within [0, 1]")
        if self.base_s < 0 or self.cap_s < self.base_s:
            raise ValueError("RetryPolicy needs 0 <= base_s <= cap_s")

    def delay(self, attempt: int, retry_after: float | None = None, scale: float = 1.0) -> float:
        """Seconds to wait before attempt `attempt + 1`: exponential, capped, jittered, >= retry_after."""
        backoff = min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1)) * scale
        backoff *= 1 - self.jitter * random.random()
        return float(max(backoff, retry_after or 0.0))

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(max_attempts={self.max_attempts}, backoff={self.base_s}s*2^n "
            f"capped at {self.cap_s}s, jitter={self.jitter:.0%})"
        )


class ToolConfig(BaseModel):
    """What the built-in tools need from configuration: built from the worker settings, which hold every
    default and description (workers/settings.py)."""

    model_config = ConfigDict(frozen=True)

    categories_file: Path
    classifier: Literal["tfidf", "embeddings"]
    review_threshold: float
    account_id_pattern: str
    order_id_pattern: str
    invoice_id_pattern: str
    outbox_path: Path
    jira_project: str
    jira_issue_type: str
    jira_priorities: dict[str, str]
    jira_labels: tuple[str, ...]
    jira_components: dict[str, str]
    jira_service_desk: str | None  # a JSM service desk id: requests raised on the customer's behalf
    jira_request_type: str | None  # its request type id for new requests
    jira_url: str | None  # None: the Jira tools run in dry-run mode
    jira_user: str | None
    jira_api_token: SecretStr | None
    jira_timeout_s: float
    jira_rates: dict[str, float]  # calls a second over the fleet, by kind (tools/jira_pacing.py)
    jira_search_lag_s: float  # how long Jira's search may miss a just-created issue
    run_link_template: str
    incident_min_reports: int  # distinct customers whose like reports make an incident
    incident_window_s: float  # within how long
    incident_similarity: float | None  # how alike; None: the memory embedder's calibrated value
    incident_link_type: str  # the Jira issue link type between the problem issue and each member's
    ack: Literal["on", "off"]  # acknowledge new tickets by mail
    ack_from: str
    ack_from_name: str | None  # the acknowledgements' sender name (From: "Acme Support <...>")
    ack_signature: str  # appended to every acknowledgement (or where a template says ${signature})
    ack_templates_dir: Path | None  # the operator's templates over the built-in ones
    ack_skip_categories: list[str]
    ack_per_sender_hour: int  # to one mailbox (tools/mail_out.py: mailbox_of)
    ack_per_domain_hour: int
    ack_per_hour: int  # the whole system's
    smtp_per_s: float  # messages a second the whole fleet hands to the SMTP relay
    smtp: SmtpConfig | None  # None: acknowledgements go to the dry-run outbox
    draft_visible_to: str  # the Jira project role that sees drafted answers (internal comments)

    @property
    def mail_outbox_path(self) -> Path:
        """The dry-run outbox of mail (acknowledgements), beside the Jira outbox."""
        return outbox.mail_path(self.outbox_path)

    @property
    def outboxes(self) -> tuple[Path, Path]:
        """Every dry-run outbox: Jira's and mail's."""
        return self.outbox_path, self.mail_outbox_path

    @property
    def ack_dry_run(self) -> bool:
        """True when no SMTP server is configured: acknowledgements are recorded, not sent."""
        return self.smtp is None

    @property
    def jira_dry_run(self) -> bool:
        """True when no Jira is configured: payloads are recorded, not sent."""
        return self.jira_url is None


class MailFiles(Protocol):
    """The files attached to a ticket's mail (the run store's raw copy, read again): the ones that may go
    to its issue as (name, content type, bytes), and how many were left out; None when the mail is gone."""

    def files_of(self, ticket_id: str) -> tuple[list[tuple[str, str, bytes]], int] | None:
        """The ticket's attachable files and the count of those left out, or None without the mail."""
        ...


class UsageSink(Protocol):
    """Where tools report the LLM usage of a run and the model's disagreements with the offline tools (the
    execute task passes one that adds them to the run's totals and to the LLM metrics)."""

    def record_usage(self, run_id: str, usage: Usage) -> None:
        """Add usage to the run's totals."""
        ...

    def disagreed(self, run_id: str, field: str) -> None:
        """Count that the model said otherwise than the offline tools, and theirs stood (model_arbiter)."""
        ...


@dataclass(frozen=True)
class ToolContext:
    """Where a tool call happens: its run, ticket and step, the ledger and the configuration."""

    run_id: str
    ticket_id: str
    step_id: str
    ledger: Ledger
    config: ToolConfig
    llm: LLM | None = None  # set when the LLM versions of the judgement tools are on
    hard_timeout_s: float = 120.0  # when this attempt is killed at the latest (locks it takes live as long)
    usage: UsageSink | None = None
    memory: TicketMemory | None = None  # long-term memory, when TRIAGE_MEMORY is on
    incidents: IncidentRegister | None = None  # the open incidents, when TRIAGE_INCIDENTS is on too
    files: MailFiles | None = None  # the files attached to the ticket's mail
    kb: KnowledgeSearch | None = None  # the knowledge base, when TRIAGE_KB_PATH is set (and memory on)
    pacer: Pacer | None = None  # the fleet's shared API limits (the SMTP relay's; Jira's client has its own)
    sender_doubt: str | None = None  # why the ticket's sender is not trusted (inbox/sender.py)
    sender_authenticated: bool = False  # the operator's mail server proved the From domain (DMARC)
    mailbox: str = "default"  # the mailbox the ticket came to

    @property
    def charge(self) -> Charge:
        """Whose LLM budgets this step's calls spend: the ticket's, its mailbox's and the fleet's."""
        return Charge(self.ticket_id, self.mailbox)

    @property
    def idempotency_key(self) -> str:
        """The key under which this step's side effect is recorded: (ticket id, step id)."""
        return ledger_keys.step(self.ticket_id, self.step_id)


@dataclass(frozen=True)
class Tool(Generic[A, R]):
    """A named, typed operation a plan step can call."""

    name: str
    description: str
    args_model: type[A]
    result_model: type[R]
    fn: Callable[[A, ToolContext], R] = field(repr=False)
    side_effect: bool = False
    timeout_s: float = 10.0
    retry: RetryPolicy = RetryPolicy()
    # With no LLM configured the tool is pure CPU work on a customer's text: it then runs in a killable
    # helper process (tools/sandbox.py) with this time limit, instead of a thread that cannot be stopped.
    isolated_offline_s: float | None = None
    # ...except where this says the configured work is bounded by construction and too heavy to load
    # into a second process (the embeddings classifier: a model trained again per helper).
    in_worker_when: Callable[[ToolConfig], bool] | None = field(default=None, repr=False)
    # When it gives up, the step is skipped with its reason and the run goes on (memory, not the ticket).
    best_effort: bool = False
    # A lookup of the customer by the ticket's own sender (a CRM's, over MCP): the argument that takes the
    # sender's address (policy pins it), and the findings of its result an issue takes (agent/pins.py).
    sender_argument: str | None = None
    finds: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"tool name {self.name!r} must be snake_case, 3-64 characters")
        if not self.description.strip():
            raise ValueError(f"tool {self.name!r} needs a description: the planner reads it")
        if self.timeout_s <= 0:
            raise ValueError(f"tool {self.name!r}: timeout_s must be positive")

    @property
    def hard_timeout_s(self) -> float:
        """When the worker kills the task outright: the soft timeout plus a grace period."""
        return self.timeout_s * 1.5 + 5

    def local(self, llm: object | None) -> bool:
        """True when a call is CPU work on the ticket's text and nothing else (no model is configured to
        ask, no network): quick enough to run beside another step rather than in parallel with it."""
        return self.isolated_offline_s is not None and llm is None

    def isolation_limit(self, ctx: ToolContext) -> float | None:
        """The time limit of this call in a killable helper process, or None when it runs in the worker."""
        if self.isolated_offline_s is None or not self.local(ctx.llm):
            return None
        if self.in_worker_when is not None and self.in_worker_when(ctx.config):
            return None
        return min(self.timeout_s, self.isolated_offline_s)

    def args_schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments: what a planner sees, derived from the args model."""
        return self.args_model.model_json_schema()

    def run(self, args: dict[str, Any], ctx: ToolContext) -> R:
        """Validate the arguments and call the tool."""
        return self.fn(self.args_model.model_validate(args), ctx)


def tool(
    *,
    name: str,
    description: str,
    args: type[A],
    result: type[R],
    side_effect: bool = False,
    timeout_s: float = 10.0,
    retry: RetryPolicy | None = None,
    isolated_offline_s: float | None = None,
    in_worker_when: Callable[[ToolConfig], bool] | None = None,
    best_effort: bool = False,
) -> Callable[[Callable[[A, ToolContext], R]], Tool[A, R]]:
    """Declare a tool from a function; unknown options fail at import, not at 3 a.m."""

    def wrap(fn: Callable[[A, ToolContext], R]) -> Tool[A, R]:
        return Tool(
            name=name,
            description=description,
            args_model=args,
            result_model=result,
            fn=fn,
            side_effect=side_effect,
            timeout_s=timeout_s,
            retry=retry or RetryPolicy(),
            isolated_offline_s=isolated_offline_s,
            in_worker_when=in_worker_when,
            best_effort=best_effort,
        )

    return wrap
