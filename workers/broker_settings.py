"""Where the broker and the state store are (TRIAGE_REDIS_*, TRIAGE_BROKER_URL): one Redis, or the
master its Sentinels name, for both; or RabbitMQ as the broker and Redis for the state; part of Settings."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, StringConstraints, field_validator
from pydantic_settings import BaseSettings
from redis.connection import parse_url


class BrokerSettings(BaseSettings):
    """How a process reaches Redis and the broker. workers/settings.py's Settings has these fields."""

    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis for broker and run store")
    redis_sentinels: list[Annotated[str, StringConstraints(pattern=r"^[^\s:/]+:\d{1,5}$")]] = Field(
        default_factory=list,
        description="host:port of your Redis Sentinels (JSON list); set: broker and state follow the master "
        "they name, and TRIAGE_REDIS_URL gives only its database and password",
    )
    redis_sentinel_master: str = Field("triage", description="the master's name the Sentinels watch")
    broker_url: SecretStr | None = Field(
        None,
        description="RabbitMQ as the broker (amqp://user:password@host:5672/vhost), with quorum queues; "
        "Redis stays the state store. Unset: Redis is the broker too",
    )

    @field_validator("broker_url")
    @classmethod
    def _amqp(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("amqp://", "amqps://", "pyamqp://")
        ):
            raise ValueError("must be a RabbitMQ URL (amqp://user:password@host:5672/vhost or amqps://)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        try:
            parse_url(value)  # type: ignore[no-untyped-call]
        except ValueError as exc:
            raise ValueError(f"{exc} (e.g. redis://:password@host:6379/0)") from None
        return value
