"""Who calls over MCP: over HTTP, the holder of a console API token (its name, role and mailboxes);
over stdio, the operator who started the server (an admin: the local rights of whoever runs it)."""

from __future__ import annotations

from dataclasses import dataclass

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken

from agent.store.run_listing import Within
from console.users import Role, UsersFile, allowed

_MAILBOX = "mailbox:"


@dataclass(frozen=True)
class Caller:
    """A caller's name (the audit trail's `by`), role, and the mailboxes it is limited to (None: all)."""

    name: str
    role: str
    within: Within = None

    def may(self, needed: Role) -> bool:
        """True when the caller's role allows what needs `needed`."""
        return allowed(self.role, needed)


class ConsoleTokens:
    """Verifies a bearer token against the console's users file (read afresh as it changes): the
    token's role and mailboxes become the access token's scopes."""

    def __init__(self, users: UsersFile) -> None:
        self.users = users

    async def verify_token(self, token: str) -> AccessToken | None:
        """The access of a console API token, or None for any other string."""
        found = self.users.current().token(token)
        if found is None:
            return None
        mailboxes = [f"{_MAILBOX}{m}" for m in found.mailboxes or []]
        return AccessToken(token="", client_id=found.name, scopes=[found.role, *mailboxes])


def current_caller(operator: Caller | None) -> Caller | None:
    """The caller of the request being served: the token's holder over HTTP, else `operator` (stdio);
    None when neither (an HTTP request without a valid token never gets this far)."""
    access = get_access_token()
    if access is None:
        return operator
    role = next((s for s in access.scopes if not s.startswith(_MAILBOX)), "viewer")
    mailboxes = frozenset(s.removeprefix(_MAILBOX) for s in access.scopes if s.startswith(_MAILBOX))
    return Caller(access.client_id, role, mailboxes or None)
