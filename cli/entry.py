"""The `triage` program's entry point: what must happen before anything else is imported."""

from __future__ import annotations

import os
import sys

from monitoring.multiproc import MULTIPROC_ENV, prepare_multiprocess_dir

SERVES_METRICS = ("worker", "metrics-server")


def run() -> None:
    """Choose the metrics folder of a worker, then hand over to the command group.

    prometheus-client fixes how every metric stores its values when it is first imported, so a prefork
    worker's processes share one folder only if it is set before that: before the commands are imported.
    """
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    if command in SERVES_METRICS and MULTIPROC_ENV not in os.environ:
        prepare_multiprocess_dir(os.environ.get("TRIAGE_METRICS_DIR"))
    from cli.main import main

    main()
