"""A countdown the broker can keep: RabbitMQ's delayed delivery refuses less than a whole second."""

from __future__ import annotations

import pytest
from kombu.transport.native_delayed_delivery import calculate_routing_key

from workers.broker import countdown
from workers.settings import load_settings

RABBIT = load_settings(broker_url="amqp://guest:guest@127.0.0.1:5672/triage")
REDIS = load_settings()


@pytest.mark.parametrize(("seconds", "on_rabbit"), [(0.05, 1.0), (0.999, 1.0), (1.2, 2.0), (7.0, 7.0)])
def test_on_rabbitmq_a_wait_is_whole_seconds_and_at_least_one(seconds: float, on_rabbit: float) -> None:
    assert countdown(RABBIT, seconds) == on_rabbit
    calculate_routing_key(int(countdown(RABBIT, seconds)), "plan")  # kombu takes it


def test_kombu_refuses_what_a_retry_of_a_twentieth_of_a_second_asked_for() -> None:
    with pytest.raises(ValueError, match="countdown must be a positive number"):
        calculate_routing_key(int(0.05), "plan")


def test_on_redis_a_wait_keeps_its_fraction_and_no_wait_is_none() -> None:
    assert countdown(REDIS, 0.05) == 0.05
    assert countdown(RABBIT, 0) == countdown(REDIS, -1.0) == 0.0
