"""All configuration, from the environment (prefix TRIAGE_), validated once at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import (
    BaseModel,
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import SettingsConfigDict, SettingsError

from inbox.imap import ImapConfig
from tools.base import INVOICE_ID_PATTERN, ORDER_ID_PATTERN, ToolConfig
from tools.llm import LLMConfig
from tools.mcp_config import McpServer
from tools.patterns import check_pattern
from tools.taxonomy import resolve_classifier
from workers.broker_settings import BrokerSettings
from workers.console_settings import ConsoleSettings
from workers.jira_settings import JiraSettings
from workers.llm_settings import LLMSettings
from workers.memory_settings import MemorySettings
from workers.reply_settings import ReplySettings
from workers.trace_settings import TraceSettings

Section = TypeVar("Section", bound=BaseModel)
DEFAULT_CATEGORIES = Path(__file__).resolve().parent.parent / "tools" / "data" / "categories.json"


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the environment variable to fix."""


class Settings(
    BrokerSettings, LLMSettings, MemorySettings, ReplySettings, JiraSettings, ConsoleSettings, TraceSettings
):
    """Every setting of the system; each field is read from TRIAGE_<FIELD NAME>."""

    # The environment wins over a `.env` file in the working directory (as docker compose reads it).
    model_config = SettingsConfigDict(
        env_prefix="TRIAGE_", extra="ignore", frozen=True, env_file=".env", env_file_encoding="utf-8"
    )

    namespace: str = Field("triage", pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="key prefix in Redis")
    maildir: Path | None = Field(None, description="Maildir polled by the beat schedule")
    mailboxes_path: Path | None = Field(
        None,
        description="the mailboxes file (YAML): each mailbox's source, Jira project, policy, acks, weight",
    )
    imap_host: str | None = Field(None, description="IMAP server; set it to ingest from IMAP")
    imap_port: int = Field(993, ge=1, le=65535, description="IMAP port")
    imap_ssl: Literal["true", "starttls", "false"] = Field(
        "true", description="true: implicit TLS; starttls; false: plain (loopback tests only)"
    )
    imap_user: str | None = Field(None, description="IMAP user")
    imap_password: SecretStr | None = Field(None, description="IMAP password; never logged")
    imap_oauth2_token: SecretStr | None = Field(
        None, description="XOAUTH2 access token instead of a password"
    )
    imap_oauth2_token_file: Path | None = Field(
        None, description="file with the XOAUTH2 access token, read at each connect (a refresher rewrites it)"
    )
    imap_folder: str = Field("INBOX", description="folder to read")
    imap_timeout_s: float = Field(30.0, gt=0, le=600, description="timeout of connect and every IMAP command")
    imap_processed: Literal["leave", "flag", "move"] = Field(
        "flag", description="what happens to handled mail"
    )
    imap_processed_keyword: str = Field("$Triaged", description="keyword added when imap_processed=flag")
    imap_processed_folder: str = Field("Triaged", description="folder mail moves to when imap_processed=move")
    imap_idle: bool = Field(
        True, description="`triage ingest --imap --follow` waits with IDLE when supported"
    )
    thread_match: Literal["address", "domain"] = Field(
        "address",
        description="a reply joins a thread only from the thread's customer: the same address, or domain",
    )
    max_plan_backlog: int = Field(1000, ge=1, description="ingest pauses while the plan queue is longer")
    sender_max_per_hour: int = Field(
        100,
        ge=1,
        description="runs one sender (mailbox) starts an hour at most; more wait as deferred for the sweeper",
    )
    runs_in_flight: int = Field(
        0,
        ge=0,
        description="most runs planned and not over, fleet-wide; the rest wait their fair turn (0: twice the "
        "steps the workers alive run at once, at least 16)",
    )
    domain_weights: dict[str, Annotated[float, Field(gt=0)]] = Field(
        {}, description="sender domain -> its weight in the fair share of planning turns (JSON); others 1"
    )
    poll_interval_s: float = Field(30.0, gt=0, description="seconds between mailbox polls")
    max_message_bytes: int = Field(10 * 1024 * 1024, gt=0, description="larger messages are quarantined")
    spam_score: float = Field(15.0, gt=0, description="rspamd score (X-Spamd-Result) from which mail is spam")
    parse_deadline_s: float = Field(
        30.0,
        gt=0,
        le=600,
        description="a mail whose reading (MIME, charsets, HTML) takes longer is stopped and quarantined",
    )
    trusted_authserv_id: str | None = Field(
        None,
        description="your mail server's authserv-id: its Authentication-Results decide whether a sender is "
        "trusted (an aligned dmarc=pass); others' are ignored",
    )
    max_plan_steps: int = Field(10, ge=1, le=50, description="longer plans are rejected")
    retention_s: int = Field(30 * 24 * 3600, ge=3600, description="how long runs and mail are kept")
    policy_path: Path | None = Field(None, description="autonomy policy (YAML, examples/policy.yaml)")
    approval_timeout_s: int = Field(
        4 * 3600, ge=60, description="a hold not decided by then: policy's on_timeout"
    )
    visibility_timeout_s: int = Field(3600, ge=60, description="unacked tasks are redelivered after this")
    dependency_wait_s: int = Field(
        6 * 3600, ge=60, description="how long a reply waits for its ticket's issue"
    )
    tool_timeouts: dict[str, float] = Field(
        {}, description="tool name -> timeout in seconds, overriding its default (JSON)"
    )
    mcp_servers: list[McpServer] = Field(
        [], description="MCP servers whose tools join the catalog as <server>__<tool> (JSON list)"
    )
    poison_threshold: int = Field(
        3, ge=1, le=20, description="a step whose worker dies this often is dead-lettered"
    )
    sweep_interval_s: float = Field(60.0, gt=0, description="how often the sweeper looks for stranded runs")
    sweep_stale_s: float = Field(900.0, ge=1, description="a queued step not started after this is resent")
    retry_scale: float = Field(1.0, gt=0, le=10, description="multiplies every retry delay (tests: small)")
    simulated_tool_latency_s: float = Field(0.0, ge=0, description="benchmark only: sleep before each tool")
    categories_file: FilePath = Field(DEFAULT_CATEGORIES, description="taxonomy for categorize_ticket")
    classifier: Literal["auto", "tfidf", "embeddings"] = Field(
        "auto", description="offline categorizer; auto: embeddings when that extra is installed, else tfidf"
    )
    review_threshold: float = Field(0.35, ge=0, le=1, description="below this confidence: other + review")
    account_id_pattern: str = Field(r"\bACC[-_ ]?\d{4,10}\b", description="regex for customer account ids")
    order_id_pattern: str = Field(ORDER_ID_PATTERN, description="regex for order ids (last group is the id)")
    invoice_id_pattern: str = Field(
        INVOICE_ID_PATTERN, description="regex for invoice ids (last group is the id)"
    )
    outbox_path: Path = Field(
        Path("var/outbox.jsonl"), description="dry-run Jira payloads, one JSON per line"
    )
    audit_key: SecretStr | None = Field(
        None, description="secret for the keyed hash (HMAC) the audit trail keeps of an erased address"
    )
    run_link_template: str = Field(
        "triage show {run_id}", description="how issue descriptions point to the run"
    )
    metrics_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="worker /metrics port; 0 turns it off; unset: 9808 for ingest and all, 9809 plan, "
        "9810 execute, so one host runs a worker of each role",
    )
    metrics_host: str = Field("0.0.0.0", description="address the /metrics endpoint listens on")
    metrics_dir: Path | None = Field(
        None,
        description="where each worker makes its prometheus multiprocess folder (default: temp)",
    )
    worker_concurrency: int = Field(4, ge=1, description="processes or threads per worker")
    task_events: bool = Field(
        False, description="workers send task events (Flower, celery-exporter); same as `triage worker -E`"
    )
    log_format: Literal["text", "json"] = Field("text", description="log line format")

    @field_validator("account_id_pattern", "order_id_pattern", "invoice_id_pattern")
    @classmethod
    def _compiles(cls, value: str, info: ValidationInfo) -> str:
        return check_pattern(value, shipped=cls.model_fields[str(info.field_name)].default)

    @field_validator("run_link_template")
    @classmethod
    def _run_link(cls, value: str) -> str:
        try:
            value.format(run_id="T0")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only the field {{run_id}} can be filled in, not {exc}") from None
        return value

    @field_validator("classifier")
    @classmethod
    def _installed(cls, value: str) -> str:
        resolve_classifier(value)
        return value

    @model_validator(mode="after")
    def _imap_credentials(self) -> Settings:
        if self.imap_host is not None:
            if not self.imap_user:
                raise ValueError("TRIAGE_IMAP_HOST is set, so TRIAGE_IMAP_USER must be too")
            credentials = (self.imap_password, self.imap_oauth2_token, self.imap_oauth2_token_file)
            if all(c is None for c in credentials):
                raise ValueError(
                    "TRIAGE_IMAP_HOST is set: set TRIAGE_IMAP_PASSWORD, TRIAGE_IMAP_OAUTH2_TOKEN"
                    " or TRIAGE_IMAP_OAUTH2_TOKEN_FILE"
                )
        return self

    def _section(self, model: type[Section], prefix: str, **given: object) -> Section:
        """A config model from the settings named `prefix` + its field names (the defaults live here
        only); `given` holds the fields that are not a plain copy."""
        names = [name for name in model.model_fields if name not in given and hasattr(self, prefix + name)]
        return model(**{name: getattr(self, prefix + name) for name in names}, **given)

    def imap_config(self) -> ImapConfig | None:
        """The IMAP mailbox, or None when ingest reads no IMAP server."""
        if self.imap_host is None or self.imap_user is None:
            return None
        return self._section(ImapConfig, "imap_", security=self.imap_ssl, max_bytes=self.max_message_bytes)

    def llm_config(self) -> LLMConfig | None:
        """How to reach the LLM, or None when no model is configured."""
        if not self.llm_model:
            return None
        return self._section(LLMConfig, "llm_", trace_content=self.trace_content)

    def tool_config(self) -> ToolConfig:
        """The part of the settings the tools read."""
        return self._section(
            ToolConfig,
            "",
            classifier=resolve_classifier(self.classifier),
            jira_labels=tuple(self.jira_labels),
            jira_url=self.jira_url.rstrip("/") if self.jira_url else None,
            smtp=self.smtp_config(),
        )


def load_settings(**overrides: object) -> Settings:
    """Read the settings; a bad value raises ConfigError naming the TRIAGE_ variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except SettingsError as exc:  # a value that should be JSON is not
        field = re.search(r'field "(\w+)"', str(exc))
        name = f"TRIAGE_{field.group(1).upper()}" if field else "a TRIAGE_ setting"
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        raise ConfigError(f"invalid configuration:\n  {name}: not valid JSON{cause}") from None
    except ValidationError as exc:
        problems = [
            f"TRIAGE_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            if err["loc"]
            else err["msg"]
            for err in exc.errors()
        ]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None
