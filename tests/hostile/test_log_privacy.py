"""Worker logs never carry a sender's name or address: an erasure cannot reach into log archives."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest

from tests.conftest import Pipeline
from tests.support import email_bytes, make_maildir

pytestmark = pytest.mark.integration


def test_no_log_line_names_the_sender(
    pipeline: Pipeline, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tag = uuid.uuid4().hex[:6]
    name, address = f"Gina Gdpr{tag}", f"gina.{tag}@privacy.example"
    mails = [
        email_bytes(sender=f"{name} <{address}>", message_id=f"<p1-{tag}@x>", subject="Refund please"),
        f"From: {name} (no address here)\nSubject: x\nMessage-ID: <p2-{tag}@x>\n\nhi\n".encode(),  # quarantined
        email_bytes(sender=f"{name} <{address}>", message_id=f"<p3-{tag}@x>", subject="Re: Refund please",
                    headers={"In-Reply-To": f"<p1-{tag}@x>"}),  # threaded
    ]  # fmt: skip
    with caplog.at_level(logging.DEBUG, logger="triage"):
        deliveries = pipeline.feed(make_maildir(tmp_path / "box", *mails))
        for d in deliveries:
            if d.run_id:
                pipeline.wait_final(d.run_id)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("triage"))
    assert "ingest" in logged and "finish" in logged  # the lines are there, just not the person
    assert name not in logged and address not in logged
