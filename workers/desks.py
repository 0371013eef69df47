"""Desks: what one mailbox's tickets are handled with (its tools' configuration, its autonomy policy, its
weight in the fair share), built from the mailboxes file over the TRIAGE_* settings. Every ticket names
its mailbox; the tasks ask the runtime for that mailbox's desk, never for "the project"."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.autonomy import Policy, PolicyError, load_policy
from agent.memory.chroma import Memory
from agent.memory.kb import KnowledgeBase
from inbox.imap import CursorStore, ImapSource
from inbox.maildir import MaildirSource
from inbox.source import MailSource
from tools.base import ToolConfig
from tools.kb_port import KnowledgeSearch
from tools.taxonomy import taxonomy_for
from workers.mailboxes import MailboxesError, MailboxSpec, load_mailboxes
from workers.settings import ConfigError, Settings

DEFAULT_DESK = "default"  # the mailbox of TRIAGE_MAILDIR / TRIAGE_IMAP_*, and of anything unnamed


@dataclass(frozen=True)
class Desk:
    """One mailbox's way of handling its tickets."""

    name: str
    tool_config: ToolConfig
    policy: Policy | None
    weight: float = 1.0
    spec: MailboxSpec | None = None  # None: the desk of the TRIAGE_* settings alone
    kb: KnowledgeSearch | None = None  # its knowledge base (drafts, the observer's look)


def build_desks(settings: Settings, default: Desk, memory: Memory | None = None) -> dict[str, Desk]:
    """A desk per mailbox of TRIAGE_MAILBOXES_PATH, over the default desk (the TRIAGE_* settings'); none
    without the file. A mailbox's knowledge base is indexed in `memory`, in a collection of its own.
    ConfigError names what is wrong."""
    desks: dict[str, Desk] = {}
    if settings.mailboxes_path is None:
        return desks
    try:
        specs = load_mailboxes(settings.mailboxes_path)
    except MailboxesError as exc:
        raise ConfigError(f"TRIAGE_MAILBOXES_PATH: {exc}") from None
    for spec in specs:
        config = default.tool_config.model_copy(update=spec.tool_overrides())
        where = f"TRIAGE_MAILBOXES_PATH: mailbox {spec.name!r}: policy"
        policy = policy_from(spec.policy, config.categories_file, where) if spec.policy else default.policy
        kb = _knowledge_base(spec, memory) if spec.knowledge_base else default.kb
        desks[spec.name] = Desk(spec.name, config, policy, spec.weight, spec, kb)
    return desks


def _knowledge_base(spec: MailboxSpec, memory: Memory | None) -> KnowledgeBase:
    if memory is None or spec.knowledge_base is None:
        raise ConfigError(
            f"TRIAGE_MAILBOXES_PATH: mailbox {spec.name!r}: knowledge_base needs TRIAGE_MEMORY=on"
        )
    return KnowledgeBase(memory, spec.knowledge_base, f"kb-{spec.name}")


def policy_from(
    path: Path | None, categories_file: Path, setting: str = "TRIAGE_POLICY_PATH"
) -> Policy | None:
    """An autonomy policy file, read and checked against the categories it may name (ConfigError names the
    setting, the rule, the fault); None without a file."""
    if path is None:
        return None
    try:
        categories = [c.name for c in taxonomy_for(categories_file).categories]
        return load_policy(path, categories)
    except PolicyError as exc:
        raise ConfigError(f"{setting}: {exc}") from None


def source_for(spec: MailboxSpec, settings: Settings, cursors: CursorStore) -> MailSource:
    """Where a mailbox of the file is read: its Maildir, or its IMAP folder with the TRIAGE_IMAP_* settings
    for what it leaves out (never another mailbox's password)."""
    if spec.imap is None:
        return MaildirSource(spec.maildir or ".", settings.max_message_bytes, mailbox=spec.name)
    folder = spec.imap
    given = {
        "imap_host": folder.host,
        "imap_user": folder.user,
        "imap_folder": folder.folder,
        "imap_password": folder.password(),
        "imap_oauth2_token": None,
        "imap_oauth2_token_file": None,
        "imap_port": folder.port or settings.imap_port,
        "imap_ssl": folder.security or settings.imap_ssl,
    }
    config = settings.model_copy(update=given).imap_config()
    if config is None:  # it has a host and a user: not reached
        raise ConfigError(f"TRIAGE_MAILBOXES_PATH: mailbox {spec.name!r}: imap needs a host and a user")
    return ImapSource(config, cursors, mailbox=spec.name)
