"""Console logins in Redis and the throttle on failed ones, against the real Redis."""

from __future__ import annotations

import hashlib
import json

from agent.store import RunStore
from console.sessions import LoginThrottle, Sessions


def test_a_session_is_found_by_its_id_until_logout_and_redis_holds_only_its_hash(store: RunStore) -> None:
    sessions = Sessions(store.redis, store.keys, lifetime_s=3600)
    session_id, session = sessions.start("maria", "approver", "mark")
    assert sessions.find(session_id) == session and sessions.find(session_id + "x") is None
    keys = [k.decode() for k in store.redis.scan_iter(match=f"{store.keys.prefix}console-session:*")]
    assert keys == [store.keys.console_session(hashlib.sha256(session_id.encode()).hexdigest())]
    assert 0 < store.redis.ttl(keys[0]) <= 1800  # idle for half the lifetime ends it
    sessions.end(session_id)
    assert sessions.find(session_id) is None


def test_a_session_older_than_its_lifetime_is_over_however_busy(store: RunStore) -> None:
    sessions = Sessions(store.redis, store.keys, lifetime_s=3600)
    session_id, _ = sessions.start("maria", "approver", "mark")
    key = next(iter(store.redis.scan_iter(match=f"{store.keys.prefix}console-session:*")))
    stored = json.loads(store.redis.get(key))  # type: ignore[arg-type]
    store.redis.set(key, json.dumps({**stored, "started": stored["started"] - 3601}))  # kept busy since
    assert sessions.find(session_id) is None


def test_failed_logins_past_the_limit_make_the_address_wait_and_lock_nobody_out_elsewhere(
    store: RunStore,
) -> None:
    throttle = LoginThrottle(store.redis, store.keys, attempts=3, window_s=600)
    for _ in range(3):
        assert throttle.wait_s("maria", "10.0.0.1") == 0
        throttle.failed("maria", "10.0.0.1")
    assert 590 <= throttle.wait_s("maria", "10.0.0.1") <= 600
    assert throttle.wait_s("vera", "10.0.0.1") > 0  # the address, whatever name it tries
    assert throttle.wait_s("maria", "10.0.0.9") == 0  # maria herself, from her own desk, is not locked out
    throttle.failed("maria", "10.0.0.9")
    throttle.succeeded("maria", "10.0.0.9")  # a good login clears her count there, not the address's
    assert not store.redis.exists(store.keys.login_failures("user:maria@10.0.0.9"))
    assert store.redis.get(store.keys.login_failures("addr:10.0.0.9")) == b"1"
