"""A real Dovecot IMAP server for tests: its own config, a passwd-file user, Maildir storage in a
temporary folder, listening on a free loopback port. Plaintext login on loopback only.

XOAUTH2 too: Dovecot's oauth2 passdb asks a token endpoint (`TokenEndpoint`, as Microsoft's userinfo
endpoint answers) who a bearer token belongs to.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.http_peer import JsonHandler, serving
from tests.support import require_program
from workers.servers import free_port

USER, PASSWORD = "support", "support-pass"


@dataclass
class TokenEndpoint:
    """Issues and revokes access tokens; answers Dovecot's introspection (GET with a bearer token)."""

    url: str = ""
    valid: dict[str, str] = field(default_factory=dict)  # token -> user
    asked: int = 0

    def issue(self, user: str = USER) -> str:
        token = secrets.token_urlsafe(24)
        self.valid[token] = user
        return token

    def revoke(self, token: str) -> None:
        self.valid.pop(token, None)


class _TokenHandler(JsonHandler):
    def do_GET(self) -> None:
        endpoint: TokenEndpoint = self.peer
        endpoint.asked += 1
        user = endpoint.valid.get(self.headers.get("Authorization", "").removeprefix("Bearer "))
        if user is None:
            self.send_json(401, {"error": "invalid_token"})
        else:
            self.send_json(200, {"email": user})


@contextmanager
def running_token_endpoint() -> Iterator[TokenEndpoint]:
    """A token endpoint on a free loopback port."""
    endpoint = TokenEndpoint()
    with serving(_TokenHandler, endpoint) as url:
        endpoint.url = f"{url}/me"
        yield endpoint


@dataclass
class Dovecot:
    """A running (or stopped) Dovecot and how to reach it."""

    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    def start(self) -> None:
        """Start (or restart) the server and wait until it accepts connections."""
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        self.process = subprocess.Popen([binary, "-F", "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=open(self.root / "stderr.log", "ab"),  # noqa: SIM115
                                        start_new_session=True)  # its own process group: stop() ends every child  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"dovecot did not start: {(self.root / 'dovecot.log').read_text()[-2000:]}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server and every session process: open connections drop, as in a crash."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        self.process = None


@contextmanager
def running_dovecot(root: Path, token_url: str | None = None) -> Iterator[Dovecot]:
    """Configure and start a private Dovecot under `root`; with token_url, XOAUTH2 logins are checked
    against that introspection endpoint (passwords still work)."""
    require_program("dovecot", "dovecot-imapd")
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(exist_ok=True)
    shutil.chown(root / "mail", "dovecot", "dovecot")
    port = free_port()
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    oauth2 = ""
    if token_url is not None:
        (root / "oauth2.conf").write_text(
            f"introspection_mode = auth\nintrospection_url = {token_url}\nusername_attribute = email\n"
        )
        oauth2 = f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {root}/oauth2.conf\n}}"
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login{" xoauth2 oauthbearer" if oauth2 else ""}
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
{oauth2}
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
""")
    server = Dovecot(root, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
