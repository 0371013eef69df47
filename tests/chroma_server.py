"""A real Chroma server (`chroma run`, from the chromadb package) on a free port, for the tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.support import free_port, wait_for

CHROMA = shutil.which("chroma", path=str(Path(sys.executable).parent))


class ChromaServer:
    """`chroma run` on its own folder and port; stop and start it again to play an outage."""

    def __init__(self, folder: Path, chroma: str) -> None:
        self.folder, self.chroma, self.port = folder, chroma, free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = folder / "chroma.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [self.chroma, "run", "--path", str(self.folder / "data"), "--host", "127.0.0.1",
                 "--port", str(self.port)], stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for(lambda: self.answers() or self.process is None or self.process.poll() is not None,
                 timeout=60, what="chroma run to answer")  # fmt: skip
        assert self.answers(), self.log.read_text()[-2000:]

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None
