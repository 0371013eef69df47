"""A catalog that grows past TRIAGE_PLANNER_MAX_TOOLS (agent/tool_shortlist.py): the planning prompt shows
the system's own tools and those of other systems nearest the e-mail, with the installed MiniLM, over the
500 tools of bench/other_systems.py; the held-out e-mails were never tuned on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.llm_planner import LLMPlanner
from agent.memory.embedding import MiniLM
from agent.tool_shortlist import Shortlist
from bench.other_systems import other_systems
from bench.tool_recall import labelled, recall
from tests.agent.test_llm_planner import answer
from tests.agent.test_plan import ticket
from tests.support import ScriptedLLM
from tools.base import Tool
from tools.catalog import CATALOG
from tools.minilm import model_dir
from workers.settings import load_settings

pytestmark = pytest.mark.skipif(
    model_dir() is None, reason="the MiniLM weights are not installed (make install)"
)
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CUT = load_settings().planner_max_tools


@pytest.fixture(scope="module")
def large() -> dict[str, Tool[Any, Any]]:
    """The system's own tools and 490 of other systems."""
    return dict(CATALOG) | other_systems(490)


@pytest.fixture(scope="module")
def shortlist(large: dict[str, Tool[Any, Any]]) -> Shortlist:
    return Shortlist(large, CATALOG, DEFAULT_CUT, MiniLM())


def test_a_prompt_shows_the_systems_own_tools_and_the_nearest_others_up_to_the_limit(
    shortlist: Shortlist,
) -> None:
    lost = ticket(
        subject="Where is my parcel?", body="Tracking says it left Leipzig a week ago. Nothing since."
    )

    shown = shortlist.for_ticket(lost)

    assert len(shown) == DEFAULT_CUT and set(CATALOG) <= set(shown)
    assert "shipping__track_shipment" in shown and "devices__firmware_version" not in shown


def test_the_held_out_emails_are_shown_the_tools_they_need(shortlist: Shortlist) -> None:
    share, needed, missed = recall(shortlist, labelled(ROOT / "examples" / "tool-needs-held-out.json"))
    assert needed == 33 and share >= 0.95, missed


def test_a_model_is_offered_only_the_shown_tools_and_a_plan_naming_another_goes_back(
    large: dict[str, Tool[Any, Any]], shortlist: Shortlist
) -> None:
    mail = ticket(subject="Refund please", body="You charged my card twice for March. Please pay one back.")
    model_plan = answer(mail)
    model_plan["steps"].append({"id": "hr__manager_of", "tool": "hr__manager_of", "args": {"key": "x"}})
    llm = ScriptedLLM(json.dumps(model_plan), json.dumps(answer(mail)))
    planner = LLMPlanner(llm, large, max_steps=10, max_repairs=1, shortlist=shortlist)

    planned = planner.make_plan(mail)

    system = llm.requests[0][0]["content"]
    offered = {
        v["properties"]["tool"]["enum"][0] for v in llm.schemas[0]["properties"]["steps"]["items"]["anyOf"]
    }
    assert "- payments__refund_payment: " in system and "- hr__manager_of: " not in system
    assert "payments__refund_payment" in offered and len(offered) <= DEFAULT_CUT
    assert planned.planner == "llm" and planned.notes[0] == f"shown {DEFAULT_CUT} of the catalog's 500 tools"
    assert "hr__manager_of" in planned.notes[1]  # the first answer went back, naming the tool


def test_a_catalog_within_the_limit_is_shown_whole_and_rendered_once() -> None:
    planner = LLMPlanner(ScriptedLLM(), CATALOG, max_steps=10, max_repairs=0)
    first, second = (planner.showing.for_ticket(ticket(subject=s)) for s in ("a", "b"))
    assert first is second and set(first.tools) == set(CATALOG) and first.note is None
