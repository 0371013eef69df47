"""The mailboxes file (TRIAGE_MAILBOXES_PATH, YAML): each support address the desk runs, where its mail is
read (a Maildir or an IMAP folder), and what is its own: the Jira project (or service desk), categories,
autonomy policy, acknowledgement identity and templates, and its weight in the fair share. What a mailbox
does not say, the TRIAGE_* settings say for it.

    mailboxes:
      - name: support
        maildir: /srv/mail/support
        jira_project: SUP
        ack_from: support@acme.example
      - name: billing
        imap: {host: imap.acme.example, user: billing@acme.example, password_env: BILLING_IMAP_PASSWORD}
        jira_project: BILL
        policy: /etc/triage/billing-policy.yaml
        weight: 2
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator


class MailboxesError(Exception):
    """The mailboxes file cannot be used; the message names the file, the mailbox and the field."""


class ImapFolder(BaseModel):
    """An IMAP folder of a mailbox; what it leaves out, the TRIAGE_IMAP_* settings give."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str
    port: int | None = Field(None, ge=1, le=65535)
    security: Literal["true", "starttls", "false"] | None = None
    user: str
    password_env: str | None = Field(None, description="the environment variable holding its password")
    folder: str = "INBOX"

    def password(self) -> SecretStr | None:
        """The password from its environment variable (None when it names none)."""
        if self.password_env is None:
            return None
        value = os.environ.get(self.password_env)
        if value is None:
            raise MailboxesError(f"imap {self.user}@{self.host}: ${self.password_env} is not set")
        return SecretStr(value)


class MailboxSpec(BaseModel):
    """One mailbox of the desk, as the file says it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    maildir: Path | None = None
    imap: ImapFolder | None = None
    jira_project: str | None = Field(None, pattern=r"^[A-Z][A-Z0-9_]{1,9}$")
    jira_issue_type: str | None = None
    jira_service_desk: str | None = None
    jira_request_type: str | None = None
    categories_file: Path | None = None
    policy: Path | None = None
    ack_from: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$")
    ack_from_name: str | None = None
    ack_signature: str | None = None
    ack_templates_dir: Path | None = None
    knowledge_base: Path | None = Field(None, description="its folder of Markdown articles (needs memory)")
    weight: float = Field(1.0, gt=0, le=100)

    @model_validator(mode="after")
    def _one_source(self) -> MailboxSpec:
        if (self.maildir is None) == (self.imap is None):
            raise ValueError("give exactly one of maildir or imap")
        return self

    def where(self) -> str:
        """Where its mail is read: the Maildir's path, or user@host/folder."""
        if self.imap is not None:
            return f"{self.imap.user}@{self.imap.host}/{self.imap.folder}"
        return str(Path(self.maildir or ".").resolve())

    def tool_overrides(self) -> dict[str, object]:
        """What this mailbox sets of the tools' configuration (tools.base.ToolConfig field -> value)."""
        fields = (
            "jira_project",
            "jira_issue_type",
            "jira_service_desk",
            "jira_request_type",
            "categories_file",
            "ack_from",
            "ack_from_name",
            "ack_signature",
            "ack_templates_dir",
        )
        return {f: getattr(self, f) for f in fields if getattr(self, f) is not None}


class MailboxesFile(BaseModel):
    """The whole file: its mailboxes, with names that are unique."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mailboxes: list[MailboxSpec] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _unique(self) -> MailboxesFile:
        names = [m.name for m in self.mailboxes]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"mailbox names must be unique: {', '.join(twice)} given twice")
        sources = [m.where() for m in self.mailboxes]
        shared = sorted({s for s in sources if sources.count(s) > 1})
        if shared:
            raise ValueError(f"two mailboxes read the same place: {', '.join(shared)}")
        return self


def load_mailboxes(path: Path) -> list[MailboxSpec]:
    """The mailboxes of the file, checked: paths it names exist; an error names the mailbox and field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found = MailboxesFile.model_validate(data).mailboxes
    except OSError as exc:
        raise MailboxesError(f"{path}: cannot read it: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise MailboxesError(f"{path}: not YAML: {exc}") from None
    except ValidationError as exc:
        raise MailboxesError(f"{path}: {_described(exc, data)}") from None
    for mailbox in found:
        for field in ("categories_file", "policy", "ack_templates_dir", "knowledge_base"):
            named = getattr(mailbox, field)
            if named is not None and not named.exists():
                raise MailboxesError(f"{path}: mailbox {mailbox.name!r}: {field} {named} does not exist")
    return found


def _described(exc: ValidationError, data: object) -> str:
    """The first fault, with the name of the mailbox it is in (not its index)."""
    error = exc.errors()[0]
    where = list(error["loc"])
    if len(where) >= 2 and where[0] == "mailboxes" and isinstance(where[1], int) and isinstance(data, dict):
        entry = data["mailboxes"][where[1]]
        name = entry.get("name", f"#{where[1] + 1}") if isinstance(entry, dict) else f"#{where[1] + 1}"
        field = ".".join(str(p) for p in where[2:]) or "(the entry)"
        return f"mailbox {name!r}: {field}: {error['msg']}"
    return f"{'.'.join(str(p) for p in where) or '(the file)'}: {error['msg']}"


def mailbox_names(path: Path | None) -> list[str]:
    """The names of the file's mailboxes (none without a file), for beat's schedule."""
    return [] if path is None else [m.name for m in load_mailboxes(path)]
