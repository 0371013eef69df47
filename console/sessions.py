"""Console logins kept in Redis, and the throttle on failed ones.

The browser holds a random session id; Redis holds only its SHA-256, with the user, role and the CSRF
token of that login. A session ends at logout, after TRIAGE_CONSOLE_SESSION_S, or when idle for half of it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass

import redis

from agent.keys import Keys


@dataclass(frozen=True)
class Session:
    """One login: who, with which role, and the token every state-changing request must carry."""

    user: str
    role: str
    csrf: str
    started: float
    mark: str = ""  # users.password_mark at login: a changed password ends the session


class Sessions:
    """Start, find and end logins."""

    def __init__(self, client: redis.Redis, keys: Keys, lifetime_s: int) -> None:
        self.redis, self.keys, self.lifetime_s = client, keys, lifetime_s

    def start(self, user: str, role: str, mark: str) -> tuple[str, Session]:
        """A new login: its id (for the cookie, never stored) and the session."""
        session_id = secrets.token_urlsafe(32)
        session = Session(user, role, secrets.token_urlsafe(32), time.time(), mark)
        key = self._key(session_id)
        self.redis.set(key, json.dumps(session.__dict__), ex=self.lifetime_s // 2)
        return session_id, session

    def find(self, session_id: str) -> Session | None:
        """The live session of that id, its idle time renewed; None when unknown, ended or expired."""
        if not session_id or len(session_id) > 100:
            return None
        key = self._key(session_id)
        raw = self.redis.get(key)
        if raw is None:
            return None
        session = Session(**json.loads(raw))
        left = self.lifetime_s - (time.time() - session.started)
        if left <= 0:
            self.redis.delete(key)
            return None
        self.redis.expire(key, max(1, int(min(left, self.lifetime_s // 2))))
        return session

    def end(self, session_id: str) -> None:
        """Log out."""
        self.redis.delete(self._key(session_id))

    def _key(self, session_id: str) -> str:
        return self.keys.console_session(hashlib.sha256(session_id.encode()).hexdigest())


class LoginThrottle:
    """Failed logins counted per client address, and per user name from that address, over a window:
    past the limit, that address (or that name from it) waits for the window to pass. A guesser gets a few
    tries per window, not thousands; and nobody elsewhere can lock a person out of their own account."""

    def __init__(self, client: redis.Redis, keys: Keys, attempts: int, window_s: int) -> None:
        self.redis, self.keys, self.attempts, self.window_s = client, keys, attempts, window_s

    def wait_s(self, name: str, address: str) -> int:
        """Seconds before this name or address may try again; 0 when it may now."""
        pipe = self.redis.pipeline()
        for key in self._counted(name, address):
            pipe.get(key)
            pipe.ttl(key)
        answers = pipe.execute()
        waits = [
            max(int(ttl), 1)
            for count, ttl in zip(answers[::2], answers[1::2], strict=True)
            if count is not None and int(count) >= self.attempts
        ]
        return max(waits, default=0)

    def failed(self, name: str, address: str) -> bool:
        """Count a failed login against the name and the address; True when it is the address's first
        this minute (the audit trail keeps one entry per address a minute: a guesser cannot flush it)."""
        pipe = self.redis.pipeline()
        for key in self._counted(name, address):
            pipe.set(key, 0, nx=True, ex=self.window_s)  # the window starts at the first failure
            pipe.incr(key)
        pipe.set(self.keys.login_failures(f"audited:{address}:{int(time.time() // 60)}"), 1, nx=True, ex=120)
        return bool(pipe.execute()[-1])

    def _counted(self, name: str, address: str) -> tuple[str, str]:
        """The counters a login attempt counts against: the name from that address, and the address."""
        return self.keys.login_failures(f"user:{name}@{address}"), self.keys.login_failures(f"addr:{address}")

    def succeeded(self, name: str, address: str) -> None:
        """A good login clears the name's count there (the address's stays: it may guess other names)."""
        self.redis.delete(self._counted(name, address)[0])
