"""`triage console`: serve the review console, and `add-user` / `add-token` for its users file."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import click
import uvicorn

from console.app import create_app, server_config
from console.users import DirectoryError, Role, UsersFile, add_token, add_user, remove_token, remove_user
from workers.runtime import Runtime

MIN_PASSWORD = 10
_ROLE = click.Choice(list(get_args(Role)))
_FILE_OPTION = click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The users file [TRIAGE_CONSOLE_USERS].",
)


_MAILBOX_OPTION = click.option(
    "--mailbox",
    "mailboxes",
    multiple=True,
    help="Limit the role to this mailbox (repeat for several; none: every mailbox).",
)


def users_file(rt: Runtime) -> UsersFile:
    """The console's users file (TRIAGE_CONSOLE_USERS), or exit 2 saying what is missing or wrong."""
    if rt.settings.console_users is None:
        click.echo(
            "TRIAGE_CONSOLE_USERS is not set: create the users file with `triage console add-user "
            "--file console-users.yaml NAME --role admin` and point the setting at it",
            err=True,
        )
        sys.exit(2)
    try:
        return UsersFile(rt.settings.console_users)
    except DirectoryError as exc:
        click.echo(f"TRIAGE_CONSOLE_USERS: {exc}", err=True)
        sys.exit(2)


def _mailboxes(rt: Runtime, given: tuple[str, ...]) -> list[str] | None:
    """The mailboxes a role is limited to, each one the mailboxes file names (when one is configured
    here); None for all."""
    known = set(rt.desks)
    if given and not known:
        click.echo("no mailboxes file here (TRIAGE_MAILBOXES_PATH): the names are not checked", err=True)
    elif unknown := sorted(set(given) - known):
        raise click.BadParameter(
            f"no mailbox {', '.join(unknown)}; there are {', '.join(sorted(known))}", param_hint="--mailbox"
        )
    return sorted(set(given)) or None


def _users_file(rt: Runtime, given: Path | None) -> Path:
    path = given or rt.settings.console_users
    if path is None:
        raise click.UsageError("name the users file: --file, or TRIAGE_CONSOLE_USERS")
    return path


@click.group(invoke_without_command=True)
@click.option("--host", default=None, help="Address to listen on [TRIAGE_CONSOLE_HOST].")
@click.option("--port", default=None, type=int, help="Port to listen on [TRIAGE_CONSOLE_PORT].")
@click.pass_context
def console(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the review console: runs, the review queue, dead letters, quarantine, incidents (and /api).

    Nobody gets in without an account in TRIAGE_CONSOLE_USERS (`triage console add-user` writes it).
    """
    if ctx.invoked_subcommand is not None:
        return
    rt: Runtime = ctx.obj
    users = users_file(rt)
    host, port = host or rt.settings.console_host, port or rt.settings.console_port
    now = users.current()
    click.echo(
        f"console on http://{host}:{port}/ ({len(now.users)} user(s), {len(now.tokens)} API token(s); "
        "the users file is read again when it changes)",
        err=True,
    )
    app = create_app(rt, users)
    uvicorn.Server(
        server_config(app, rt.settings.console_trusted_proxies, host=host, port=port, log_level="info")
    ).run()


@console.command("add-user")
@click.argument("name")
@click.option(
    "--role", type=_ROLE, required=True, help="viewer reads; approver decides held runs; admin all."
)
@_MAILBOX_OPTION
@_FILE_OPTION
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
@click.pass_obj
def add_user_command(
    rt: Runtime,
    name: str,
    role: Role,
    mailboxes: tuple[str, ...],
    path: Path | None,
    password_stdin: bool,
) -> None:
    """Add a console user (or set their role, mailboxes and password); the file keeps only an argon2id
    hash."""
    limited = _mailboxes(rt, mailboxes)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        raise click.BadParameter(f"at least {MIN_PASSWORD} characters", param_hint="password")
    target = _users_file(rt, path)
    try:
        add_user(target, name, role, password, limited)
    except (DirectoryError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{name} ({_role_text(role, limited)}) is in {target}")


@console.command("add-token")
@click.argument("name")
@click.option("--role", type=_ROLE, required=True, help="The token's role.")
@_MAILBOX_OPTION
@_FILE_OPTION
@click.pass_obj
def add_token_command(
    rt: Runtime, name: str, role: Role, mailboxes: tuple[str, ...], path: Path | None
) -> None:
    """Add an API token for automation (Authorization: Bearer ...); it is printed once, the file keeps
    its SHA-256."""
    target = _users_file(rt, path)
    limited = _mailboxes(rt, mailboxes)
    try:
        token = add_token(target, name, role, limited)
    except (DirectoryError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)
    shown = _role_text(role, limited)
    click.echo(f"token {name} ({shown}) is in {target}; the token is shown only now", err=True)


def _role_text(role: Role, mailboxes: list[str] | None) -> str:
    return f"{role} of {', '.join(mailboxes)}" if mailboxes else role


@console.command("remove-user")
@click.argument("name")
@_FILE_OPTION
@click.pass_obj
def remove_user_command(rt: Runtime, name: str, path: Path | None) -> None:
    """Take a console user out (a running console logs them out at once)."""
    target = _users_file(rt, path)
    _removed(lambda: remove_user(target, name))
    click.echo(f"{name} is no longer in {target}")


@console.command("remove-token")
@click.argument("name")
@_FILE_OPTION
@click.pass_obj
def remove_token_command(rt: Runtime, name: str, path: Path | None) -> None:
    """Take an API token out (a running console refuses it at once)."""
    target = _users_file(rt, path)
    _removed(lambda: remove_token(target, name))
    click.echo(f"token {name} is no longer in {target}")


def _removed(remove: Callable[[], None]) -> None:
    """Run a removal; what stops it (no such entry, the last one) ends the command with why."""
    try:
        remove()
    except (DirectoryError, KeyError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from None
