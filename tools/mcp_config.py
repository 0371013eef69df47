"""How an operator names the MCP servers whose tools join the catalog (TRIAGE_MCP_SERVERS, JSON): how to
reach each, what of it they vouch for, its limits, and its lookups of the customer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from tools.pacing_port import Limit


class Finder(BaseModel):
    """A tool of a server that looks the customer up by the ticket's own sender (a CRM's lookup): the
    argument that takes the sender's address (policy pins it there), and what of its result an issue
    takes instead of the extract step's reading of the mail."""

    model_config = ConfigDict(extra="forbid")
    by: str = Field(description="the argument that takes the sender's address")
    finds: list[Literal["account_id", "customer_name"]] = Field(min_length=1)


class McpServer(BaseModel):
    """One server whose tools join the catalog: how to reach it (a command over stdio, or a URL with a
    bearer token), which of its tools the operator vouches are read-only, and its calls' time limit."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9]{1,15}$", description="the prefix of its tools' names")
    command: list[str] | None = Field(None, min_length=1)
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = Field(None, pattern=r"^https?://")
    token: SecretStr | None = None
    read_only: list[str] = Field(default_factory=list, description="tools the operator vouches only read")
    timeout_s: float = Field(30.0, gt=0, le=600)
    per_s: float | None = Field(
        None, gt=0, description="calls a second the whole fleet makes to it (its rate limit); unset: none"
    )
    burst: int = Field(1, ge=1, le=1000, description="calls it takes at once under per_s")
    finders: dict[str, Finder] = Field(
        default_factory=dict, description="its tools that look the customer up by the sender's address"
    )

    def limits(self) -> list[Limit]:
        """The fleet's shared limit on calls to this server (none without per_s)."""
        return [Limit(f"mcp:{self.name}", self.per_s, self.burst)] if self.per_s else []

    @model_validator(mode="after")
    def _one_way_in(self) -> McpServer:
        if (self.command is None) == (self.url is None):
            raise ValueError(f"MCP server {self.name!r} needs exactly one of command or url")
        return self
