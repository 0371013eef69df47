"""`triage demo`: a mailbox through the whole pipeline on real Celery workers and Redis, then a report."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from agent.run import Delivery, Run
from agent.store import RunStore
from cli.demo_report import FINAL_STATUSES, memory_line, outcome_row, render_table
from cli.inprocess import running_worker
from cli.llm_report import llm_report
from inbox.imap import ImapSource
from inbox.maildir import MaildirSource
from inbox.source import MailSource
from tasks.ingest import poll_source
from tools.outbox import mail_path
from workers.app import configure
from workers.embedded_redis import embedded_redis, redis_answers
from workers.local_llm import MODEL_ALIAS, local_llm_server
from workers.settings import Settings, load_settings


def sample(folder: str) -> Path:
    """A sample shipped with the program (examples/, installed as triage_examples): `mailbox`, `kb`."""
    spec = importlib.util.find_spec("triage_examples")
    if spec is None or spec.origin is None:
        raise RuntimeError("the samples are not installed (package triage_examples): reinstall")
    return Path(spec.origin).parent / folder


DEMO_OUTBOX = Path("var/demo-outbox.jsonl")  # relative to where the demo runs; rewritten by each run


def wait_for_outcomes(store: RunStore, expected: int, timeout_s: float) -> list[dict[str, Any]]:
    """Poll the run store until every delivered message has a final row (or the time is up); a run held
    for a person counts as final: the demo does not wait for people."""
    deadline = time.monotonic() + timeout_s
    while True:
        deliveries = store.deliveries.recent()
        rows = [_row(store, d) for d in deliveries]
        if (len(deliveries) >= expected and all(rows)) or time.monotonic() > deadline:
            return [
                r or {"message_id": d.message_id, "status": "running", "reason": "timed out waiting"}
                for r, d in zip(rows, deliveries, strict=True)
            ]
        time.sleep(0.1)


def _row(store: RunStore, delivery: Delivery) -> dict[str, Any] | None:
    run = store.runs.get(delivery.run_id) if delivery.run_id else None
    hold = store.reviews.held(run.id) if run is not None and run.status == "held" else None
    return outcome_row(delivery, run, _problem_of(store, run), hold)


def _problem_of(store: RunStore, run: Run | None) -> str | None:
    """The problem issue of the incident the run's ticket belongs to, if any."""
    found = store.incidents.incident_of(run.ticket.id) if run is not None else None
    incident = store.incidents.get(found, members=False) if found is not None else None
    return incident.problem_key if incident is not None else None


# The local model on two cores: one mail at a time (so no request waits out its turn behind another),
# and plans short enough that the answer ends within its tokens (an answer cut short is no plan).
LOCAL_LLM = {
    "llm_model": MODEL_ALIAS,
    "llm_structured_output": "json_object",
    "llm_timeout_s": 100,
    # A whole plan of five steps runs to about 700 tokens of JSON: 800 cut SmolLM2's answers short.
    "llm_max_output_tokens": 1200,
    "llm_max_transport_retries": 0,
    "llm_max_concurrency": 1,
    "max_plan_steps": 5,
}


@contextmanager
def demo_settings(
    redis_url: str | None,
    workdir: Path,
    local_llm: bool = False,
    outbox: Path | None = None,
    memory: bool = False,
) -> Iterator[Settings]:
    """Settings for one independent demo run: its own namespace, outbox, memory (a folder of its own)
    and (if needed) Redis and LLM."""
    with ExitStack() as stack:
        url = redis_url or load_settings().redis_url
        if not redis_answers(url):
            url = stack.enter_context(embedded_redis())
        llm: dict[str, object] = {}
        if local_llm:
            served = stack.enter_context(local_llm_server())
            llm = {**LOCAL_LLM, "llm_base_url": served}
            if memory:  # the rule plan with memory has up to eight steps: the policy must let it through
                llm["max_plan_steps"] = 10
        # With memory, the sample knowledge base too: drafted answers for the tickets it answers.
        with_memory = {
            "memory": "on",
            "memory_path": workdir / "memory",
            "memory_url": None,
            "kb_path": sample("kb"),
        }
        yield load_settings(
            redis_url=url,
            namespace=f"demo-{uuid.uuid4().hex[:10]}",
            outbox_path=outbox or workdir / "outbox.jsonl",
            retry_scale=0.05,
            maildir=None,
            metrics_port=0,  # a demo serves no /metrics (a real worker on this host may own the port)
            **(with_memory if memory else {}),
            **llm,
        )


def mail_source(settings: Settings, store: RunStore, workdir: Path, imap: bool) -> MailSource:
    """The demo's source: the configured IMAP folder, or the copied Maildir."""
    if not imap:
        return MaildirSource(workdir / "mailbox")
    config = settings.imap_config()
    if config is None:
        raise SystemExit(
            "triage demo --imap needs TRIAGE_IMAP_HOST, TRIAGE_IMAP_USER and a password or token"
        )
    # The demo only looks: the folder is opened read-only (EXAMINE) and nothing is flagged or moved.
    return ImapSource(config.model_copy(update={"processed": "leave", "read_only": True}), store.mailboxes)


def run_demo(
    maildir: Path | None,
    as_json: bool,
    redis_url: str | None = None,
    timeout_s: float = 120,
    local_llm: bool = False,
    imap: bool = False,
    outbox: Path = DEMO_OUTBOX,
    memory: bool = False,
    wide: bool = False,
) -> int:
    """Process a mailbox end to end and report; exit code 0 when every message reached a final status.

    The dry-run outbox (the exact Jira payloads) is written anew to `outbox` and kept for reading.
    """
    console = Console(stderr=as_json, width=None if sys.stdout.isatty() else (200 if wide else 100))
    outbox.parent.mkdir(parents=True, exist_ok=True)
    mail_outbox = mail_path(outbox)
    outbox.unlink(missing_ok=True)
    mail_outbox.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="triage-demo-") as tmp:
        workdir = Path(tmp)
        if not imap:
            shutil.copytree(maildir or sample("mailbox"), workdir / "mailbox")  # the original is never marked
        with demo_settings(redis_url, workdir, local_llm, outbox, memory) as settings:
            with_llm = settings.llm_model is not None
            store = configure(settings).store
            # A local model answers one request at a time: one mail at a time, so none waits out its turn.
            slots = 1 if local_llm else 8
            try:
                with (
                    running_worker(concurrency=slots),
                    closing(mail_source(settings, store, workdir, imap)) as source,
                ):
                    started = time.monotonic()
                    expected = poll_source(source)
                    rows = wait_for_outcomes(store, expected, timeout_s)
                    elapsed = time.monotonic() - started
                    runs = [store.runs.get(d.run_id) for d in store.deliveries.recent() if d.run_id]
                    model = llm_report(run for run in runs if run is not None)
            finally:
                store.erase_namespace()
    outbox_lines = outbox.read_text().count("\n") if outbox.exists() else 0
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        render_table(rows, console, wide)
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        console.print(f"{len(rows)} messages in {elapsed:.1f}s: {summary}")
        console.print(f"dry-run Jira: {outbox_lines} payloads written to {outbox} (no Jira configured)")
        acks = mail_outbox.read_text().count("\n") if mail_outbox.exists() else 0
        console.print(f"dry-run mail: {acks} acknowledgements written to {mail_outbox} (no SMTP configured)")
        if memory:
            console.print(memory_line(rows))
    if with_llm:
        console.print(model.line())
    if with_llm and rows and model.planned == 0:
        console.print("the model planned nothing: every plan fell back to the rules (see each reason)")
        return 1
    return 0 if all(row["status"] in FINAL_STATUSES for row in rows) else 1


def remembers(asked: bool | None, local_llm: bool) -> bool:
    """Whether a demo keeps memory: as asked (--memory / --no-memory), else on unless TRIAGE_MEMORY=off,
    but not with the local model, whose plans are kept to five steps (LOCAL_LLM): the rule plan with
    memory has seven or eight (remember, incident, draft), and a policy of five refused it."""
    if asked is not None:
        return asked
    return not local_llm and load_settings().memory != "off"


@click.command()
@click.option(
    "--maildir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Maildir to process (default: the sample mailbox in examples/).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message on stdout.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for every message.")
@click.option(
    "--local-llm", is_flag=True, help="Plan and analyse with the local SmolLM2 model (.[llm-local])."
)
@click.option("--imap", is_flag=True, help="Read the TRIAGE_IMAP_* folder (read-only) instead of a Maildir.")
@click.option(
    "--memory/--no-memory",
    default=None,
    help="Remember tickets, draft answers and link incidents in a fresh memory folder (default: on, "
    "unless TRIAGE_MEMORY=off or --local-llm).",
)
@click.option("--wide", is_flag=True, help="Every column (the default fits 100 columns).")
@click.option(
    "--outbox",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEMO_OUTBOX,
    show_default=True,
    help="Where the dry-run Jira payloads are written (anew each run).",
)
def demo(
    maildir: Path | None,
    as_json: bool,
    timeout: float,
    local_llm: bool,
    imap: bool,
    memory: bool | None,
    wide: bool,
    outbox: Path,
) -> None:
    """Run a mailbox through the whole pipeline (real workers, Redis or an embedded one) and report."""
    if imap and maildir is not None:
        raise click.UsageError("give --maildir DIR or --imap, not both")
    code = run_demo(
        maildir,
        as_json,
        timeout_s=timeout,
        local_llm=local_llm,
        imap=imap,
        outbox=outbox,
        memory=remembers(memory, local_llm),
        wide=wide,
    )
    sys.exit(code)
