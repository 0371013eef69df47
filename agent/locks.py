"""A lock that stays held while its holder lives: renewed in the background, expiring soon after a crash."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from redis.exceptions import LockError, RedisError
from redis.lock import Lock


@contextmanager
def kept_alive(lock: Lock, ttl_s: float) -> Iterator[None]:
    """Renew `lock` every third of its ttl until the block ends, then release it.

    However long one step of the holder takes (a slow IMAP fetch, a large message), a live holder never
    loses the lock to another poller; a holder that dies stops renewing, and the lock frees in ttl_s.
    """
    done = threading.Event()

    def renew() -> None:
        while not done.wait(ttl_s / 3):
            with suppress(LockError, RedisError):  # lost or unreachable: the next renewal tries again
                lock.extend(ttl_s, replace_ttl=True)

    keeper = threading.Thread(target=renew, name="lock-keeper", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        done.set()
        keeper.join()
        with suppress(LockError):  # expired meanwhile (Redis was away): nothing left to release
            lock.release()
