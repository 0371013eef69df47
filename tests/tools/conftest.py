"""A ToolContext on a real run store, for calling tools directly."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.store import RunStore
from tools.base import ToolContext
from workers.settings import load_settings


@pytest.fixture
def ctx(store: RunStore, tmp_path: Path) -> ToolContext:
    config = load_settings(outbox_path=tmp_path / "outbox.jsonl").tool_config()
    return ToolContext(
        run_id="T1", ticket_id="T1", step_id="create_issue", ledger=store.ledger, config=config
    )
