"""The shape of the code: what importing does, and which way the imports point."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASK_MODULES = ["tasks.ingest", "tasks.plan", "tasks.execute", "tasks.sweep"]


def test_importing_the_tasks_reads_no_setting_and_connects_to_nothing() -> None:
    """Configuration happens at worker start and in the CLI, never at import: with an unreachable Redis
    and a setting that cannot be parsed, every task module still imports, and nothing has been built."""
    probe = (
        f"import {', '.join(TASK_MODULES)}\n"
        "from workers import app, runtime\n"
        "print(app.app.configured, runtime._current is not None)\n"
    )
    env = {**os.environ, "TRIAGE_REDIS_URL": "redis://10.255.255.1:1/0", "TRIAGE_TOOL_TIMEOUTS": "not json"}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]  # Celery's configuration and the runtime: both unbuilt


PRODUCT = [
    "cli",
    "assistants",
    "console",
    "tasks",
    "workers",
    "agent",
    "tools",
    "inbox",
    "monitoring",
    "evaluation",
    "bench",
]
# Which folders each folder may import: arrows point one way, from the top floor down.
MAY_IMPORT = {
    "cli": {
        "assistants",
        "console",
        "tasks",
        "workers",
        "agent",
        "tools",
        "inbox",
        "monitoring",
        "evaluation",
    },
    "assistants": {"console", "tasks", "workers", "agent", "tools", "inbox"},
    "console": {"tasks", "workers", "agent", "tools", "inbox"},
    "bench": {"tasks", "workers", "agent", "tools", "inbox", "evaluation"},
    "tasks": {"workers", "agent", "tools", "inbox", "monitoring"},
    "workers": {"agent", "tools", "inbox", "monitoring"},
    "agent": {"tools", "inbox"},
    "monitoring": {"tools"},  # its types (LLM usage); it is fed by the tasks' events and Celery's hooks
    "evaluation": {"tools"},
    "tools": set(),
    "inbox": set(),
}
# Imports inside functions, each for a reason that an import at the top cannot serve.
LOCAL_IMPORTS_ALLOWED = {
    ("cli.entry", "cli.main"): "the metrics folder must be chosen before prometheus-client is imported",
    ("bench.pipeline", "inbox.maildir"): "the harness sets the environment of its run first",
    ("bench.pipeline", "tasks.ingest"): "the harness sets the environment of its run first",
    ("bench.pipeline", "workers.runtime"): "the harness sets the environment of its run first",
}


def _modules() -> dict[str, Path]:
    found = {}
    for folder in PRODUCT:
        for path in (ROOT / folder).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, known: dict[str, Path]) -> set[tuple[str, bool]]:
    """The product modules a file imports, each with whether the import sits inside a function."""
    found: set[tuple[str, bool]] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # for the type checker only
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                names = [child.module, *(f"{child.module}.{alias.name}" for alias in child.names)]
            found.update((name, inside) for name in names if name in known)
            visit(child, inside)

    visit(ast.parse(path.read_text()), False)
    return found


def _graph() -> dict[str, set[tuple[str, bool]]]:
    known = _modules()
    return {
        name: {(t, local) for t, local in _imports(path, known) if t != name} for name, path in known.items()
    }


def test_no_module_imports_itself_back_through_others() -> None:
    graph = {name: {target for target, _ in targets} for name, targets in _graph().items()}
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def walk(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                walk(target, [*path, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    assert cycles == []


def test_folders_import_only_the_floors_below_them() -> None:
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in _graph().items()
        for target, _ in targets
        if (mine := name.split(".")[0]) != (theirs := target.split(".")[0]) and theirs not in MAY_IMPORT[mine]
    )
    assert wrong == []


def test_imports_sit_at_the_top_of_a_module_unless_there_is_a_reason() -> None:
    local = {(name, target) for name, targets in _graph().items() for target, inside in targets if inside}
    assert local == set(LOCAL_IMPORTS_ALLOWED)


def test_no_product_module_is_over_300_lines() -> None:
    """A module a newcomer cannot read in one sitting has more than one owner."""
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _modules().values()
        if (lines := len(path.read_text().splitlines())) > 300
    }
    assert long == {}
