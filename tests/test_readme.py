"""The README stays true: its configuration table and the commands it shows match the code."""

from __future__ import annotations

import re

from cli.settings import reference_table
from tests.support import ROOT, triage

README = (ROOT / "README.md").read_text()


def test_the_quickstart_starts_with_make_demo_and_make_test() -> None:
    quickstart = README.split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in quickstart.strip().splitlines()] == [
        ["make", "demo"],
        ["make", "test"],
    ]


def test_the_configuration_table_is_the_generated_reference() -> None:
    assert reference_table() in README  # regenerate with: .venv/bin/triage config --markdown


def test_every_triage_subcommand_the_readme_shows_exists() -> None:
    shown = set(re.findall(r"\.venv/bin/triage ([a-z-]+)", README))
    assert shown >= {
        "worker",
        "ingest",
        "runs",
        "show",
        "dead-letters",
        "quarantine",
        "config",
        "plan",
        "jira",
    }
    for command in shown:
        assert triage(command, "--help").exit_code == 0, command


def test_every_make_target_the_readme_shows_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"^make ([a-z-]+)", README, re.MULTILINE)):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target
