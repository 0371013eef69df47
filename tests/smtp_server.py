"""A real SMTP server for the tests: aiosmtpd with STARTTLS (a certificate made for the run) and AUTH,
keeping every message it accepts, and answering a chosen error to the next few."""

from __future__ import annotations

import datetime
import ssl
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from workers.servers import free_port

USER, PASSWORD = "triage", "smtp-secret"
# aiosmtpd 1.4 warns on every AUTH about an attribute it sets itself; nothing the tests can change.
warnings.filterwarnings("ignore", message="Session.login_data is deprecated")


@dataclass
class SmtpServer:
    """What the server received, and the errors it is told to answer."""

    port: int = 0
    ca_file: Path = Path()
    received: list[tuple[str, list[str], Message]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # answered to the next DATA commands, in order
    lock: threading.Lock = field(default_factory=threading.Lock)

    def messages(self) -> list[Message]:
        """The messages accepted so far."""
        with self.lock:
            return [m for _, _, m in self.received]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            if self.refusals:
                return self.refusals.pop(0)
            message = message_from_bytes(envelope.original_content or envelope.content, policy=default)
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


def _certificate(folder: Path, host: str) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, 127.0.0.1 and `host` (the client trusts it as its CA file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    addresses = {ip_address("127.0.0.1"), ip_address(host)}
    san = x509.SubjectAlternativeName([x509.DNSName("localhost"), *map(x509.IPAddress, addresses)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp.crt", folder / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pkcs8 = serialization.PrivateFormat.PKCS8
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption()))
    return cert_file, key_file


@contextmanager
def running_smtp(folder: Path, host: str = "127.0.0.1") -> Iterator[SmtpServer]:
    """Serve SMTP on a free port of `host` (loopback; or a test bridge's address) with STARTTLS required
    before AUTH, AUTH required to send."""
    cert_file, key_file = _certificate(folder, host)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_file, key_file)
    server = SmtpServer(port=free_port(), ca_file=cert_file)
    controller = Controller(
        server,
        hostname=host,
        port=server.port,
        server_hostname="localhost",
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        authenticator=_authenticate,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
