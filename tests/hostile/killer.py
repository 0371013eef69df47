"""Start `triage worker` with a categorize_ticket that kills its own process on a marked ticket: the
shape of a message that crashes whichever worker runs it (a native crash, the OOM killer).

    python -m tests.hostile.killer worker --role all --pool prefork -c 2
"""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from typing import Any

from tools.catalog import CATALOG

MARKER = "KILL-MY-WORKER"
_original = CATALOG["categorize_ticket"]


def _deadly(args: Any, ctx: Any) -> Any:
    if MARKER in args.subject:
        os.kill(os.getpid(), signal.SIGKILL)
    return _original.fn(args, ctx)


if __name__ == "__main__":  # (importing MARKER must not change the importer's catalog)
    from cli.entry import run

    # In the worker itself, not in a tool helper: this stands for a crash of the worker. Patched before
    # the worker builds its runtime.
    CATALOG["categorize_ticket"] = replace(_original, fn=_deadly, isolated_offline_s=None)
    run()
