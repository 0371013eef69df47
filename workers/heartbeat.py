"""A worker's heartbeat: every few seconds its main process tells the store it is alive, with the tasks it
runs at once, so the fleet can size itself (tasks/turns.py) and a host that died is seen to be gone."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from pathlib import Path

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
                workers.beat(name, slots, executes, GONE_AFTER_S, processes())
            except RedisError as exc:
                log.warning("heartbeat not recorded worker=%s error=%r", name, exc)
            if stop.wait(BEAT_S):
                return

    threading.Thread(target=beat, name="triage-heartbeat", daemon=True).start()
    return stop


def processes() -> list[str]:
    """This worker's processes as a step's owner names them (host:pid): itself and its children (the
    prefork pool's processes, the tool helpers)."""
    me, host = os.getpid(), socket.gethostname()
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == me:
            children.append(int(stat.parent.name))
    return [f"{host}:{pid}" for pid in (me, *children)]


def stop_beating(workers: Workers, name: str, beating: threading.Event) -> None:
    """A worker that stops says it is gone at once (else its beat expires in GONE_AFTER_S)."""
    beating.set()
    with contextlib.suppress(RedisError):
        workers.gone(name)
