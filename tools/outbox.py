"""The dry-run outboxes: one JSON line per Jira request (or mail) the system would have sent, in time order.

The only module that knows its format: each line has `kind`, `run_id`, `key` (the idempotency key),
`at` (unix seconds) and the request. Lines are appended under an exclusive lock (O_APPEND), so
concurrent writers never interleave or lose one; rewrites take the same lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def mail_path(jira_outbox: Path) -> Path:
    """The dry-run outbox of mail beside the Jira one: outbox.jsonl -> outbox-mail.jsonl."""
    return jira_outbox.with_name(f"{jira_outbox.stem}-mail{jira_outbox.suffix}")


def append(path: Path, kind: str, run_id: str, key: str, record: dict[str, Any]) -> None:
    """Append one request."""
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"kind": kind, "run_id": run_id, "key": key, "at": time.time(), **record}
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, (json.dumps(entry) + "\n").encode())
    finally:
        os.close(fd)


def _rewrite(path: Path, keep: Callable[[dict[str, Any]], bool]) -> int:
    """Drop the lines `keep` rejects (in place, under the appenders' lock); return how many went."""
    if not path.exists():
        return 0
    with path.open("r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        lines = handle.readlines()
        kept = [line for line in lines if keep(json.loads(line))]
        handle.seek(0)
        handle.writelines(kept)
        handle.truncate()
    return len(lines) - len(kept)


def drop_runs(path: Path, run_ids: set[str]) -> int:
    """Drop every line of these runs (an erasure request); return how many went."""
    return _rewrite(path, lambda line: line.get("run_id") not in run_ids)


def expire(path: Path, cutoff: float) -> int:
    """Drop lines older than `cutoff` (unix seconds); lines are in time order, so the first tells."""
    try:
        with path.open(encoding="utf-8") as handle:
            first = handle.readline()
    except FileNotFoundError:
        return 0
    if not first or json.loads(first).get("at", cutoff) >= cutoff:
        return 0
    return _rewrite(path, lambda line: line.get("at", cutoff) >= cutoff)
