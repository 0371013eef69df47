"""Mail the spam filter marked goes no further than review: outcome `spam`, no run, no issue; a person
may release it, and then it is a ticket like any other."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from agent.run import Delivery
from tests.conftest import Pipeline
from tests.support import email_bytes, make_maildir, triage, wait_for

pytestmark = pytest.mark.integration


def test_spam_is_kept_for_review_with_no_run_until_a_person_releases_it(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    raw = email_bytes(message_id=f"<{uuid.uuid4().hex}@example.com>", subject="Cheap watches",
                      headers={"X-Spamd-Result": "default: True [21.30 / 15.00]; BAYES_SPAM(5.10)"})  # fmt: skip
    [delivery] = pipeline.feed(make_maildir(tmp_path / "box", raw))
    assert delivery.outcome == "spam" and delivery.run_id is None
    assert delivery.reason == "spam: X-Spamd-Result score 21.3 (threshold 15)"
    listed = triage("quarantine")
    assert delivery.delivery_id in listed.output and "spam" in listed.output

    assert (
        triage("release", delivery.delivery_id, "--reason", "a customer, not spam", "--by", "ops").exit_code
        == 0
    )

    def released() -> Delivery | None:
        found = pipeline.store.deliveries.get(delivery.delivery_id)
        return found if found is not None and found.run_id else None

    ticket = wait_for(released, 30, "the released mail to become a ticket")
    assert ticket.outcome == "ticket" and pipeline.wait_final(ticket.run_id or "").status == "done"
    assert delivery.delivery_id not in {d.delivery_id for d in pipeline.store.deliveries.quarantined()}
