"""Tool errors, named for what happens next."""

from __future__ import annotations

from pydantic import ValidationError


class ToolError(Exception):
    """Base of every error a tool may raise on purpose."""


class RetryableToolError(ToolError):
    """Try again later: retried with backoff and jitter, waiting at least `retry_after` seconds if given."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OutcomeUnknown(RetryableToolError):
    """The request went out but no answer came back (dropped connection, timeout): it may have taken
    effect. Retried like any retryable error; a side effect must find out before doing it again."""


class PermanentToolError(ToolError):
    """Retrying cannot help: the run fails and lands in the dead-letter list with this message."""


class NotReadyYet(RetryableToolError):
    """Something outside this step is not there yet (the issue of the ticket a reply answers).

    Waiting is not failing: it is retried without using up the tool's attempts, for at most
    TRIAGE_DEPENDENCY_WAIT_S from the first wait; only then does the run go to the dead-letter list.
    """


def field_errors(exc: ValidationError) -> str:
    """What is wrong with arguments, named by field and never with the value (it may be a customer's
    text): "body: Input should be a valid string; ..."."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False))
