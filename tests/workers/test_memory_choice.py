"""Memory is on by default wherever it can serve, and never shares an embedded folder between processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.memory_choice import claimed, memory_enabled, worker_memory
from workers.settings import Settings, load_settings


def settings(tmp_path: Path, **fields: object) -> Settings:
    return load_settings(memory_path=tmp_path / "memory", **{"memory": "auto", **fields})


def test_a_single_all_worker_keeps_memory_in_its_folder_on_one_process(tmp_path: Path) -> None:
    chosen = worker_memory(settings(tmp_path), "all", None, 4)
    assert (chosen.memory, chosen.pool) == ("on", "threads")
    assert chosen.note is not None and "TRIAGE_MEMORY_URL" in chosen.note


@pytest.mark.parametrize(("pool", "processes"), [("threads", 16), ("solo", 1), ("prefork", 1)])
def test_an_all_worker_of_one_process_given_its_pool_keeps_memory_when_asked(
    tmp_path: Path, pool: str, processes: int
) -> None:
    """A pool given is a deployment's worker, maybe one of several: memory in the folder only when asked."""
    assert worker_memory(settings(tmp_path, memory="on"), "all", pool, processes).memory == "on"
    by_default = worker_memory(settings(tmp_path), "all", pool, processes)
    assert (
        by_default.memory == "off"
        and by_default.note is not None
        and "unless TRIAGE_MEMORY=on" in by_default.note
    )


@pytest.mark.parametrize(
    ("role", "pool", "processes", "why"),
    [
        ("all", "prefork", 4, "4 prefork processes"),
        ("all", "threads", 8, "a worker given --pool threads"),
        ("plan", None, 4, "the plan role (one of a fleet)"),
        ("execute", "threads", 16, "the execute role"),
        ("ingest", "solo", 1, "the ingest role"),
    ],
)
def test_a_fleet_runs_without_the_folder_and_says_it_needs_a_server_in_one_line(
    tmp_path: Path, role: str, pool: str | None, processes: int, why: str
) -> None:
    modes = ("auto",) if role == "all" and pool == "threads" else ("auto", "on")  # on: never shared
    for mode in modes:
        chosen = worker_memory(settings(tmp_path, memory=mode), role, pool, processes)
        assert chosen.memory == "off" and chosen.note is not None
        assert why in chosen.note and "TRIAGE_MEMORY_URL" in chosen.note and "\n" not in chosen.note


def test_with_a_server_every_worker_remembers(tmp_path: Path) -> None:
    server = settings(tmp_path, memory_url="http://chroma:8000")
    for role in ("all", "plan", "execute", "ingest"):
        chosen = worker_memory(server, role, "prefork", 8)
        assert (chosen.memory, chosen.pool, chosen.note) == ("on", "prefork", None)


def test_off_is_off_everywhere(tmp_path: Path) -> None:
    off = settings(tmp_path, memory="off", memory_url="http://chroma:8000")
    assert worker_memory(off, "all", None, 1).memory == "off" and not memory_enabled(off)


def test_a_command_beside_the_worker_reads_the_memory_the_worker_wrote(tmp_path: Path) -> None:
    """`triage purge` must erase a customer's memory too: auto means on once the folder exists."""
    assert not memory_enabled(settings(tmp_path))
    (tmp_path / "memory").mkdir()
    assert memory_enabled(settings(tmp_path))
    assert memory_enabled(settings(tmp_path / "elsewhere", memory_url="http://chroma:8000"))


def test_a_second_worker_on_the_same_folder_runs_without_memory_and_says_why(tmp_path: Path) -> None:
    mine = settings(tmp_path)
    first = claimed(worker_memory(mine, "all", None, 4), mine)
    second = claimed(worker_memory(mine, "all", None, 4), mine)  # another open of the lock: another worker
    assert first.memory == "on" and second.memory == "off"
    assert second.note is not None and "another worker keeps memory" in second.note
    server = settings(tmp_path, memory_url="http://chroma:8000")
    assert claimed(worker_memory(server, "all", None, 4), server).memory == "on"  # a server is shared
