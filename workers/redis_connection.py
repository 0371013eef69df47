"""How a process reaches Redis, for the run store and for Celery's broker: one server (TRIAGE_REDIS_URL),
or the master a set of Redis Sentinels names (TRIAGE_REDIS_SENTINELS, TRIAGE_REDIS_SENTINEL_MASTER),
followed to its replica when the Sentinels promote one. Replication is asynchronous, so a write the
old master took may not have reached the replica: what must not be lost waits for a replica to have it
(`replicated`) before the system acts on it."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis
from redis.sentinel import Sentinel

from workers.settings import Settings

REPLICA_WAIT_MS = 5000  # how long a write that must survive a failover waits for a replica's ack


def redis_client(settings: Settings) -> redis.Redis:
    """A client of the run store's Redis (the Sentinels' current master, when they are set)."""
    if not settings.redis_sentinels:
        return redis.Redis.from_url(settings.redis_url, socket_timeout=10, health_check_interval=30)
    url = urlsplit(settings.redis_url)
    sentinel = Sentinel(_addresses(settings), socket_timeout=2)  # type: ignore[no-untyped-call]
    master: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        settings.redis_sentinel_master,
        db=_database(settings),
        password=url.password,
        username=url.username,
        socket_timeout=10,
        health_check_interval=30,
    )
    return master


def broker_url(settings: Settings) -> str:
    """Celery's broker URL: TRIAGE_REDIS_URL, or every Sentinel (kombu asks them for the master named in
    the transport options: broker_options)."""
    if not settings.redis_sentinels:
        return settings.redis_url
    password = urlsplit(settings.redis_url).password
    auth = f":{password}@" if password else ""
    return ";".join(
        f"sentinel://{auth}{address}/{_database(settings)}" for address in settings.redis_sentinels
    )


def broker_options(settings: Settings) -> dict[str, str]:
    """The transport options the Sentinels need: the master's name."""
    return {"master_name": settings.redis_sentinel_master} if settings.redis_sentinels else {}


def _database(settings: Settings) -> int:
    """The database number TRIAGE_REDIS_URL names (its path), 0 when it names none."""
    path = urlsplit(settings.redis_url).path.strip("/")
    return int(path) if path.isdigit() else 0


def _addresses(settings: Settings) -> list[tuple[str, int]]:
    return [(host, int(port)) for host, _, port in (s.rpartition(":") for s in settings.redis_sentinels)]


def replicated(client: redis.Redis, timeout_ms: int = REPLICA_WAIT_MS) -> bool:
    """Whether every write the master took so far has reached a replica (waiting at most `timeout_ms`),
    or no replica follows it at all (after a failover that used up the last one there is nothing to
    fail over to, and intake goes on rather than stops). WAIT counts a connection's own writes;
    replication is one ordered stream, so a probe written on the WAIT's connection stands for every write
    before it, on any connection."""
    pipe = client.pipeline(transaction=False)
    pipe.set("triage-replication-probe", "1", px=60_000)
    pipe.wait(1, timeout_ms)
    if int(pipe.execute()[1]) >= 1:
        return True
    return int(client.info("replication").get("connected_slaves", 0)) == 0
