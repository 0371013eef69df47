"""The benchmark's arithmetic: the rate it compares and the percentile it prints."""

from __future__ import annotations

import math

from bench.fleet import percentile, steady_rate


def test_the_rate_counts_only_what_finished_once_the_whole_fleet_was_up() -> None:
    # Two tickets done by the first worker alone before the second was ready, then 4 in 2 seconds.
    assert steady_rate([9.0, 9.5, 10.5, 11.0, 11.5, 12.0], since=10.0) == 2.0


def test_no_ticket_after_the_start_gives_no_rate() -> None:
    assert math.isnan(steady_rate([1.0, 2.0], since=5.0))


def test_the_percentile_is_the_nearest_rank_in_milliseconds() -> None:
    values = [i / 1000 for i in range(1, 101)]
    assert percentile(values, 0.99) == 0.1 and percentile(values, 0.5) == 0.051
    assert math.isnan(percentile([], 0.99))
