"""Whether `triage demo` keeps memory: on by default, off with --no-memory or TRIAGE_MEMORY=off, and off
by default with the local model (its plans are kept to five steps; the rule plan with memory has more)."""

from __future__ import annotations

import pytest

from cli.demo import remembers


def test_the_demo_remembers_by_default_but_not_with_the_local_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIAGE_MEMORY", raising=False)
    assert remembers(None, local_llm=False) is True
    assert remembers(None, local_llm=True) is False
    assert remembers(True, local_llm=True) is True and remembers(False, local_llm=False) is False
    monkeypatch.setenv("TRIAGE_MEMORY", "off")
    assert remembers(None, local_llm=False) is False
