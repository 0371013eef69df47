"""A Jira-compatible HTTP server for tests: the REST API v2 endpoints the `jira` client calls.

Same paths, status codes and error bodies (`errorMessages`, `errors`) as Jira Server 9 or, with
deployment="Cloud", as Jira Cloud: its serverInfo, the old `/search` answering 410 Gone (Atlassian
removed it, CHANGE-2046) and `/search/jql` with nextPageToken paging. Like Cloud's, the search index may
lag: an issue becomes searchable only `search_lag_s` after it was created (Cloud's JQL search is
eventually consistent). Failure injection: 429 with Retry-After, 503, 500, a dropped connection after a
successful write, 400 with field errors, 401. State is in memory; tests assert on it at the end.
"""

from __future__ import annotations

import base64
import json
import math
import random
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as email_policy
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests import jira_service_desk as service_desk
from tests.http_peer import JsonHandler, serving

API = "/rest/api/2"
SERVICE_DESK_API = "/rest/servicedeskapi"
FIELDS = ["summary", "description", "labels", "priority", "issuetype", "project", "components", "status", "created",
          "updated"]  # fmt: skip


_NOFORMAT_TAG = re.compile(r"\{noformat(?::[^}]*)?\}", re.IGNORECASE)


def live_markup(wiki: str) -> str:
    """What of a wiki text Jira reads as markup: the text outside {noformat} blocks (which render as
    they are, up to the first closing tag), less the backslash-escaped characters (which show as
    themselves). What a mail wrote must never be in it."""
    outside = _NOFORMAT_TAG.split(wiki)[::2]
    return re.sub(r"\\.", "", "".join(outside))


def jira_time(at: float | None = None) -> str:
    """A time as Jira's REST API writes it: 2026-12-02T09:15:02.123+0000."""
    stamp = datetime.fromtimestamp(time.time() if at is None else at, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"


@dataclass
class Fault:
    """One injected failure for the next request matching method and path pattern."""

    method: str
    path: str  # regex matched against the path after /rest/api/2
    kind: str  # "429", "503", "500", "400", "401", "drop_after_write"
    retry_after: int | None = None
    body_contains: str | None = None  # only requests whose body contains this text
    sticky: bool = False  # answers every matching request, as Jira does for a field it will never accept
    reason: str | None = None  # a 429's RateLimit-Reason (jira-burst-based, jira-per-issue-on-write, ...)


@dataclass
class JiraState:
    """What the fake Jira holds."""

    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    priorities: list[str] = field(default_factory=lambda: ["Highest", "High", "Medium", "Low", "Lowest"])
    issue_types: list[str] = field(default_factory=lambda: ["Task", "Bug", "Story"])
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    indexed_at: dict[str, float] = field(default_factory=dict)  # issue key -> when search finds it
    requests: list[tuple[str, str]] = field(default_factory=list)
    next_id: int = 10000
    # Jira's default link types (name, inward, outward) and the links made: (id, type name, inward key,
    # outward key), read "inward <outward verb> outward" ("A blocks B" is inwardIssue A, outwardIssue B).
    link_types: list[tuple[str, str, str]] = field(default_factory=lambda: [
        ("Blocks", "is blocked by", "blocks"), ("Cloners", "is cloned by", "clones"),
        ("Duplicate", "is duplicated by", "duplicates"), ("Relates", "relates to", "relates to"),
    ])  # fmt: skip
    links: list[tuple[str, str, str, str]] = field(default_factory=list)
    attachments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # issue key -> files
    rate_refusals: int = 0  # requests answered 429 for the burst limit (not injected faults)
    created_at: list[float] = field(default_factory=list)  # when each issue was created (monotonic)


class FakeJira:
    """The server and its state; start it with `running_jira()`."""

    def __init__(
        self,
        user: str = "bot@example.com",
        token: str = "s3cret-token",
        failure_rate: float = 0.0,
        *,
        deployment: str = "Server",
        search_lag_s: float = 0.0,
        burst: tuple[float, int] | None = None,
    ) -> None:
        self.user, self.token = user, token
        self.deployment = deployment  # "Server" (Data Center) or "Cloud"
        self.search_lag_s = search_lag_s  # a new issue is invisible to search for this long
        self.failure_rate = failure_rate  # share of API requests that fail transiently at random
        # Cloud's burst limit over all callers: (requests a second, burst) per endpoint and method.
        self.burst = burst
        self.buckets: dict[tuple[str, str], tuple[float, float]] = {}  # (method, endpoint) -> (tokens, at)
        self.random = random.Random(1)
        self.random_failures = 0
        self.state = JiraState()
        self.service_desk = service_desk.ServiceDeskState()
        self.lock = threading.Lock()
        self.add_project("SUP", components=["Billing", "Platform"])
        self.url = ""

    def add_service_desk(self, desk_id: str, project: str, request_types: dict[str, list[str]]) -> None:
        """A service desk on a project of its own, with request types (id -> the fields each shows)."""
        self.add_project(project)
        self.service_desk.desks[desk_id] = service_desk.Desk(project, request_types)

    def add_project(self, key: str, components: list[str] | None = None) -> None:
        """Create a project with the default issue types."""
        pid = str(10000 + len(self.state.projects))
        self.state.projects[key] = {
            "id": pid, "key": key, "name": f"{key} project",
            "components": [{"id": str(i), "name": n} for i, n in enumerate(components or [], 1)],
        }  # fmt: skip

    def fail_next(
        self,
        method: str,
        path: str,
        kind: str,
        *,
        times: int = 1,
        retry_after: int | None = None,
        body_contains: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Inject `times` failures of `kind` for requests matching method, path regex (and body text); a
        429 says `reason` as Jira Cloud does (RateLimit-Reason)."""
        fault = Fault(method, path, kind, retry_after, body_contains, reason=reason)
        with self.lock:
            self.state.faults += [fault] * times

    def always_refuse(self, method: str, path: str, kind: str, *, body_contains: str) -> None:
        """Refuse every matching request (a field error Jira repeats however often it is retried)."""
        with self.lock:
            self.state.faults.append(Fault(method, path, kind, None, body_contains, sticky=True))

    def issues_with_label(self, label: str) -> list[dict[str, Any]]:
        """Issues carrying a label."""
        return [i for i in self.state.issues.values() if label in i["fields"]["labels"]]

    def author(self, user: str | None = None) -> dict[str, str]:
        """A user as Jira shows it: an accountId on Cloud, a name and key on Server."""
        user = user or self.user
        if self.deployment == "Cloud":
            return {"accountId": "acc-" + user.split("@")[0], "displayName": user}
        return {"name": user, "key": user, "displayName": user}

    def add_comment_by(self, key: str, user: str, body: str) -> None:
        """A comment someone else wrote (an agent pasting a customer's text, say)."""
        with self.lock:
            self.state.next_id += 1
            self.state.comments[key].append(
                {"id": str(self.state.next_id), "body": body, "author": self.author(user)}
            )

    def links_of(self, key: str) -> list[tuple[str, str, str]]:
        """The links at an issue, as (type name, inward key, outward key)."""
        with self.lock:
            return [(name, i, o) for _, name, i, o in self.state.links if key in (i, o)]

    def edit_as_person(self, key: str, **fields: Any) -> None:
        """A person changes an issue in Jira's UI (labels, priority, components...): `updated` moves."""
        with self.lock:
            issue = self.state.issues[key]
            issue["fields"].update(fields, updated=jira_time())

    def delete_issue(self, key: str) -> None:
        """Remove an issue (as if a user deleted it in Jira)."""
        with self.lock:
            self.state.issues.pop(key, None)
            self.state.comments.pop(key, None)


def _error(messages: list[str] | None = None, errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {"errorMessages": messages or [], "errors": errors or {}}


class _Handler(JsonHandler):
    content_type = "application/json;charset=UTF-8"

    @property
    def jira(self) -> FakeJira:
        return self.peer  # type: ignore[no-any-return]

    def _authorised(self) -> bool:
        jira = self.jira
        expected = base64.b64encode(f"{jira.user}:{jira.token}".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {expected}"

    def _take_fault(self, method: str, path: str, body: Any) -> Fault | None:
        jira = self.jira
        text = json.dumps(body, default=lambda v: "<bytes>") if body is not None else ""
        with jira.lock:
            for i, fault in enumerate(jira.state.faults):
                wanted = fault.body_contains is None or fault.body_contains in text
                if fault.method == method and re.fullmatch(fault.path, path) and wanted:
                    return fault if fault.sticky else jira.state.faults.pop(i)
        return None

    def _random_fault(self, method: str, path: str) -> Fault | None:
        jira = self.jira
        if path in ("/serverInfo", "/field") or not jira.failure_rate:
            return None
        with jira.lock:
            if jira.random.random() >= jira.failure_rate:
                return None
            jira.random_failures += 1
            kind = jira.random.choice(["503", "429", "500", "drop_after_write"])
        return Fault(method, path, kind, retry_after=1 if kind == "429" else None)

    def _over_burst(self, method: str, path: str) -> float | None:
        """Seconds until this endpoint and method has room again, when its burst limit is spent (a
        token bucket per endpoint and method, as Jira Cloud keeps them); None when the request may go."""
        jira = self.jira
        if jira.burst is None:
            return None
        rate, burst = jira.burst
        endpoint = re.sub(r"/[A-Z][A-Z0-9_]*-\d+|/\d+", "/{id}", path)
        with jira.lock:
            tokens, at = jira.buckets.get((method, endpoint), (float(burst), time.monotonic()))
            now = time.monotonic()
            tokens = min(float(burst), tokens + (now - at) * rate)
            if tokens >= 1:
                jira.buckets[(method, endpoint)] = (tokens - 1, now)
                return None
            jira.buckets[(method, endpoint)] = (tokens, now)
            jira.state.rate_refusals += 1
            return (1 - tokens) / rate

    def _refuse_for_rate(self, wait_s: float) -> None:
        """Jira Cloud's 429: Retry-After in whole seconds, X-RateLimit-Reset (ISO 8601, to the minute),
        the reason and the budget."""
        seconds = max(1, math.ceil(wait_s))
        reset = datetime.fromtimestamp(time.time() + seconds, UTC).strftime("%Y-%m-%dT%H:%MZ")
        assert self.jira.burst is not None
        headers = {
            "Retry-After": str(seconds),
            "X-RateLimit-Reset": reset,
            "RateLimit-Reason": "jira-burst-based",
            "X-RateLimit-Limit": str(self.jira.burst[1]),
            "X-RateLimit-Remaining": "0",
        }
        self.send_json(429, _error(["Rate limit exceeded."]), headers)

    def _drop(self) -> None:
        """Close the connection without a response: the client sees the connection reset."""
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _dispatch(self, method: str) -> None:
        parsed = urlparse(self.path)
        if parsed.path.startswith(SERVICE_DESK_API):  # faults match it as /servicedeskapi/...
            path = parsed.path[len("/rest") :]
        elif parsed.path.startswith(API):
            path = parsed.path[len(API) :]
        else:
            self.send_json(404, _error(["Not found"]))
            return
        # A repeated parameter (fields=a&fields=b, as requests sends a list) reads as Jira reads it: a,b.
        query = {k: ",".join(v) for k, v in parse_qs(parsed.query).items()}
        self.jira.state.requests.append((method, path))
        uploading = method == "POST" and re.fullmatch(r"/issue/[^/]+/attachments", path) is not None
        # Always consume the body: the connection is kept alive.
        body = self._read_files() if uploading else self.read_json() if method in ("POST", "PUT") else None
        if (wait := self._over_burst(method, path)) is not None:
            self._refuse_for_rate(wait)
            return
        fault = self._take_fault(method, path, body) or self._random_fault(method, path)
        if fault and fault.kind in ("429", "503", "500"):
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            headers |= {"RateLimit-Reason": fault.reason} if fault.reason else {}
            self.send_json(int(fault.kind), _error([f"Injected {fault.kind}"]), headers)
            return
        if (fault and fault.kind == "401") or not self._authorised():
            self.send_json(
                401, _error(["You are not authenticated. Authentication required to perform this operation."])
            )
            return
        if fault and fault.kind == "400":
            self.send_json(400, _error(errors={"summary": "You must specify a summary of the issue."}))
            return
        status, payload = self._route(method, path, query, body)
        if fault and fault.kind == "drop_after_write":
            self._drop()
            return
        self.send_json(status, payload)

    def _read_files(self) -> list[dict[str, Any]]:
        """The files of a multipart/form-data upload, as Jira reads them from the field `file`."""
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        head = f"Content-Type: {self.headers.get('Content-Type', '')}\r\n\r\n".encode()
        form = BytesParser(policy=email_policy).parsebytes(head + data)
        return [{"filename": part.get_filename(), "content": part.get_payload(decode=True) or b""}
                for part in form.iter_parts() if part.get_param("name", header="content-disposition") == "file"]  # fmt: skip

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    # -- the API ----------------------------------------------------------------------------------

    def create(self, fields: dict[str, Any]) -> tuple[int, Any]:
        """Make an issue as POST /issue does (for the service desk's requests): (201, the issue)."""
        status, answer = self._create_issue({"fields": fields}, self.jira.url + API)
        return (status, self.jira.state.issues[answer["key"]]) if status == 201 else (status, answer)

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        jira = self.jira
        state = jira.state
        base = jira.url + API
        if path.startswith("/servicedeskapi/"):
            return service_desk.route(
                jira.service_desk, self, method, path.removeprefix("/servicedeskapi"), body
            )
        if method == "GET" and path == "/serverInfo":
            if jira.deployment == "Cloud":
                return 200, {"baseUrl": jira.url, "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0],
                             "deploymentType": "Cloud", "buildNumber": 100291, "serverTitle": "Jira"}  # fmt: skip
            return 200, {"baseUrl": jira.url, "version": "9.12.2", "versionNumbers": [9, 12, 2],
                         "deploymentType": "Server", "buildNumber": 9120002, "serverTitle": "Fake Jira"}  # fmt: skip
        if method == "GET" and path == "/myself":
            return 200, {
                **jira.author(),
                "emailAddress": jira.user,
                "displayName": "Triage Bot",
                "active": True,
            }
        if method == "GET" and path == "/field":
            return 200, [{"id": f, "key": f, "name": f.title(), "custom": False} for f in FIELDS]
        if method == "GET" and path == "/priority":
            return 200, [
                {"id": str(i), "name": n, "self": f"{base}/priority/{i}"}
                for i, n in enumerate(state.priorities, 1)
            ]
        if method == "GET" and path == "/issuetype":
            return 200, self._issue_types(base)
        if method == "GET" and (m := re.fullmatch(r"/project/([^/]+)", path)):
            project = state.projects.get(m.group(1))
            if project is None:
                return 404, _error([f"No project could be found with key '{m.group(1)}'."])
            return 200, {
                **project,
                "self": f"{base}/project/{project['id']}",
                "issueTypes": self._issue_types(base),
            }
        if method == "GET" and (m := re.fullmatch(r"/issue/createmeta/([^/]+)/issuetypes", path)):
            if m.group(1) not in state.projects:
                return 404, _error([f"No project could be found with key '{m.group(1)}'."])
            types = self._issue_types(base)
            return 200, {"maxResults": 50, "startAt": 0, "total": len(types), "isLast": True, "values": types}
        if method == "POST" and path == "/issue":
            return self._create_issue(body or {}, base)
        if method == "GET" and (m := re.fullmatch(r"/issue/([^/]+)", path)):
            issue = self._issue(m.group(1))
            if issue is None:
                return 404, _error(["Issue Does Not Exist"])
            files = state.attachments.get(issue["key"], [])
            fields = {**issue["fields"], "issuelinks": self._links_of(issue, base),
                      "attachment": [{k: v for k, v in f.items() if k != "content"} for f in files]}  # fmt: skip
            return 200, {**issue, "fields": fields}
        if method == "POST" and (m := re.fullmatch(r"/issue/([^/]+)/attachments", path)):
            return self._attach(m.group(1), body or [], base)
        if method == "GET" and path == "/issueLinkType":
            return 200, {"issueLinkTypes": [self._link_type(name, base) for name, *_ in state.link_types]}
        if method == "POST" and path == "/issueLink":
            return self._link(body or {})
        if method == "PUT" and (m := re.fullmatch(r"/issue/([^/]+)", path)):
            issue = self._issue(m.group(1))
            if issue is None:
                return 404, _error(["Issue Does Not Exist"])
            with jira.lock:
                issue["fields"].update((body or {}).get("fields", {}), updated=jira_time())
            return 204, None
        if m := re.fullmatch(r"/issue/([^/]+)/comment/([^/]+)", path):
            found = [c for c in state.comments.get(m.group(1), []) if c["id"] == m.group(2)]
            if not found:
                return 404, _error(["Can not find a comment for the id: " + m.group(2)])
            if method == "PUT":
                with jira.lock:
                    found[0]["body"] = str((body or {}).get("body", ""))
            return 200, found[0]
        if m := re.fullmatch(r"/issue/([^/]+)/comment", path):
            return self._comment(method, m.group(1), body, base)
        if path == "/search" and jira.deployment == "Cloud":
            return 410, _error(["The requested API has been removed. Please migrate to the /rest/api/3/search/jql "
                                "API. A full migration guideline is available at "
                                "https://developer.atlassian.com/changelog/#CHANGE-2046"])  # fmt: skip
        if method == "GET" and path == "/search":
            hits = self._search(query.get("jql", ""))
            start, top = int(query.get("startAt", 0)), min(int(query.get("maxResults", 50)), 1000)
            page = [self._with_fields(i, query.get("fields")) for i in hits[start : start + top]]
            return 200, {"startAt": start, "maxResults": top, "total": len(hits), "issues": page}
        if path == "/search/jql" and jira.deployment == "Cloud" and method in ("GET", "POST"):
            return self._search_jql(body if method == "POST" else query)
        return 404, _error([f"No route for {method} {path}"])

    def _attach(self, key: str, files: list[dict[str, Any]], base: str) -> tuple[int, Any]:
        """Jira refuses an upload without X-Atlassian-Token: no-check (its XSRF guard), answers 404 for an
        unknown issue, else keeps the files and answers the list of what it attached."""
        if self.headers.get("X-Atlassian-Token") != "no-check":
            return 403, _error(["XSRF check failed"])
        issue = self._issue(key)
        if issue is None:
            return 404, _error(["Issue Does Not Exist"])
        made = []
        with self.jira.lock:
            for f in files:
                self.jira.state.next_id += 1
                file_id = str(self.jira.state.next_id)
                made.append({"self": f"{base}/attachment/{file_id}", "id": file_id, "filename": f["filename"],
                             "author": self.jira.author(), "created": jira_time(), "size": len(f["content"]),
                             "mimeType": "application/octet-stream", "content": f["content"]})  # fmt: skip
            self.jira.state.attachments.setdefault(issue["key"], []).extend(made)
        return 200, [{k: v for k, v in a.items() if k != "content"} for a in made]

    def _issue(self, id_or_key: str) -> dict[str, Any] | None:
        """An issue by key (SUP-1) or by id (10001), as Jira's /issue/{issueIdOrKey} takes either."""
        issues = self.jira.state.issues
        return issues.get(id_or_key) or next((i for i in issues.values() if i["id"] == id_or_key), None)

    def _link_type(self, name: str, base: str) -> dict[str, Any]:
        number, (_, inward, outward) = next(
            (i, t) for i, t in enumerate(self.jira.state.link_types, 10000) if t[0] == name
        )
        return {"id": str(number), "name": name, "inward": inward, "outward": outward,
                "self": f"{base}/issueLinkType/{number}"}  # fmt: skip

    def _link(self, body: dict[str, Any]) -> tuple[int, Any]:
        """POST /issueLink: 201 and no body; a link that exists already is not made twice (Jira says 201)."""
        jira = self.jira
        name = str((body.get("type") or {}).get("name", ""))
        if name not in [t[0] for t in jira.state.link_types]:
            return 404, _error([f"No issue link type with name '{name}' found."])
        ends = [
            self._issue(str((body.get(end) or {}).get("key", ""))) for end in ("inwardIssue", "outwardIssue")
        ]
        if any(issue is None for issue in ends):
            return 404, _error(["Issue Does Not Exist"])
        inward, outward = (str(issue["key"]) for issue in ends if issue is not None)
        with jira.lock:
            if not any(link[1:] == (name, inward, outward) for link in jira.state.links):
                jira.state.next_id += 1
                jira.state.links.append((str(jira.state.next_id), name, inward, outward))
        return 201, None

    def _links_of(self, issue: dict[str, Any], base: str) -> list[dict[str, Any]]:
        """An issue's `issuelinks`: each link names the issue at its other end, as outwardIssue when this
        issue is the link's inward end, as inwardIssue otherwise."""
        found = []
        for link_id, name, inward, outward in self.jira.state.links:
            if issue["key"] not in (inward, outward):
                continue
            other_end, other = (
                ("outwardIssue", outward) if inward == issue["key"] else ("inwardIssue", inward)
            )
            peer = self._issue(other) or {"id": "", "key": other, "fields": {}}
            found.append({"id": link_id, "self": f"{base}/issueLink/{link_id}", "type": self._link_type(name, base),
                          other_end: {"id": peer["id"], "key": other, "self": f"{base}/issue/{peer['id']}",
                                      "fields": {k: peer["fields"].get(k) for k in ("summary", "priority")}}})  # fmt: skip
        return found

    def _issue_types(self, base: str) -> list[dict[str, Any]]:
        return [{"id": str(i), "name": n, "subtask": False, "self": f"{base}/issuetype/{i}"}
                for i, n in enumerate(self.jira.state.issue_types, 1)]  # fmt: skip

    def _create_issue(self, body: dict[str, Any], base: str) -> tuple[int, Any]:
        state = self.jira.state
        fields = body.get("fields", {})
        errors: dict[str, str] = {}
        project = next((p for p in state.projects.values()
                        if fields.get("project") in ({"key": p["key"]}, {"id": p["id"]})), None)  # fmt: skip
        if project is None:
            errors["project"] = "valid project is required"
        type_names = {t["name"]: t for t in self._issue_types(base)}
        issuetype = fields.get("issuetype", {})
        if issuetype.get("name") not in type_names and issuetype.get("id") not in {
            t["id"] for t in type_names.values()
        }:
            errors["issuetype"] = "valid issue type is required"
        if not str(fields.get("summary", "")).strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(fields["summary"]) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        elif "\n" in fields["summary"] or "\r" in fields["summary"]:
            errors["summary"] = "The summary is invalid because it contains newline characters."
        if len(str(fields.get("description") or "")) > 32767:
            errors["description"] = (
                "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
            )
        if "priority" in fields and fields["priority"].get("name") not in state.priorities:
            errors["priority"] = f"Priority name '{fields['priority'].get('name')}' is not valid"
        if any(" " in label for label in fields.get("labels", [])):
            errors["labels"] = "The label must not contain spaces."
        names = {c["name"] for c in (project or {}).get("components", [])}
        for component in fields.get("components", []):
            if component.get("name") not in names:
                errors["components"] = f"Component name '{component.get('name')}' is not valid"
        if errors:
            return 400, _error(errors=errors)
        with self.jira.lock:
            state.next_id += 1
            number = sum(1 for k in state.issues if k.startswith(project["key"] + "-")) + 1  # type: ignore[index]
            key = f"{project['key']}-{number}"  # type: ignore[index]
            issue = {"id": str(state.next_id), "key": key, "self": f"{base}/issue/{state.next_id}",
                     "fields": {**fields, "labels": list(fields.get("labels", [])), "status": {"name": "Open"},
                                "created": jira_time(), "updated": jira_time()}}  # fmt: skip
            state.issues[key] = issue
            state.created_at.append(time.monotonic())
            state.indexed_at[key] = time.monotonic() + self.jira.search_lag_s
            state.comments[key] = []
        return 201, {"id": issue["id"], "key": key, "self": issue["self"]}

    def _comment(self, method: str, key: str, body: Any, base: str) -> tuple[int, Any]:
        state = self.jira.state
        if key not in state.issues:
            return 404, _error(["Issue Does Not Exist"])
        comments = state.comments[key]
        if method == "GET":
            return 200, {"startAt": 0, "maxResults": 5000, "total": len(comments), "comments": comments}
        if not str((body or {}).get("body", "")).strip():
            return 400, _error(errors={"comment": "Comment body can not be empty!"})
        if len(str(body["body"])) > 32767:
            return 400, _error(
                errors={
                    "comment": "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
                }
            )
        with self.jira.lock:
            state.next_id += 1
            comment = {"id": str(state.next_id), "self": f"{base}/issue/{key}/comment/{state.next_id}",
                       "body": body["body"], "author": self.jira.author(),
                       **({"visibility": body["visibility"]} if body.get("visibility") else {})}  # fmt: skip
            comments.append(comment)
        return 201, comment

    def _search(self, jql: str) -> list[dict[str, Any]]:
        """Issues the search index holds that match the JQL's `field = value` clauses and an
        `updated >= "-<n>m"` clause (minutes ago: the relative form, free of the user's time zone), in
        the order of `ORDER BY created|updated ASC|DESC` (default: created)."""
        state = self.jira.state
        where, _, order = jql.partition(" ORDER BY ")
        clauses = re.findall(r'(\w+)\s*=\s*"?([\w.-]+)"?', where)
        since = re.search(r'updated\s*>=\s*"?-(\d+)m"?', where)
        oldest = jira_time(time.time() - 60 * int(since.group(1))) if since else ""
        now = time.monotonic()
        hits = [
            issue for key, issue in state.issues.items()
            if state.indexed_at.get(key, 0) <= now and issue["fields"]["updated"] >= oldest
            and all(self._matches(issue, name.lower(), value) for name, value in clauses)
        ]  # fmt: skip
        by, _, direction = order.strip().partition(" ")
        hits.sort(key=lambda i: i["fields"].get(by or "created", ""), reverse=direction.upper() == "DESC")
        return hits

    @staticmethod
    def _with_fields(issue: dict[str, Any], wanted: Any) -> dict[str, Any]:
        """An issue as search returns it: only the fields asked for (comma list or list; *all: every one)."""
        names = wanted.split(",") if isinstance(wanted, str) else list(wanted or ["*all"])
        fields = issue["fields"] if {"*all", "*navigable"} & set(names) else {
            k: v for k, v in issue["fields"].items() if k in names
        }  # fmt: skip
        return {"id": issue["id"], "key": issue["key"], "self": issue["self"], "fields": fields}

    def _search_jql(self, params: dict[str, Any]) -> tuple[int, Any]:
        """Cloud's enhanced search: no total, pages chained by nextPageToken (an offset, here)."""
        if not str(params.get("jql", "")).strip():
            return 400, _error(
                ["Unbounded JQL queries are not allowed here. Please add a search restriction."]
            )
        hits = self._search(str(params["jql"]))
        start = int(params.get("nextPageToken") or 0)
        top = min(int(params.get("maxResults") or 50), 5000)
        page = hits[start : start + top]
        answer: dict[str, Any] = {"issues": [self._with_fields(i, params.get("fields")) for i in page],
                                  "isLast": start + top >= len(hits)}  # fmt: skip
        if not answer["isLast"]:
            answer["nextPageToken"] = str(start + top)
        return 200, answer

    @staticmethod
    def _matches(issue: dict[str, Any], name: str, value: str) -> bool:
        if name == "labels":
            return value in issue["fields"]["labels"]
        if name == "project":
            return issue["key"].split("-")[0] == value
        return False


@contextmanager
def running_jira(jira: FakeJira | None = None, host: str = "127.0.0.1") -> Iterator[FakeJira]:
    """Serve a FakeJira on a free port for the duration (its url on loopback; see serving)."""
    jira = jira or FakeJira()
    with serving(_Handler, jira, host) as jira.url:
        yield jira
