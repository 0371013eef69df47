"""`triage mcp`: serve the desk to assistants over the Model Context Protocol (assistants/server.py)."""

from __future__ import annotations

import anyio
import click
import uvicorn

from assistants.server import http_app, serve_stdio
from cli.console import users_file
from workers.runtime import Runtime


@click.command("mcp")
@click.option("--http", "over_http", is_flag=True, help="Serve streamable HTTP at /mcp instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --http: the address to bind.")
@click.option("--port", default=8766, show_default=True, type=click.IntRange(1, 65535), help="With --http.")
@click.option(
    "--public-url",
    default=None,
    help="With --http: the URL clients reach it at, if not http://HOST:PORT (behind a proxy).",
)
@click.pass_obj
def mcp_command(rt: Runtime, over_http: bool, host: str, port: int, public_url: str | None) -> None:
    """Serve the desk's reads, review actions and judging tools to an assistant over MCP.

    Over stdio (the default) the caller has the operator's rights. Over HTTP each request needs a
    console API token (`triage console add-token`); its role and mailboxes apply.
    """
    if not over_http:
        anyio.run(serve_stdio, rt)
        return
    users = users_file(rt)  # its API tokens are the credentials
    url = public_url or f"http://{host}:{port}"
    click.echo(f"MCP on {url}/mcp ({len(users.current().tokens)} API token(s))", err=True)
    uvicorn.run(http_app(rt, users, url, host), host=host, port=port, log_level="warning")
