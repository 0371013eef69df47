"""Configured regular expressions are run on mail a stranger wrote: one that backtracks catastrophically
would let a few KB of crafted text hold a worker for minutes. Such a pattern is refused at start-up."""

from __future__ import annotations

import multiprocessing
import re

PROBE_CHARS = 5000  # long enough that a quadratic pattern takes seconds, short enough for a linear one
BUDGET_S = 2.0


def _probes(pattern: str) -> list[str]:
    """Texts that make backtracking patterns slow: long runs of spaces, letters, digits and signs,
    each also after every word the pattern itself spells (so its keywords match before the run)."""
    runs = [
        c * PROBE_CHARS + tail for c, tail in ((" ", "x"), ("a", "!"), ("1", "x"), ("-", " "), ("#", "a"))
    ]
    words = sorted(set(re.findall(r"[A-Za-z]{2,}", re.sub(r"\\.", " ", pattern))))[:20]  # escapes (\b) out
    return runs + [f"{word}{run}" for word in words for run in runs]


def _search_all(pattern: str, flags: int) -> None:
    compiled = re.compile(pattern, flags)
    for text in _probes(pattern):
        compiled.search(text)


def backtracks(pattern: str, flags: int = re.IGNORECASE) -> bool:
    """True when the pattern takes longer than BUDGET_S over the probe texts (run in a child process that
    is killed when the budget is spent: a catastrophic pattern may never finish)."""
    child = multiprocessing.get_context("fork").Process(
        target=_search_all, args=(pattern, flags), daemon=True
    )
    child.start()
    child.join(BUDGET_S)
    if child.is_alive():
        child.kill()
        child.join()
        return True
    return False


def check_pattern(pattern: str, shipped: str) -> str:
    """The pattern, when it compiles and (unless it is the shipped one) does not backtrack
    catastrophically; else ValueError saying why."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    if pattern != shipped and backtracks(pattern):
        raise ValueError(
            f"backtracks catastrophically: {PROBE_CHARS} characters of crafted text kept it busy over "
            f"{BUDGET_S:g}s (a stranger's mail could stall a worker); avoid nested or adjacent unbounded "
            r"quantifiers such as (\w+)+ or \s*x?\s*"
        )
    return pattern
