"""Every crafted shape goes through parse, extract and categorize to its outcome, and none hangs.

Speed is measured by `make bench-hostile` (milliseconds for most shapes, about half a second for 5,000
nested multiparts); the limit here only tells a hang from work, so a loaded CI machine cannot fail it."""

from __future__ import annotations

import time

import pytest

from inbox.parse import Unparseable, parse_message
from tests.hostile.shapes import SHAPES, Shape
from tools.base import ToolContext
from tools.categorize import categorize_ticket
from tools.extract import extract_entities

HANG_S = 15.0  # the fixed code needs under a second; the old one needed minutes on some shapes


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_each_hostile_shape_is_parsed_extracted_and_categorized_without_hanging(
    shape: Shape, ctx: ToolContext
) -> None:
    raw = shape.raw()
    started = time.perf_counter()
    try:
        ticket = parse_message(raw, max_bytes=10_000_000).ticket
    except Unparseable as exc:
        assert shape.outcome == "quarantined", f"{shape.name} was quarantined: {exc.reason}"
        assert time.perf_counter() - started < HANG_S
        return
    assert shape.outcome == "ticket"
    parsed = time.perf_counter()
    fields = {"subject": ticket.subject, "body": ticket.body}
    extract_entities.run({**fields, "signature": ticket.signature, "sender_name": ticket.sender_name}, ctx)
    extracted = time.perf_counter()
    categorize_ticket.run(fields, ctx)
    done = time.perf_counter()
    timings = f"parse {parsed - started:.3f}s, extract {extracted - parsed:.3f}s, categorize {done - extracted:.3f}s"
    assert done - started < HANG_S, f"{shape.name} ({shape.attacks}): {timings}"
