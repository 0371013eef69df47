"""Jira Service Management: a ticket raised as the customer's own request (the customer is its reporter,
colleagues in Cc its participants) through the service desk's request API, with the `jira` library's
session. Plain Jira issues stay the default (tools/jira_client.py); this is used when
TRIAGE_JIRA_SERVICE_DESK names a desk.

A customer the desk does not know yet is made one first (its display name: the name the mail gives).
Fields a request type does not show (priority, components) are set on the issue after it exists, the
same way whether this call made it or found it, so a retry sets them too.
"""

from __future__ import annotations

import json
from typing import Any

from tools.base import ToolConfig
from tools.errors import PermanentToolError, RetryableToolError
from tools.jira_client import JiraUnreachable, client_for, jira_errors

_API = "/rest/servicedeskapi"
_HEADERS = {"X-ExperimentalApi": "opt-in", "Content-Type": "application/json"}
REQUEST_FIELDS = (
    "summary",
    "description",
    "labels",
)  # what a request type must show (labels: hidden is fine)


def raise_request(
    config: ToolConfig, fields: dict[str, Any], customer: str, name: str | None, participants: list[str]
) -> str:
    """Raise a request on the customer's behalf from a create-issue payload's fields; its issue key."""
    values = {name: fields[name] for name in REQUEST_FIELDS if name in fields}
    body = {
        "serviceDeskId": config.jira_service_desk,
        "requestTypeId": config.jira_request_type,
        "requestFieldValues": values,
        "raiseOnBehalfOf": customer,
        "requestParticipants": participants,
    }
    try:
        return _post_request(config, body)
    except PermanentToolError as exc:
        if "does not exist" not in str(exc):
            raise
    _make_customer(config, customer, name or customer)  # then raise it again, once
    return _post_request(config, body)


def set_fields(config: ToolConfig, issue_key: str, fields: dict[str, Any]) -> None:
    """Set the issue fields a request type does not take (priority, components): an edit, idempotent."""
    rest = {k: v for k, v in fields.items() if k in ("priority", "components")}
    if rest:
        session = client_for(config)._session
        with jira_errors("set the request's priority and components"):
            session.put(f"{config.jira_url}/rest/api/2/issue/{issue_key}", data=json.dumps({"fields": rest}))


def check_service_desk(config: ToolConfig) -> list[str]:
    """What is wrong with TRIAGE_JIRA_SERVICE_DESK and TRIAGE_JIRA_REQUEST_TYPE, asked of the server."""
    desk, kind = config.jira_service_desk, config.jira_request_type
    try:
        found = _get(config, f"{_API}/servicedesk/{desk}/requesttype/{kind}/field")
    except PermanentToolError as exc:
        return [f"TRIAGE_JIRA_SERVICE_DESK / TRIAGE_JIRA_REQUEST_TYPE: {exc}"]
    except RetryableToolError as exc:
        raise JiraUnreachable(str(exc)) from None
    shown = {f.get("fieldId") for f in found.get("requestTypeFields", [])}
    missing = [f for f in REQUEST_FIELDS if f not in shown]
    if not missing:
        return []
    return [
        f"TRIAGE_JIRA_REQUEST_TYPE: request type {kind} of desk {desk} does not take {', '.join(missing)} "
        "(add them to it; labels may be hidden: the system finds its requests by label)"
    ]


def _post_request(config: ToolConfig, body: dict[str, Any]) -> str:
    session = client_for(config)._session
    with jira_errors("raise the customer's request"):
        answer = session.post(f"{config.jira_url}{_API}/request", data=json.dumps(body), headers=_HEADERS)
    key = answer.json().get("issueKey")
    if not isinstance(key, str):
        raise PermanentToolError(f"the service desk answered {answer.status_code} without an issue key")
    return key


def _make_customer(config: ToolConfig, email: str, name: str) -> None:
    """Make the sender a customer of the site (an existing one is fine)."""
    session = client_for(config)._session
    body = json.dumps({"email": email, "displayName": name[:255]})
    try:
        with jira_errors("make the sender a customer"):
            session.post(f"{config.jira_url}{_API}/customer", data=body, headers=_HEADERS)
    except PermanentToolError as exc:
        if "already exists" not in str(exc):
            raise


def _get(config: ToolConfig, path: str) -> dict[str, Any]:
    session = client_for(config)._session
    with jira_errors(f"read {path}"):
        answer = session.get(f"{config.jira_url}{path}", headers=_HEADERS)
    found: dict[str, Any] = answer.json()
    return found
