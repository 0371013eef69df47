"""The settings of the review console (TRIAGE_CONSOLE_*), part of Settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings


class ConsoleSettings(BaseSettings):
    """Where the console listens, who may use it, and how long a login lasts; workers/settings.py's
    Settings has these fields."""

    console_users: Path | None = Field(
        None, description="YAML file of console users and API tokens (`triage console add-user` writes it)"
    )
    console_host: str = Field("127.0.0.1", description="address `triage console` listens on")
    console_port: int = Field(8080, ge=1, le=65535, description="port `triage console` listens on")
    console_session_s: int = Field(
        8 * 3600, ge=300, le=30 * 86400, description="a login lasts this long, less when idle half of it"
    )
    console_secure_cookies: bool = Field(
        True, description="session cookies only over HTTPS (browsers allow http://localhost too)"
    )
    console_login_attempts: int = Field(
        5, ge=1, le=100, description="failed logins from an address (per name, and in all) before it waits"
    )
    console_login_window_s: int = Field(900, ge=60, description="how long failed logins are counted")
    console_trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses (or networks) of your reverse proxies, whose X-Forwarded-For names the client "
        "(JSON list); none: the header is ignored",
    )
