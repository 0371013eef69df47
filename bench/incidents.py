"""How incident linking does on a labelled incident mailbox, through `triage demo` as a newcomer runs it
(memory on by default, the installed embedder): pairwise precision and recall of "in one incident",
unrelated tickets linked, and incidents per outage.

    python -m bench.incidents examples/incidents-far [examples/incidents ...]

Each folder holds a Maildir and its outages.json (Message-ID -> outage, or null).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from evaluation.incidents import score_incidents


def measured(folder: Path) -> dict[str, object]:
    """The scores of one labelled incident mailbox."""
    labels = json.loads((folder / "outages.json").read_text())["outages"]
    done = subprocess.run(
        [str(Path(sys.executable).parent / "triage"), "demo", "--maildir", str(folder), "--json", "--memory"],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    outage = {row["message_id"]: labels[f"<{row['message_id']}>"] for row in rows}
    incident = {row["message_id"]: row["incident"] for row in rows}
    return {"mailbox": folder.name, "tickets": len(rows), **score_incidents(outage, incident).as_dict()}


def main() -> None:
    """One JSON line per mailbox."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    for folder in parser.parse_args().folders:
        print(json.dumps(measured(folder)))


if __name__ == "__main__":
    main()
