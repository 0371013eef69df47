"""A company's other systems as MCP tools, for measuring a catalog that grows: 25 systems of 20 tools
each (six that only that system has, fourteen that every system of records has), 500 in all, named as a
consumed server's tools are (`<system>__<tool>`). bench/tool_recall.py shows the planner a part of them.

The descriptions (examples/other-systems.json) are written the way MCP servers describe their tools:
one sentence, the system's own words. E-mails that need them are in examples/tool-needs.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp.types import Tool as RemoteTool
from mcp.types import ToolAnnotations

from tools.base import Tool
from tools.mcp_config import McpServer
from tools.mcp_remote import as_catalog_tool

READ = ToolAnnotations(read_only_hint=True)
KEY = {"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]}


SYSTEMS_FILE = Path(__file__).resolve().parent.parent / "examples" / "other-systems.json"


@dataclass(frozen=True)
class System:
    """One system of records: its name (the server's), what it keeps (`entity`, found by `key`) and the
    six tools only it has (name: description)."""

    name: str
    what: str
    entity: str
    key: str
    own: dict[str, str]


def systems(path: Path = SYSTEMS_FILE) -> tuple[list[System], dict[str, str]]:
    """The 25 systems and the tools every one of them has (name and description, to be filled in)."""
    data = json.loads(path.read_text())
    return [System(**row) for row in data["systems"]], data["shared"]


def system_tools(system: System, shared: dict[str, str]) -> list[RemoteTool]:
    """One system's twenty tools as its server would list them, its own first."""
    named = [*system.own.items(), *((n.format(e=system.entity), d) for n, d in shared.items())]
    what = {"e": system.entity.replace("_", " "), "what": system.what, "key": system.key}
    return [
        RemoteTool(name=name, description=description.format(**what), input_schema=KEY, annotations=READ)
        for name, description in named
    ]


def other_systems(count: int) -> dict[str, Tool[Any, Any]]:
    """The first `count` of the 500 tools as catalog tools (as tools/mcp_remote.py makes a consumed
    server's), a system at a time round the table: 90 tools hold a few of every system's own, as a company
    that connects its systems one by one would."""
    listed, shared = systems()
    by_system = [(McpServer(name=s.name, command=["true"]), system_tools(s, shared)) for s in listed]
    ordered = [(server, tools[i]) for i in range(len(by_system[0][1])) for server, tools in by_system]
    catalog = [as_catalog_tool(server, remote) for server, remote in ordered[:count]]
    return {t.name: t for t in catalog}
