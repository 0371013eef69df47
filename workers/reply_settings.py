"""The settings of what the system sends back and how it decides to (TRIAGE_ACK_*, TRIAGE_SMTP_*,
TRIAGE_KB_PATH, TRIAGE_DRAFT_*, TRIAGE_ATTACH_*, TRIAGE_OBSERVE_ROUNDS), part of Settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import DirectoryPath, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from inbox.attachments import FileLimits
from tools.mail_out import SmtpConfig

FileKind = Literal["archive", "document", "image", "log", "text"]  # inbox/file_kinds.py: KINDS
FILE_KINDS: tuple[FileKind, ...] = get_args(FileKind)


class ReplySettings(BaseSettings):
    """Acknowledgement mail and the SMTP server it goes through; workers/settings.py's Settings has these
    fields. Without TRIAGE_SMTP_HOST, acknowledgements are kept in the dry-run outbox instead."""

    ack: Literal["on", "off"] = Field("on", description="acknowledge each new ticket by mail")
    ack_from: str = Field(
        "support@example.com", pattern=r"^[^@\s<>]+@[^@\s<>]+$", description="the acknowledgements' sender"
    )
    ack_from_name: str | None = Field(
        None,
        max_length=80,
        pattern=r"^[^\x00-\x1f\x7f<>@]+$",
        description='the acknowledgements\' sender name (From: "Acme Support <support@acme.example>")',
    )
    ack_signature: str = Field(
        "", max_length=1000, description="signature appended to each acknowledgement (\\n for new lines)"
    )
    ack_templates_dir: DirectoryPath | None = Field(
        None, description="folder of acknowledgement templates per language (de.txt, ...) over the built-in"
    )
    ack_skip_categories: list[str] = Field(
        default_factory=list, description="categories that get no acknowledgement (JSON list)"
    )
    ack_per_sender_hour: int = Field(
        3,
        ge=1,
        le=100,
        description="acknowledgements to one mailbox per hour at most (plus-tags, and dots where the "
        "provider ignores them, are the same mailbox): a loop guard",
    )
    ack_per_domain_hour: int = Field(
        50, ge=1, description="acknowledgements to one domain per hour at most (many forged victims)"
    )
    ack_per_hour: int = Field(
        2000, ge=1, description="acknowledgements the whole system sends per hour at most"
    )
    kb_path: Path | None = Field(
        None, description="folder of Markdown articles for drafted answers (needs TRIAGE_MEMORY=on)"
    )
    draft_visible_to: str = Field(
        "Administrators", min_length=1, description="the Jira project role that sees drafted answers"
    )
    attach_max_file_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="a customer's file larger than this is not put on the issue"
    )
    attach_kinds: list[FileKind] = Field(
        default_factory=lambda: list(FILE_KINDS),
        description="the kinds of file that may go to the issue, checked by name and content (JSON list)",
    )
    attach_max_ticket_bytes: int = Field(
        25 * 1024 * 1024, ge=1024, description="a ticket's files put on its issue together at most (bytes)"
    )
    observe_rounds: int = Field(
        1,
        ge=0,
        le=5,
        description="LLM mode: times the planner sees a plan's results and may add steps (0: off)",
    )
    smtp_host: str | None = Field(None, description="SMTP server for acknowledgements; unset: dry-run outbox")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port")
    smtp_starttls: bool = Field(True, description="upgrade the SMTP connection with STARTTLS")
    smtp_user: str | None = Field(None, description="SMTP user (AUTH), if the server wants one")
    smtp_password: SecretStr | None = Field(None, description="SMTP password; never logged")
    smtp_timeout_s: float = Field(20.0, gt=0, le=300, description="SMTP connect and command timeout")
    smtp_per_s: float = Field(
        5.0, gt=0, description="messages a second the whole fleet hands to the SMTP server (its relay limit)"
    )
    smtp_ca_file: Path | None = Field(None, description="CA certificates to trust for STARTTLS (PEM)")

    @field_validator("ack_signature")
    @classmethod
    def _lines(cls, signature: str) -> str:
        """An environment variable holds one line: `\\n` in it starts a new one."""
        return signature.replace("\\n", "\n").strip()

    def file_limits(self) -> FileLimits:
        """How much of a ticket's files may go to its issue (judged at ingest, and again when attaching)."""
        return FileLimits(
            per_file=self.attach_max_file_bytes,
            per_ticket=self.attach_max_ticket_bytes,
            kinds=frozenset(self.attach_kinds),
        )

    def smtp_config(self) -> SmtpConfig | None:
        """How to reach the SMTP server, or None when acknowledgements are a dry run."""
        if self.smtp_host is None:
            return None
        fields = ("port", "starttls", "user", "password", "timeout_s", "ca_file")
        return SmtpConfig(host=self.smtp_host, **{name: getattr(self, f"smtp_{name}") for name in fields})
