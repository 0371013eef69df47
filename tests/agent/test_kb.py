"""The knowledge base in memory's Chroma (an embedded folder): searched by meaning of words, and kept in
step with its folder: an article changed, added or removed is indexed again before the next search."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from agent.memory.chroma import Memory
from agent.memory.embedding import HashedNgrams
from agent.memory.kb import KnowledgeBase, parse_article
from tests.support import ROOT

SAMPLE = ROOT / "examples" / "kb"


def knowledge(tmp_path: Path) -> KnowledgeBase:
    folder = tmp_path / "kb"
    shutil.copytree(SAMPLE, folder)
    memory = Memory(HashedNgrams(), f"test-{uuid.uuid4().hex[:8]}", path=tmp_path / "memory")
    return KnowledgeBase(memory, folder)


def test_an_articles_title_is_its_heading_and_its_answer_the_answer_section() -> None:
    title, answer = parse_article((SAMPLE / "password-reset.md").read_text(), "x")
    assert title == "Password reset email does not arrive"
    assert answer.startswith("Reset emails are sent from") and "Customers ask" not in answer
    assert parse_article("no heading, no sections", "fallback") == ("fallback", "no heading, no sections")


def test_the_closest_article_answers_and_a_stranger_text_finds_none_close(tmp_path: Path) -> None:
    kb = knowledge(tmp_path)
    [best, *_] = kb.search("Password reset email never arrives\nI asked for a reset link twice.", 3)
    assert best.path.endswith("password-reset.md") and best.similarity >= kb.relevant
    assert best.answer.startswith("Reset emails are sent")
    far = kb.search("Thank you! Your team did a great job with the new dashboard.", 3)
    assert all(a.similarity < kb.relevant for a in far)


def test_a_changed_added_or_removed_article_is_indexed_again_before_the_next_search(tmp_path: Path) -> None:
    kb = knowledge(tmp_path)
    assert kb.sync() == 6 and kb.sync() == 0  # indexed once, then nothing changed
    (kb.folder / "password-reset.md").write_text(
        "# Password reset email\n\n## Answer\n\nUse the new portal.\n"
    )
    (kb.folder / "refunds.md").write_text("# Refund policy\n\n## Answer\n\nRefunds take five days.\n")
    (kb.folder / "webhook-refused.md").unlink()
    assert kb.sync() == 3
    [best, *_] = kb.search("password reset email", 1)
    assert best.answer == "Use the new portal."
    assert not any(a.path.endswith("webhook-refused.md") for a in kb.search("webhook connection refused", 6))
