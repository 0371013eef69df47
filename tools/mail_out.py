"""Mail the system sends: the SMTP server's settings, the addresses it never writes to, the Message-IDs
it recognises as its own, and the one function that hands a message to the server."""

from __future__ import annotations

import re
import smtplib
import ssl
import uuid
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

from tools.errors import PermanentToolError, RetryableToolError

# Null, role and robot senders that must never get an automatic answer (RFC 3834 section 2, and the
# mailbox names of RFC 2142 that belong to machines).
_NO_REPLY = re.compile(
    r"^(?:(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?|notifications?|alerts?)(?:[-_.+][^@]*)?"
    r"|mailer[-_.]?daemon|postmaster|listserv|majordomo|owner-[^@]*"
    r"|[^@]*-(?:request|bounces|owner))(?:[+][^@]*)?@",
    re.IGNORECASE,
)
# Providers that deliver `j.doe@` and `jdoe@` to one mailbox; the canonical domain of each.
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
_PUBLIC_DOMAINS = frozenset(
    line.strip()
    for line in (Path(__file__).resolve().parent / "data" / "public_mail_domains.txt")
    .read_text()
    .splitlines()
    if line.strip() and not line.startswith("#")
)
_UNSENDABLE = re.compile(r"[\x00-\x20\x7f<>,;\"\\]")
_OWN_ID = re.compile(r"^triage-ack\.(T[0-9a-f]{15})\.[0-9a-f]{12}@")


class SmtpConfig(BaseModel):
    """How to reach the SMTP server (TRIAGE_SMTP_*)."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int
    starttls: bool
    user: str | None
    password: SecretStr | None
    timeout_s: float
    ca_file: Path | None = None  # CA certificates to trust (PEM); None: the system's


def never_answered(address: str) -> str | None:
    """Why an automatic answer must not go to this address (null sender, no-reply, a robot), or None."""
    address = address.strip()
    if not address or address == "<>" or "@" not in address:
        return "no sender address to answer"
    if _UNSENDABLE.search(address):
        return "the address holds control characters, spaces or brackets"
    if _NO_REPLY.match(address):
        return f"{address.rpartition('@')[0]}@ is a no-reply or robot address"
    return None


def mailbox_of(address: str) -> str:
    """The mailbox an address delivers to, for counting: lower case, without a +tag, and without dots
    where the provider ignores them (`J.Doe+x@googlemail.com` is `jdoe@gmail.com`)."""
    local, _, domain = address.strip().lower().rpartition("@")
    local = local.partition("+")[0]
    if domain in _DOTLESS_DOMAINS:
        return f"{local.replace('.', '')}@{_DOTLESS_DOMAINS[domain]}"
    return f"{local}@{domain}"


def sender_group(address: str) -> str:
    """Whose share of the queue a sender's mail takes: its domain (a company's people share one), or its
    mailbox at a public provider (gmail.com's users are strangers to each other); never empty."""
    mailbox = mailbox_of(address)
    domain = mailbox.rpartition("@")[2]
    if not domain:
        return "(no domain)"
    return mailbox if domain in _PUBLIC_DOMAINS else domain


def acknowledgement_id(ticket_id: str, sender_domain: str) -> str:
    """A fresh Message-ID (without <>) for a ticket's acknowledgement: the system reads the ticket back
    from it when the customer replies to the acknowledgement."""
    return f"triage-ack.{ticket_id}.{uuid.uuid4().hex[:12]}@{sender_domain}"


def ticket_of_acknowledgement(message_id: str) -> str | None:
    """The ticket whose acknowledgement carried this Message-ID (without <>), or None."""
    found = _OWN_ID.match(message_id)
    return found.group(1) if found else None


def send(config: SmtpConfig, message: bytes, sender: str, recipient: str) -> None:
    """Hand one message to the SMTP server. A refusal of the recipient or the message is permanent; a
    server that cannot be reached, times out or answers 4xx is worth another try."""
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=config.ca_file))
            if config.user and config.password is not None:
                smtp.login(config.user, config.password.get_secret_value())
            smtp.sendmail(sender, [recipient], message)
    except smtplib.SMTPAuthenticationError as exc:
        raise PermanentToolError(f"the SMTP server refused the login (TRIAGE_SMTP_USER): {exc}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        code, why = next(iter(exc.recipients.values()))
        _raise_for(code, f"the SMTP server refused the recipient: {code} {why!r}")
    except smtplib.SMTPResponseException as exc:
        _raise_for(exc.smtp_code, f"the SMTP server answered {exc.smtp_code} {exc.smtp_error!r}")
    except (OSError, smtplib.SMTPException) as exc:
        raise RetryableToolError(f"cannot deliver through {config.host}:{config.port}: {exc!r}") from None


def _raise_for(code: int, why: str) -> None:
    if 400 <= code < 500:
        raise RetryableToolError(why)
    raise PermanentToolError(why)
