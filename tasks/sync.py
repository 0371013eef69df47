"""The corrections read-back (a beat task): what people changed in Jira teaches memory.

Every TRIAGE_CORRECTION_READ_BACK_S, with memory on and a Jira configured, the issues carrying the first
of TRIAGE_JIRA_LABELS that changed since the last read-back (and a margin, for Jira's indexing) are
compared with what this system set (agent/corrections.py); one read-back runs at a time.
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import suppress

from redis.exceptions import LockError

from agent.corrections import read_back
from monitoring import events
from tools import jira_client
from tools.errors import ToolError
from workers.app import app
from workers.runtime import runtime

log = logging.getLogger("triage")
MARGIN_S = 300  # read a little further back than the last time: Jira indexes changes late
FIRST_S = 24 * 3600  # how far back the first read-back looks
PAGE = 1000  # issues per read-back at most; the next one goes on from the last read


@app.task(name="triage.read_back_corrections")
def read_back_corrections() -> dict[str, int]:
    """Read back what people changed in Jira; record it in memory. Returns counts for logs and tests."""
    rt = runtime()
    config = rt.tool_config
    if rt.memory is None or config.jira_dry_run or not config.jira_labels:
        return {"issues": 0, "corrections": 0}
    lock = rt.store.mailboxes.poller_lock("jira-read-back", ttl_s=300)
    if not lock.acquire():
        return {"issues": 0, "corrections": 0}
    try:
        started = time.time()
        since = rt.store.mailboxes.read_back_cursor() or started - FIRST_S
        minutes = math.ceil((started - since + MARGIN_S) / 60)
        try:
            issues = jira_client.changed_issues(config, config.jira_labels[0], minutes, limit=PAGE)
            corrected = read_back(issues, rt.store.ledger, rt.memory, config)
        except ToolError as exc:  # Jira or memory away: the next read-back covers this one's window too
            log.warning("read-back of corrections failed: %s", exc)
            return {"issues": 0, "corrections": 0}
        # A full page may have left changes behind: go on from the last one read, not from now.
        reached = issues[-1].updated.timestamp() if len(issues) >= PAGE else started
        rt.store.mailboxes.save_read_back_cursor(reached)
        events.corrections_read_back(len(issues), [(c.issue_key, c.field, c.was, c.now) for c in corrected])
        return {"issues": len(issues), "corrections": len(corrected)}
    finally:
        with suppress(LockError):  # held past its 300 s: it expired, nothing left to release
            lock.release()
