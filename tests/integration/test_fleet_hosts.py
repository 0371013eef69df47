"""A fleet on three hosts (network namespaces) loses one whole host under load: every process at once
and its link. Nothing is lost, nothing is done twice, nothing is stuck; the work that was running on
the dead host finishes elsewhere. `make fleet` runs the full size (tests/fleet_hosts.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fleet_hosts import run_fleet
from tests.hosts import can_make_hosts

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]


def test_a_host_dies_under_load_and_its_work_resumes_elsewhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if (why := can_make_hosts()) is not None:
        pytest.skip(why)

    figures = run_fleet(messages=40, settle_s=240, work=tmp_path)

    with capsys.disabled():
        print(f"\nfleet on 3 hosts, one killed: {figures}")
    assert figures["killed_after_s"] is not None and figures["processes_killed"] >= 5
    assert (figures["lost"], figures["duplicates"], figures["stuck"]) == (0, 0, 0)
    assert figures["issues"] == figures["acknowledgements"] == 40
    assert figures["resumed_in_s"] is not None
