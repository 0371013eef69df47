"""The real Jira, through the `jira` library: one client per thread, errors named for what happens next.

The client's own retries are off (max_retries=0): retrying is the pipeline's job, with backoff,
jitter and Retry-After, and a lost response must go back through the idempotency check.
Messages never contain the API token (JIRAError's text can include request details, so it is
rebuilt from the status code and Jira's `errorMessages` / `errors`).
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from jira import JIRA, JIRAError

from tools.base import ToolConfig
from tools.errors import OutcomeUnknown, PermanentToolError, RetryableToolError
from tools.jira_pacing import DEFAULT_HOLD_OFF_S, PacedAdapter
from tools.pacing_port import Pacer, RateLimited

_local = threading.local()
_pacer: Pacer | None = None  # the fleet's shared limits (pace_with)
PACE_BUDGET_S = 10.0  # how long a request may wait for its turn before its step is sent back to the queue


def _jira_messages(exc: JIRAError) -> str:
    """Jira's own error text: `errorMessages` and `errors` from the response body."""
    try:
        body = json.loads(exc.response.text) if exc.response is not None else {}
    except (ValueError, AttributeError):
        body = {}
    parts = [str(m) for m in body.get("errorMessages", [])]
    parts += [str(body["errorMessage"])] if body.get("errorMessage") else []  # the service desk API's
    parts += [f"{name}: {text}" for name, text in (body.get("errors") or {}).items()]
    return "; ".join(parts) or "no error details"


def _retry_after(exc: JIRAError) -> float | None:
    """Seconds from a Retry-After header (Jira sends seconds), if present and readable."""
    value = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@contextmanager
def jira_errors(action: str) -> Iterator[None]:
    """Translate what Jira or the network says into RetryableToolError or PermanentToolError."""
    try:
        yield
    except JIRAError as exc:
        status = exc.status_code
        details = _jira_messages(exc)
        if status == 429:  # its rate: a wait for the time it said, never a failed attempt
            retry_after = _retry_after(exc) or DEFAULT_HOLD_OFF_S
            raise RateLimited(f"{action}: Jira answered 429: {details}", retry_after=retry_after) from None
        if status == 503:
            raise RetryableToolError(
                f"{action}: Jira answered {status}: {details}", retry_after=_retry_after(exc)
            ) from None
        if status is None or status >= 500:
            raise RetryableToolError(f"{action}: Jira answered {status}: {details}") from None
        if status in (401, 403):
            raise PermanentToolError(
                f"{action}: Jira refused the credentials ({status}): {details}"
            ) from None
        if status == 404:
            raise PermanentToolError(f"{action}: not found in Jira (404, deleted?): {details}") from None
        raise PermanentToolError(f"{action}: Jira rejected the request ({status}): {details}") from None
    except requests.exceptions.RequestException as exc:
        raise OutcomeUnknown(f"{action}: no answer from Jira ({type(exc).__name__})") from None


def client_for(config: ToolConfig) -> JIRA:
    """This thread's client for the configured Jira (created on first use)."""
    if config.jira_url is None or config.jira_user is None or config.jira_api_token is None:
        raise PermanentToolError(
            "Jira is not configured (TRIAGE_JIRA_URL, TRIAGE_JIRA_USER, TRIAGE_JIRA_API_TOKEN)"
        )
    identity = (config.jira_url, config.jira_user, config.jira_api_token.get_secret_value())
    clients: dict[tuple[str, str, str], JIRA] = _local.__dict__.setdefault("clients", {})
    if identity not in clients:
        with jira_errors("connect"):
            client = JIRA(
                server=config.jira_url,
                basic_auth=(config.jira_user, config.jira_api_token.get_secret_value()),
                max_retries=0,
                timeout=config.jira_timeout_s,
                options={"check_update": False},
            )  # its one serverInfo request (Cloud or Server?) goes before the pacing below: once a thread
        if _pacer is not None:  # every request of this client takes a turn under the fleet's limits
            adapter = PacedAdapter(_pacer, config.jira_rates, budget_s=PACE_BUDGET_S)
            client._session.mount("http://", adapter)
            client._session.mount("https://", adapter)
        clients[identity] = client
    return clients[identity]


def pace_with(pacer: Pacer | None) -> Pacer | None:
    """Have this process's Jira clients keep the fleet's shared limits (the runtime passes its Redis
    pacer at start-up; None: unpaced); the pacer used until now."""
    global _pacer
    previous, _pacer = _pacer, pacer
    _local.__dict__.pop("clients", None)
    return previous


def find_issue_by_label(config: ToolConfig, label: str) -> str | None:
    """The key of the issue in the configured project that carries this label, if any."""
    jql = f'project = "{config.jira_project}" AND labels = "{label}" ORDER BY created ASC'
    with jira_errors("search by idempotency label"):
        found: Any = client_for(config).search_issues(jql, maxResults=1, fields="key", json_result=True)
    issues = found.get("issues", []) if isinstance(found, dict) else []
    return str(issues[0]["key"]) if issues else None


def create_issue(config: ToolConfig, fields: dict[str, Any]) -> str:
    """Create an issue and return its key."""
    with jira_errors("create issue"):
        issue = client_for(config).create_issue(fields=fields, prefetch=False)
    return str(issue.key)


def attachments_of(config: ToolConfig, issue_key: str) -> set[tuple[str, int]]:
    """(file name, size) of every file attached to an issue."""
    with jira_errors("read attachments"):
        issue: Any = client_for(config).issue(issue_key, fields="attachment")
    return {(str(a.filename), int(a.size)) for a in getattr(issue.fields, "attachment", None) or []}


def add_attachment(config: ToolConfig, issue_key: str, filename: str, data: bytes) -> None:
    """Attach one file to an issue (multipart, X-Atlassian-Token: no-check, as Jira wants)."""
    with jira_errors("add attachment"):
        client_for(config).add_attachment(issue_key, io.BytesIO(data), filename=filename)


def link_issues(config: ToolConfig, link_type: str, inward_key: str, outward_key: str) -> None:
    """Link two issues ("inward <the type's outward verb> outward"); linking them again changes nothing."""
    with jira_errors(f"link {inward_key} to {outward_key}"):
        client_for(config).create_issue_link(link_type, inward_key, outward_key)


def issue_links(config: ToolConfig, issue_key: str) -> list[tuple[str, str]]:
    """The links at an issue: (type name, key of the issue at the other end)."""
    with jira_errors(f"read the links of {issue_key}"):
        issue: Any = client_for(config).issue(issue_key, fields="issuelinks")
    ends = [(link.type.name, getattr(link, "outwardIssue", None) or getattr(link, "inwardIssue", None))
            for link in issue.fields.issuelinks]  # fmt: skip
    return [(name, str(other.key)) for name, other in ends if other is not None]


@dataclass(frozen=True)
class IssueState:
    """What an issue says now about the fields people correct: labels, components, priority."""

    key: str
    labels: tuple[str, ...]
    components: tuple[str, ...]
    priority: str | None
    updated: datetime


def changed_issues(config: ToolConfig, label: str, minutes: int, limit: int = 1000) -> list[IssueState]:
    """The issues of the configured project carrying `label` that changed in the last `minutes`, oldest
    change first (at most `limit`). JQL's relative time ("-90m") is free of the user's time zone, which
    an absolute one is read in."""
    jql = (f'project = "{config.jira_project}" AND labels = "{label}" AND updated >= "-{max(1, minutes)}m" '
           "ORDER BY updated ASC")  # fmt: skip
    with jira_errors("search changed issues"):
        found: Any = client_for(config).search_issues(
            jql, maxResults=limit, fields="labels,components,priority,updated", json_result=False
        )
    return [
        IssueState(
            key=str(issue.key),
            labels=tuple(str(x) for x in getattr(issue.fields, "labels", None) or []),
            components=tuple(str(c.name) for c in getattr(issue.fields, "components", None) or []),
            priority=str(p.name) if (p := getattr(issue.fields, "priority", None)) is not None else None,
            updated=datetime.strptime(str(issue.fields.updated), "%Y-%m-%dT%H:%M:%S.%f%z"),
        )
        for issue in found
    ]


def _who(person: Any) -> set[str]:
    """The ids a Jira user goes by (accountId on Cloud; name and key on Server), from a user resource or
    the JSON of /myself."""
    if isinstance(person, dict):
        values = [person.get(k) for k in ("accountId", "name", "key")]
    else:  # the client's PropertyHolder: the JSON's fields as attributes
        values = [getattr(person, k, None) for k in ("accountId", "name", "key")]
    return {str(v) for v in values if v}


def _me(config: ToolConfig) -> set[str]:
    """The ids of the configured Jira user (asked once per thread and identity)."""
    mine: dict[str, set[str]] = _local.__dict__.setdefault("me", {})
    if config.jira_url not in mine:
        with jira_errors("read who we are"):
            mine[str(config.jira_url)] = _who(client_for(config).myself())
    return mine[str(config.jira_url)]


def own_comments(config: ToolConfig, issue_key: str) -> list[tuple[str, str]]:
    """(id, body) of the issue's comments written by the configured Jira user: anything else on the issue
    (a customer's text, copied by an agent) is not ours, whatever markers it carries."""
    me = _me(config)
    with jira_errors(f"read comments of {issue_key}"):
        found = client_for(config).comments(issue_key)
    return [(str(c.id), str(c.body)) for c in found if _who(getattr(c, "author", None)) & me]


def add_comment(config: ToolConfig, issue_key: str, body: str, visible_to_role: str | None = None) -> str:
    """Add a comment (seen only by a project role's members when given: an internal note); its id."""
    visibility = {"type": "role", "value": visible_to_role} if visible_to_role else None
    with jira_errors(f"comment on {issue_key}"):
        return str(client_for(config).add_comment(issue_key, body, visibility=visibility).id)


def redact_issue(config: ToolConfig, issue_key: str, summary: str, description: str) -> None:
    """Replace an issue's summary and description (an erasure request)."""
    with jira_errors(f"redact {issue_key}"):
        client_for(config).issue(issue_key, fields="summary").update(
            fields={"summary": summary, "description": description}, notify=False
        )


def redact_comment(config: ToolConfig, issue_key: str, comment_id: str, body: str) -> None:
    """Replace one comment's text (an erasure request)."""
    with jira_errors(f"redact comment {comment_id} of {issue_key}"):
        client_for(config).comment(issue_key, comment_id).update(body=body, notify=False)


class JiraUnreachable(Exception):
    """Jira did not answer the check (no connection, a timeout, 5xx or 429): nothing could be checked."""


def check_jira(config: ToolConfig) -> list[str]:
    """What is wrong with the Jira configuration, checked against the server (empty when all is well).

    Raises JiraUnreachable when Jira does not answer: that is not a wrong setting, and tasks retry.
    """
    try:
        client = client_for(config)
        with jira_errors("authenticate"):
            client.myself()
        with jira_errors(f"read project {config.jira_project}"):
            project = client.project(config.jira_project)
        # The project's own list: Cloud has no createmeta issuetypes endpoint (project_issue_types).
        types = {t.name for t in getattr(project, "issueTypes", [])}
        with jira_errors("read priorities"):
            priorities = {p.name for p in client.priorities()}
    except RetryableToolError as exc:
        raise JiraUnreachable(str(exc)) from None
    except PermanentToolError as exc:
        return [str(exc)]
    problems = []
    if config.jira_issue_type not in types:
        problems.append(
            f"TRIAGE_JIRA_ISSUE_TYPE: {config.jira_issue_type!r} is not an issue type of project "
            f"{config.jira_project} (it has: {', '.join(sorted(types))})"
        )
    for urgency, name in sorted(config.jira_priorities.items()):
        if name not in priorities:
            problems.append(
                f"TRIAGE_JIRA_PRIORITIES: {urgency} -> {name!r} is not a Jira priority "
                f"(there are: {', '.join(sorted(priorities))})"
            )
    components = {c.name for c in getattr(project, "components", [])}
    for category, name in sorted(config.jira_components.items()):
        if name not in components:
            problems.append(
                f"TRIAGE_JIRA_COMPONENTS: {category} -> {name!r} is not a component of {config.jira_project} "
                f"(it has: {', '.join(sorted(components)) or 'none'})"
            )
    return problems
