"""Who may use the console: users with argon2id password hashes and API tokens, each with a role, read
from one YAML file (TRIAGE_CONSOLE_USERS). Roles rank viewer < approver < admin."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger("triage")

Role = Literal["viewer", "approver", "admin"]
_RANK: dict[str, int] = {"viewer": 0, "approver": 1, "admin": 2}
# argon2id, memory-hard: 64 MiB and 3 passes per guess (RFC 9106's second recommended option).
HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)
_NAME = r"^[A-Za-z0-9_.@-]{1,64}$"
MailboxNames = Annotated[
    list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]], Field(min_length=1)
]


class DirectoryError(Exception):
    """The users file cannot be used; the message names the file, the entry and what is wrong."""


class User(BaseModel):
    """A person who logs in: a name, a role, the argon2id hash of their password, and the mailboxes
    their role is limited to (None: every mailbox)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    role: Role
    password_hash: str = Field(pattern=r"^\$argon2id\$")
    mailboxes: MailboxNames | None = None


class ApiToken(BaseModel):
    """Automation's credential: a name (the audit trail's `by`), a role, the token's SHA-256, and the
    mailboxes its role is limited to (None: every mailbox)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    role: Role
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    mailboxes: MailboxNames | None = None


class Directory(BaseModel):
    """Everyone the console knows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    users: list[User] = Field(default_factory=list)
    tokens: list[ApiToken] = Field(default_factory=list)

    def user(self, name: str) -> User | None:
        """The user of that name, if any."""
        return next((u for u in self.users if u.name == name), None)

    def token(self, presented: str) -> ApiToken | None:
        """The API token whose hash matches, compared in constant time."""
        digest = token_digest(presented)
        return next((t for t in self.tokens if hmac.compare_digest(t.sha256, digest)), None)


def password_mark(user: User) -> str:
    """A short fingerprint of the user's password hash: a session keeps the one it logged in with, so a
    changed password ends every session started with the old one."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


class UsersFile:
    """The users file as it is now: read again whenever it changes on disk (a new user logs in, a demoted
    one loses the role, a removed one is logged out, at once, without a restart). A file changed into one
    that cannot be used is reported, and the last good one stays in force until it is mended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        self._directory = load_directory(path)  # DirectoryError at start: nothing to fall back on
        self._seen = self._stamp()

    def current(self) -> Directory:
        """The users and tokens in force (one stat() a call; a read only after a change)."""
        stamp = self._stamp()
        if stamp == self._seen:
            return self._directory
        with self._lock:
            if stamp != self._seen:
                try:
                    self._directory = load_directory(self.path)
                except DirectoryError as exc:
                    log.error("console users file not reloaded, the last good one stays: %s", exc)
                self._seen = stamp
        return self._directory

    def _stamp(self) -> tuple[int, int, int]:
        try:
            found = os.stat(self.path)
        except OSError:
            return (0, 0, 0)
        return (found.st_mtime_ns, found.st_size, found.st_ino)


def allowed(role: str, needed: Role) -> bool:
    """True when `role` ranks at least `needed`."""
    return _RANK.get(role, -1) >= _RANK[needed]


_DUMMY_HASH = HASHER.hash(secrets.token_hex(16))


def check_password(user: User | None, password: str) -> bool:
    """True when the password is the user's. An unknown user costs the same hash, so the time taken does
    not tell which names exist."""
    try:
        return HASHER.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str]:
    """A fresh API token and the SHA-256 the users file keeps (the token itself is shown once)."""
    token = "tt_" + secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    """The SHA-256 of a token: tokens are random and long, so a fast hash suffices for them."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def load_directory(path: Path) -> Directory:
    """Read and check the users file; DirectoryError names the file, the entry and the fault."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    except (OSError, yaml.YAMLError) as exc:
        raise DirectoryError(f"{path}: cannot read it as YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise DirectoryError(f"{path}: must be a mapping with `users` (`triage console add-user` writes one)")
    try:
        directory = Directory.model_validate(data)
    except ValidationError as exc:
        raise DirectoryError(f"{path}: " + "; ".join(_where(data, e) for e in exc.errors())) from None
    names = [u.name for u in directory.users] + [t.name for t in directory.tokens]
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise DirectoryError(f"{path}: names must be unique among users and tokens: {', '.join(twice)}")
    if not directory.users and not directory.tokens:
        raise DirectoryError(f"{path}: no users and no tokens: nobody could use the console")
    return directory


def _where(data: Mapping[str, Any], error: Any) -> str:
    loc = list(error["loc"])
    if len(loc) >= 2 and isinstance(loc[1], int):
        entries = data.get(loc[0]) or []
        entry = entries[loc[1]] if loc[1] < len(entries) else {}
        name = entry.get("name", "?") if isinstance(entry, Mapping) else "?"
        rest = ".".join(str(p) for p in loc[2:])
        return f"{loc[0]}[{loc[1]}] ({name!r}){'.' + rest if rest else ''}: {error['msg']}"
    return f"{'.'.join(str(p) for p in loc) or 'the file'}: {error['msg']}"


def add_user(path: Path, name: str, role: Role, password: str, mailboxes: list[str] | None = None) -> None:
    """Add a user to the users file, or set an existing user's role, mailboxes and password (the file is
    created when missing, readable by its owner only)."""
    user = User(name=name, role=role, password_hash=HASHER.hash(password), mailboxes=mailboxes)
    existing = load_directory(path) if path.exists() else Directory()
    users = [u for u in existing.users if u.name != name] + [user]
    _write(path, existing.model_copy(update={"users": users}))


def add_token(path: Path, name: str, role: Role, mailboxes: list[str] | None = None) -> str:
    """Add an API token to the users file (replacing one of that name); return the token, shown once."""
    token, digest = new_token()
    existing = load_directory(path) if path.exists() else Directory()
    fresh = ApiToken(name=name, role=role, sha256=digest, mailboxes=mailboxes)
    tokens = [t for t in existing.tokens if t.name != name] + [fresh]
    _write(path, existing.model_copy(update={"tokens": tokens}))
    return token


def remove_user(path: Path, name: str) -> None:
    """Take a user out of the users file (a running console logs them out at once); KeyError if absent."""
    existing = load_directory(path)
    if existing.user(name) is None:
        raise KeyError(f"no user {name!r} in {path}")
    _write_usable(path, existing.model_copy(update={"users": [u for u in existing.users if u.name != name]}))


def remove_token(path: Path, name: str) -> None:
    """Take an API token out of the users file (it stops working at once); KeyError if absent."""
    existing = load_directory(path)
    if not any(t.name == name for t in existing.tokens):
        raise KeyError(f"no token {name!r} in {path}")
    _write_usable(
        path, existing.model_copy(update={"tokens": [t for t in existing.tokens if t.name != name]})
    )


def _write_usable(path: Path, directory: Directory) -> None:
    """Write a file that still lets somebody in; DirectoryError instead of an empty one."""
    if not directory.users and not directory.tokens:
        raise DirectoryError(f"{path}: that would leave no users and no tokens: nobody could use the console")
    _write(path, directory)


def _write(path: Path, directory: Directory) -> None:
    """Replace the file in one step (a console reading it meanwhile sees the old or the new, never half),
    readable by its owner only."""
    text = "# Console users and API tokens: `triage console add-user` and `add-token` write this file.\n"
    staged = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text + yaml.safe_dump(directory.model_dump(exclude_none=True), sort_keys=False))
    os.replace(staged, path)
