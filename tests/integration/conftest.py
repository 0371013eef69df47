"""Fixtures of the integration tests: peers the worker's tools talk to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tests.conftest import Pipeline
from tests.smtp_server import PASSWORD, USER, SmtpServer, running_smtp
from tools.mail_out import SmtpConfig
from workers import runtime as runtime_module


@pytest.fixture
def smtp(pipeline: Pipeline, swap_runtime: Any, tmp_path: Path) -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd: STARTTLS, AUTH) the worker's acknowledgements go to for this test."""
    with running_smtp(tmp_path) as server:
        config = SmtpConfig(
            host="localhost",
            port=server.port,
            starttls=True,
            user=USER,
            password=SecretStr(PASSWORD),
            timeout_s=10,
            ca_file=server.ca_file,
        )
        swap_runtime(tool_config=runtime_module.runtime().tool_config.model_copy(update={"smtp": config}))
        yield server
