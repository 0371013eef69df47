"""The `triage` command: demo, workers, ingest, and reading the run store."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from workers.settings import ConfigError


def _fail_on_config_error() -> None:
    try:
        from workers import app  # noqa: F401  (reads and checks the settings)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


@click.group()
def main() -> None:
    """Agentic support-ticket triage on Celery + Redis."""
    _fail_on_config_error()


@main.command()
@click.option("--maildir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Maildir to process (default: the sample mailbox in examples/).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message on stdout.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for every message.")
def demo(maildir: Path | None, as_json: bool, timeout: float) -> None:
    """Run a mailbox through the whole pipeline (real workers, Redis or an embedded one) and report."""
    from workers.demo import run_demo

    sys.exit(run_demo(maildir, as_json, timeout_s=timeout))


if __name__ == "__main__":
    main()
