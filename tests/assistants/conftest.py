"""The desk over MCP under test: the console's people and held-run policy, on the tests' real worker."""

from __future__ import annotations

from tests.console.conftest import held_policy, people

__all__ = ["held_policy", "people"]
