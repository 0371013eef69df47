"""The desk over MCP under test: the console's people and held-run policy, and the integration tests'
SMTP server, on the tests' real worker."""

from __future__ import annotations

from tests.console.conftest import held_policy, people
from tests.integration.conftest import smtp

__all__ = ["held_policy", "people", "smtp"]
