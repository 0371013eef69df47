"""A worker's heartbeat: every few seconds its main process tells the store it is alive, with the tasks it
runs at once, so the fleet can size itself (tasks/turns.py) and a host that died is seen to be gone."""

from __future__ import annotations

import contextlib
import logging
import threading

from redis.exceptions import RedisError

from agent.store.workers import Workers

log = logging.getLogger("triage")

BEAT_S = 10.0
GONE_AFTER_S = 30  # three beats missed


def keep_beating(workers: Workers, name: str, slots: int, executes: bool) -> threading.Event:
    """Beat now and every BEAT_S seconds from a daemon thread, until the returned event is set (see
    stop_beating). A beat Redis does not take is logged and tried again at the next."""
    stop = threading.Event()

    def beat() -> None:
        while True:
            try:
                workers.beat(name, slots, executes, GONE_AFTER_S)
            except RedisError as exc:
                log.warning("heartbeat not recorded worker=%s error=%r", name, exc)
            if stop.wait(BEAT_S):
                return

    threading.Thread(target=beat, name="triage-heartbeat", daemon=True).start()
    return stop


def stop_beating(workers: Workers, name: str, beating: threading.Event) -> None:
    """A worker that stops says it is gone at once (else its beat expires in GONE_AFTER_S)."""
    beating.set()
    with contextlib.suppress(RedisError):
        workers.gone(name)
