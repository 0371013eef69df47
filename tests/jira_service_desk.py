"""The Jira Service Management request API of the Jira test server (tests/jira_server.py): service desks
and their request types, customers, and requests raised on a customer's behalf with participants.

As JSM answers: errors as `{"errorMessage": ..., "i18nErrorMessage": {...}}`; 404 for an unknown desk or
request type; 400 for a field the request type does not show, and for raising on behalf of an address
that is no customer yet; creating a customer that exists is a 400 too. A request is a Jira issue of the
desk's project (searchable by its labels, like any), whose reporter is the customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Desk:
    """One service desk: its project and request types (id -> the fields it shows)."""

    project: str
    request_types: dict[str, list[str]]


@dataclass
class ServiceDeskState:
    """What the service desk side holds: desks by id, customers by address, participants by issue."""

    desks: dict[str, Desk] = field(default_factory=dict)
    customers: dict[str, dict[str, str]] = field(default_factory=dict)
    participants: dict[str, list[str]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)  # every accepted request body


class Creates(Protocol):
    """What the request API needs of the Jira side: make an issue from create-issue fields."""

    def create(self, fields: dict[str, Any]) -> tuple[int, Any]:
        """(201, the issue as stored) or Jira's error answer."""
        ...


def _error(status: int, message: str) -> tuple[int, Any]:
    return status, {"errorMessage": message, "i18nErrorMessage": {"i18nKey": "sd.error", "parameters": []}}


def route(desk: ServiceDeskState, jira: Creates, method: str, path: str, body: Any) -> tuple[int, Any]:
    """Answer one request under /rest/servicedeskapi (`path` without that prefix)."""
    parts = path.strip("/").split("/")
    if method == "GET" and len(parts) == 5 and parts[0] == "servicedesk" and parts[2] == "requesttype":
        found = desk.desks.get(parts[1])
        shown = found.request_types.get(parts[3]) if found else None
        if shown is None:
            return _error(404, "The request type does not exist or you do not have access to it.")
        fields = [{"fieldId": f, "name": f.title(), "required": f == "summary"} for f in shown]
        return 200, {"requestTypeFields": fields, "canRaiseOnBehalfOf": True}
    if method == "POST" and parts == ["customer"]:
        return _customer(desk, body or {})
    if method == "POST" and parts == ["request"]:
        return _request(desk, jira, body or {})
    return _error(404, f"No route for {method} {path}")


def _customer(desk: ServiceDeskState, body: dict[str, Any]) -> tuple[int, Any]:
    email = str(body.get("email", "")).lower()
    if "@" not in email:
        return _error(400, "An email address is required.")
    if email in desk.customers:
        return _error(400, "A user with that username already exists.")
    name = str(body.get("displayName") or email)
    customer = {"accountId": f"qm:{len(desk.customers) + 1}", "emailAddress": email, "displayName": name}
    desk.customers[email] = customer
    return 201, customer


def _request(desk: ServiceDeskState, jira: Creates, body: dict[str, Any]) -> tuple[int, Any]:
    found = desk.desks.get(str(body.get("serviceDeskId")))
    if found is None:
        return _error(404, "The service desk does not exist or you do not have access to it.")
    shown = found.request_types.get(str(body.get("requestTypeId")))
    if shown is None:
        return _error(400, "The request type does not exist or you do not have access to it.")
    values: dict[str, Any] = body.get("requestFieldValues") or {}
    for name in values:
        if name not in shown:
            return _error(400, f"Field '{name}' is not valid for this request type.")
    customer = str(body.get("raiseOnBehalfOf", "")).lower()
    if customer not in desk.customers:
        return _error(400, f"The user '{customer}' does not exist.")
    status, created = jira.create(
        {**values, "project": {"key": found.project}, "issuetype": {"name": "Task"}}
    )
    if status != 201:
        return status, created
    key = created["key"]
    desk.participants[key] = [str(p).lower() for p in body.get("requestParticipants") or []]
    desk.requests.append(body)
    created["fields"]["reporter"] = desk.customers[customer]
    return 201, {
        "issueId": created["id"],
        "issueKey": key,
        "requestTypeId": str(body["requestTypeId"]),
        "serviceDeskId": str(body["serviceDeskId"]),
        "reporter": desk.customers[customer],
    }
