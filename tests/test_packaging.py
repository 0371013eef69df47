"""The wheel carries everything the program reads at run time: installed elsewhere, it runs the demo and
plans with the LLM prompt, far from the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.llm_server import FakeOpenAI, Reply, running_openai
from tests.support import ROOT, SAMPLE_MAILBOX

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment outside the checkout with only the wheel installed as the project.

    The wheel goes in without dependencies; those are borrowed from the test environment's
    site-packages by a plain path line (no .pth hooks run from there, so the checkout's editable
    install stays invisible): the test is about what the wheel holds, not about downloading.
    """
    work = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work / "dist"),
                            str(ROOT)], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert built.returncode == 0, built.stderr
    [wheel] = (work / "dist").glob("ticket_triage-*.whl")
    env = work / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    pip = [sys.executable, "-m", "pip", "--python", str(env / "bin" / "python")]
    done = subprocess.run([*pip, "install", "--no-deps", "--quiet", str(wheel)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    site = subprocess.run([str(env / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    (Path(site) / "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return env


def run(
    env: Path, *args: str, cwd: Path, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`triage ARGS` from the fresh environment, in a folder far from the checkout."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "PYTHON"))}
    return subprocess.run([str(env / "bin" / "triage"), *args], cwd=cwd, env={**clean, **(extra or {})},
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_the_installed_program_comes_from_the_wheel_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run([str(installed / "bin" / "python"), "-c", "import workers, triage_examples; "
                            "print(workers.__file__); print(triage_examples.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert str(ROOT) not in where and str(installed) in where


def test_the_installed_demo_runs_the_sample_mailbox(installed: Path, tmp_path: Path, redis_url: str) -> None:
    done = run(installed, "demo", "--json", cwd=tmp_path, extra={"TRIAGE_REDIS_URL": redis_url})
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == 16 and sum(r["status"] == "done" for r in rows) == 9
    # Kept for reading: nine issues, two comments, the invoice's PDF and (memory is on by default) five
    # drafted answers from the sample knowledge base; the nine acknowledgements beside.
    outbox = [json.loads(line) for line in (tmp_path / "var" / "demo-outbox.jsonl").read_text().splitlines()]
    kinds = sorted(line["kind"] for line in outbox)
    assert len(outbox) == 17 and kinds.count("create_issue") == 9, kinds
    assert (tmp_path / "var" / "demo-outbox-mail.jsonl").read_text().count("\n") == 9


def test_the_installed_planner_reads_its_prompt(installed: Path, tmp_path: Path) -> None:
    with running_openai(FakeOpenAI(script=[Reply(content="not a plan")] * 3)) as fake:
        email = SAMPLE_MAILBOX / "cur" / "1764000002.M2P100.mx1:2,"
        done = run(installed, "plan", "--show", str(email), cwd=tmp_path,
                   extra={"TRIAGE_LLM_MODEL": "gpt-4o-mini", "TRIAGE_LLM_BASE_URL": fake.url,
                          "TRIAGE_LLM_MAX_REPAIRS": "0"})  # fmt: skip
    assert "prompt: planner-v1" in done.stdout, done.stdout + done.stderr
    assert (
        "You are the planner of a support-ticket triage system" in fake.requests[0]["messages"][0]["content"]
    )
