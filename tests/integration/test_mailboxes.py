"""One fleet serves several mailboxes: a real worker polls each mailbox of the mailboxes file, and each
mailbox's tickets go to its own Jira project, are acknowledged from its own address, are held by its own
policy (the other mailbox's identical mail is not) and drafted from its own knowledge base."""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from agent.run import Run
from agent.store import RunStore
from tests.jira_server import FakeJira, running_jira
from tests.support import ROOT, TRIAGE, email_bytes, wait_for
from tests.worker_processes import deliver, worker_fleet

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

VIP = "cfo@bigcustomer.example"
POLICY = f"""version: 1
on_timeout: needs_triage
rules:
  - name: vip
    when: {{sender_in: [{VIP}]}}
    then: supervised
"""


def maildir(folder: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    return folder


def mailboxes_file(tmp: Path) -> Path:
    (tmp / "billing-policy.yaml").write_text(POLICY)
    path = tmp / "mailboxes.yaml"
    path.write_text(
        f"""mailboxes:
  - name: support
    maildir: {maildir(tmp / "support")}
    ack_from: help@acme.example
  - name: billing
    maildir: {maildir(tmp / "billing")}
    jira_project: BILL
    ack_from: billing@acme.example
    ack_from_name: Acme Billing
    policy: {tmp / "billing-policy.yaml"}
    weight: 2
"""
    )
    return path


def settled(store: RunStore, key: str) -> Run | None:
    """The run of the mail delivered under this key once it is done or held."""
    delivery = next((d for d in store.deliveries.recent(limit=100) if d.key == key), None)
    run = store.runs.get(delivery.run_id or "") if delivery is not None else None
    return run if run is not None and (run.is_final or run.status == "held") else None


def test_each_mailbox_has_its_project_its_acknowledgements_and_its_policy(
    redis_url: str, tmp_path: Path
) -> None:
    jira = FakeJira()
    jira.add_project("BILL")
    mail = {
        ("support", "vip"): VIP,
        ("billing", "vip"): VIP,
        ("billing", "customer"): "ann@customer.example",
    }
    with running_jira(jira):
        settings = {
            "jira_url": jira.url,
            "jira_user": jira.user,
            "jira_api_token": jira.token,
            "mailboxes_path": str(mailboxes_file(tmp_path)),
        }
        with worker_fleet(redis_url, tmp_path, ("all",), **settings) as fleet:
            for (mailbox, who), sender in mail.items():
                raw = email_bytes(
                    sender=sender, subject="Invoice 2025-0042 is wrong", message_id=f"<{uuid.uuid4().hex}@x>"
                )
                deliver(tmp_path / mailbox, f"1800000000.{mailbox}-{who}.mx", raw)
            runs = {
                (mailbox, who): wait_for(
                    lambda k=f"1800000000.{mailbox}-{who}.mx": settled(fleet.store, k), 60, who
                )
                for mailbox, who in mail
            }  # type: ignore[misc]
            deliveries = {d.key: d.mailbox for d in fleet.store.deliveries.recent(limit=10)}
            env = {
                **os.environ,
                "TRIAGE_REDIS_URL": redis_url,
                "TRIAGE_NAMESPACE": fleet.store.keys.prefix[:-1],
            }
            listed = subprocess.run(
                [TRIAGE, "runs", "--mailbox", "billing", "--json"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        acks = [json.loads(line) for line in (tmp_path / "outbox-mail.jsonl").read_text().splitlines()]

    assert {(m, w): r.status for (m, w), r in runs.items()} == {
        ("support", "vip"): "done",
        ("billing", "vip"): "held",  # billing's policy; support has none
        ("billing", "customer"): "done",
    }
    assert {(m, w): r.ticket.mailbox for (m, w), r in runs.items()} == {k: k[0] for k in mail}
    assert sorted(deliveries.values()) == ["billing", "billing", "support"]
    billing = {runs["billing", "vip"].id, runs["billing", "customer"].id}
    assert {json.loads(line)["run_id"] for line in listed.splitlines()} == billing  # the CLI's filter
    projects = {(m, w): r.issue_keys()[0].split("-")[0] for (m, w), r in runs.items() if r.status == "done"}
    assert projects == {("support", "vip"): "SUP", ("billing", "customer"): "BILL"}
    senders = {a["run_id"]: email.message_from_string(a["message"])["From"] for a in acks}
    assert senders == {
        runs["support", "vip"].id: "help@acme.example",
        runs["billing", "customer"].id: "Acme Billing <billing@acme.example>",
    }


def test_each_mailbox_drafts_from_its_own_knowledge_base(redis_url: str, tmp_path: Path) -> None:
    """Support's articles answer support's mail, billing's answer billing's: the same question about a
    double charge gets billing's article at billing and no draft at support, whose folder has none."""
    for desk, article in (("support", "password-reset.md"), ("billing", "charged-twice.md")):
        (tmp_path / f"kb-{desk}").mkdir()
        shutil.copy(ROOT / "examples" / "kb" / article, tmp_path / f"kb-{desk}" / article)
    path = tmp_path / "mailboxes.yaml"
    path.write_text(
        f"""mailboxes:
  - name: support
    maildir: {maildir(tmp_path / "support")}
    knowledge_base: {tmp_path / "kb-support"}
  - name: billing
    maildir: {maildir(tmp_path / "billing")}
    knowledge_base: {tmp_path / "kb-billing"}
"""
    )
    charged = "I was charged twice for my subscription this month: two identical charges on my card."
    mail = {
        ("billing", "charged"): ("Charged twice", charged),
        ("support", "charged"): ("Charged twice", charged),
        ("support", "reset"): ("Password reset", "I asked for a password reset but the email never arrives."),
    }
    settings = {
        "mailboxes_path": str(path),
        "memory": "on",
        "memory_path": str(tmp_path / "memory"),
        "memory_embedder": "hashed",
    }
    with worker_fleet(redis_url, tmp_path, ("all",), pool="threads", **settings) as fleet:
        for (mailbox, what), (subject, body) in mail.items():
            raw = email_bytes(subject=subject, body=body, message_id=f"<{uuid.uuid4().hex}@x>")
            deliver(tmp_path / mailbox, f"1800000000.{mailbox}-{what}.mx", raw)
        drafts = {
            (mailbox, what): wait_for(
                lambda k=f"1800000000.{mailbox}-{what}.mx": settled(fleet.store, k), 90, f"{mailbox} {what}"
            )
            .steps["draft"]
            .result
            for mailbox, what in mail
        }  # type: ignore[misc]

    def source(result: dict[str, object] | None) -> str | None:
        sources = (result or {}).get("sources") or []
        return Path(str(sources[0])).name if isinstance(sources, list) and sources else None

    assert {k: source(r) for k, r in drafts.items()} == {
        ("billing", "charged"): "charged-twice.md",
        ("support", "charged"): None,  # billing's article is not support's to use
        ("support", "reset"): "password-reset.md",
    }
    assert "no article close enough" in str((drafts["support", "charged"] or {}).get("skipped"))
