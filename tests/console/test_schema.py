"""The JSON API against its own OpenAPI schema, fuzzed by schemathesis: whatever a caller sends, no
operation answers with a server error, what it answers conforms to the schema, and a caller without a
credential is refused every time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from tests.console.conftest import People

pytestmark = pytest.mark.integration
FUZZ = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def bearer(people: People, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {people.tokens[role]}"}


def fuzz_every_operation(app: FastAPI, people: People, check: Callable[[Any], None]) -> list[str]:
    """Run `check` on cases hypothesis makes for each operation of the schema the API serves; the
    operations fuzzed."""
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, headers=bearer(people, "admin"))
    fuzzed = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @FUZZ
        @given(case=operation.as_strategy())
        def each(case: Any) -> None:
            check(case)

        each()
        fuzzed.append(operation.label)
    return fuzzed


def test_no_operation_answers_an_admin_with_a_server_error_or_off_its_schema(
    app: FastAPI, people: People
) -> None:
    def answered(case: Any) -> None:
        case.call_and_validate(headers=bearer(people, "admin"))

    assert len(fuzz_every_operation(app, people, answered)) == 15


def test_every_operation_refuses_a_caller_without_a_credential(app: FastAPI, people: People) -> None:
    def refused(case: Any) -> None:
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        response = case.call()
        assert response.status_code == 401, (case.method, case.formatted_path, response.text)

    assert len(fuzz_every_operation(app, people, refused)) == 15
