"""draft_reply by itself: the model writes the draft from the articles (its usage counted), the best
article's answer stands when the model fails, and nothing is drafted without a close article."""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from agent.memory.chroma import Memory
from agent.memory.embedding import HashedNgrams
from agent.memory.kb import KnowledgeBase
from tests.support import ROOT, ScriptedLLM
from tests.tools.test_llm_analysis import Usage
from tools.base import ToolContext
from tools.draft import draft_reply
from tools.llm import LLMUnavailable

ARGS = {"subject": "Password reset email never arrives", "body": "I asked for a reset link twice, nothing.",
        "issue_key": "DRY-1", "language": "en"}  # fmt: skip


@pytest.fixture
def kb_ctx(ctx: ToolContext, tmp_path: Path) -> ToolContext:
    shutil.copytree(ROOT / "examples" / "kb", tmp_path / "kb")
    memory = Memory(HashedNgrams(), f"test-{uuid.uuid4().hex[:8]}", path=tmp_path / "memory")
    return replace(ctx, step_id="draft", kb=KnowledgeBase(memory, tmp_path / "kb"), usage=Usage())


def drafts(ctx: ToolContext) -> list[dict[str, object]]:
    lines = ctx.config.outbox_path.read_text().splitlines() if ctx.config.outbox_path.exists() else []
    return [json.loads(line) for line in lines if json.loads(line)["kind"] == "draft"]


def test_the_model_writes_the_draft_from_the_articles_and_the_sources_are_listed(kb_ctx: ToolContext) -> None:
    llm = ScriptedLLM(
        json.dumps({"draft": "Please check your spam folder; the newest link is valid for 30 minutes."})
    )
    result = draft_reply.run(ARGS, replace(kb_ctx, llm=llm))
    assert result.drafted and result.sources[0].endswith("password-reset.md")
    [line] = drafts(kb_ctx)
    body = str(line["body"])
    assert body.startswith("Drafted answer (not sent") and "newest link is valid for 30 minutes" in body
    assert "Password reset email does not arrive (" in body and line["visible_to"] == "Administrators"
    assert "<request>" in llm.requests[0][1]["content"] and "untrusted data" in llm.requests[0][0]["content"]
    assert draft_reply.run(ARGS, replace(kb_ctx, llm=llm)) == result and len(drafts(kb_ctx)) == 1  # once


def test_when_the_model_fails_the_best_articles_answer_stands(kb_ctx: ToolContext) -> None:
    llm = ScriptedLLM(LLMUnavailable("down"), LLMUnavailable("down"))
    assert draft_reply.run(ARGS, replace(kb_ctx, llm=llm)).drafted
    [line] = drafts(kb_ctx)
    assert "Reset emails are sent from no-reply@example.com" in str(line["body"])


def test_without_a_close_article_or_a_knowledge_base_there_is_no_draft(kb_ctx: ToolContext) -> None:
    far = draft_reply.run(
        {**ARGS, "subject": "Thank you!", "body": "Great job with the new dashboard."}, kb_ctx
    )
    assert not far.drafted and "no article close enough" in (far.skipped or "")
    none = draft_reply.run(ARGS, replace(kb_ctx, kb=None))
    assert not none.drafted and "TRIAGE_KB_PATH" in (none.skipped or "") and drafts(kb_ctx) == []
