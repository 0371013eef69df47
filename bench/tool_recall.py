"""How a catalog that grows is shown to the planner: with the system's own tools and 90 or 490 tools of
other systems (bench/other_systems.py), the planning prompt's tokens with every tool and with the cut of
TRIAGE_PLANNER_MAX_TOOLS (agent/tool_shortlist.py), and the recall of the tools a labelled set of e-mails
needs (examples/tool-needs.json) at several cuts.

    python -m bench.tool_recall [--needs examples/tool-needs-held-out.json] [--cuts 16 24 32]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from agent.llm_planner import render_system_prompt
from agent.memory.embedding import Embedder, HashedNgrams, MiniLM
from agent.prompt_catalog import estimated_tokens, fitted
from agent.tool_shortlist import Shortlist
from bench.other_systems import other_systems
from inbox.ticket import Ticket
from tools.base import Tool
from tools.catalog import CATALOG

NEEDS = Path(__file__).resolve().parent.parent / "examples" / "tool-needs.json"
SIZES = (0, 90, 490)  # other systems' tools beside the system's own
PROMPT_BUDGET = 2000  # TRIAGE_LLM_PROMPT_BUDGET's default
MAX_STEPS = 10


def labelled(path: Path = NEEDS) -> list[tuple[Ticket, list[str]]]:
    """The labelled e-mails as tickets, each with the tools of other systems it needs."""
    rows = json.loads(path.read_text())["tickets"]
    return [
        (
            Ticket.model_validate(
                {
                    "id": f"T{i}",
                    "message_id": f"need-{i}@example.com",
                    "subject": row["subject"],
                    "sender": "customer@example.com",
                    "sender_name": "",
                    "body": row["body"],
                    "received_at": "2026-12-07T09:00:00Z",
                    "size": len(row["body"]),
                }
            ),
            row["needs"],
        )
        for i, row in enumerate(rows)
    ]


def prompt_tokens(catalog: dict[str, Tool[Any, Any]]) -> tuple[int, str]:
    """The tokens of the planning prompt's static part for this catalog, and the detail that fitted."""
    text, detail = fitted(lambda d: render_system_prompt(catalog, MAX_STEPS, d), PROMPT_BUDGET)
    return estimated_tokens(text), detail


def recall(shortlist: Shortlist, cases: list[tuple[Ticket, list[str]]]) -> tuple[float, int, list[str]]:
    """The share of needed tools the cut shows (over the needs this catalog has), how many, and those
    it missed."""
    found, missed = 0, []
    for ticket, needs in cases:
        shown = shortlist.for_ticket(ticket)
        for need in (n for n in needs if n in shortlist.catalog):
            found += need in shown
            missed += [] if need in shown else [f"{ticket.subject!r}: {need}"]
    total = found + len(missed)
    return (found / total if total else 1.0), total, missed


def main() -> None:
    """One JSON line per catalog size and cut."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuts", nargs="+", type=int, default=[16, 20, 24, 32])
    parser.add_argument("--needs", type=Path, default=NEEDS, help="the labelled e-mails")
    parser.add_argument("--embedder", choices=("minilm", "ngrams"), default="minilm")
    args = parser.parse_args()
    embedder: Embedder = MiniLM() if args.embedder == "minilm" else HashedNgrams()
    cases = labelled(args.needs)
    for size in SIZES:
        catalog = dict(CATALOG) | other_systems(size)
        tokens, detail = prompt_tokens(catalog)
        row: dict[str, Any] = {"tools": len(catalog), "every_tool": {"tokens": tokens, "detail": detail}}
        for cut in args.cuts:
            shortlist = Shortlist(catalog, CATALOG, cut, embedder)
            share, needed, missed = recall(shortlist, cases)
            example = shortlist.for_ticket(cases[0][0])
            cut_tokens, cut_detail = prompt_tokens(example)
            row[f"cut_{cut}"] = {
                "recall": round(share, 3),
                "needed": needed,
                "tokens": cut_tokens,
                "detail": cut_detail,
                "missed": missed,
            }
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
