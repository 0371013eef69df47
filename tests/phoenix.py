"""A real OTLP receiver for the tests: Arize Phoenix (`phoenix serve`, PyPI), installed in a virtual
environment of its own by `make install-otlp` (its dependencies are not the project's), on free ports
and a folder of its own; its REST API says which spans it received."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import ROOT, free_port, wait_for

PHOENIX = ROOT / ".venv-otlp" / "bin" / "phoenix"


@dataclass(frozen=True)
class Phoenix:
    """A running Phoenix: where to send OTLP over HTTP and gRPC, and where to read spans back."""

    http: str
    grpc: str

    def spans(self, project: str = "default") -> list[dict[str, Any]]:
        """Every span the project holds (its REST API, page by page)."""
        found: list[dict[str, Any]] = []
        cursor = ""
        while True:
            url = f"{self.http}/v1/projects/{project}/spans?limit=1000{cursor}"
            with urllib.request.urlopen(url, timeout=10) as response:
                page = json.loads(response.read())
            found += page["data"]
            if not page.get("next_cursor"):
                return found
            cursor = f"&cursor={page['next_cursor']}"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def running_phoenix(folder: Path) -> Iterator[Phoenix]:
    """`phoenix serve` on free loopback ports, its database in `folder`; stopped after."""
    folder.mkdir(parents=True, exist_ok=True)
    http_port, grpc_port = free_port(), free_port()
    env = {
        **os.environ,
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(http_port),
        "PHOENIX_GRPC_PORT": str(grpc_port),
        "PHOENIX_WORKING_DIR": str(folder),
        "PHOENIX_TELEMETRY_ENABLED": "false",
    }
    log = (folder / "phoenix.log").open("wb")
    process = subprocess.Popen([str(PHOENIX), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Phoenix(http=f"http://127.0.0.1:{http_port}", grpc=f"http://127.0.0.1:{grpc_port}")
    try:
        wait_for(lambda: _answers(server.http) or process.poll() is not None, 120, "phoenix serve to answer")
        if process.poll() is not None:
            raise RuntimeError(f"phoenix serve exited: {(folder / 'phoenix.log').read_text()[-2000:]}")
        yield server
    finally:
        process.terminate()
        process.wait(30)
        log.close()
