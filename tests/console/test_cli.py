"""`triage console` and its users file from the command line, and the quarantine commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from console.app import create_app
from console.users import UsersFile, add_user, check_password, load_directory
from tests.conftest import Pipeline
from tests.console.conftest import People, login
from tests.console.test_work import quarantine
from tests.support import TRIAGE, email_bytes, triage, wait_for
from workers import runtime as runtime_module
from workers.servers import free_port

pytestmark = pytest.mark.integration


def test_add_user_keeps_a_hash_and_add_token_prints_the_token_once(
    tmp_path: Path, pipeline: Pipeline
) -> None:
    path = tmp_path / "users.yaml"
    short = triage("console", "add-user", "ada", "--role", "admin", "--file", str(path), "--password-stdin")
    assert short.exit_code != 0 and "at least 10 characters" in short.output and not path.exists()
    added = triage(
        "console",
        "add-user",
        "ada",
        "--role",
        "admin",
        "--file",
        str(path),
        "--password-stdin",
        stdin="a very long secret\n",
    )
    assert added.exit_code == 0 and "ada (admin)" in added.output
    token = triage("console", "add-token", "deploy", "--role", "approver", "--file", str(path))
    assert token.exit_code == 0
    directory = load_directory(path)
    assert check_password(directory.user("ada"), "a very long secret")
    issued = token.output.splitlines()[0]
    assert directory.token(issued).name == "deploy" and issued not in path.read_text()  # type: ignore[union-attr]


def test_the_console_will_not_start_without_a_usable_users_file(tmp_path: Path, redis_url: str) -> None:
    env = {**os.environ, "TRIAGE_REDIS_URL": redis_url}
    env.pop("TRIAGE_CONSOLE_USERS", None)
    unset = subprocess.run([TRIAGE, "console"], env=env, capture_output=True, text=True, timeout=60)
    assert unset.returncode == 2 and "TRIAGE_CONSOLE_USERS is not set" in unset.stderr
    (tmp_path / "users.yaml").write_text("users: []\n")
    empty = subprocess.run([TRIAGE, "console"], env={**env, "TRIAGE_CONSOLE_USERS": str(tmp_path / "users.yaml")},
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert empty.returncode == 2 and "nobody could use the console" in empty.stderr


def test_triage_console_serves_the_login_page_and_nothing_else_to_strangers(
    tmp_path: Path, redis_url: str
) -> None:
    users = tmp_path / "users.yaml"
    env = {**os.environ, "TRIAGE_REDIS_URL": redis_url, "TRIAGE_NAMESPACE": f"test-console-{uuid.uuid4().hex[:8]}",
           "TRIAGE_CONSOLE_USERS": str(users)}  # fmt: skip
    subprocess.run([TRIAGE, "console", "add-user", "ada", "--role", "admin", "--password-stdin"], env=env,
                   input="a very long secret\n", text=True, check=True, timeout=60)  # fmt: skip
    port = free_port()
    with open(tmp_path / "console.log", "wb") as log:
        server = subprocess.Popen([TRIAGE, "console", "--port", str(port)], env=env, stdout=log, stderr=log)
    try:

        def status(path: str) -> int | None:
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    return int(answer.status)
            except urllib.error.HTTPError as refused:
                return refused.code
            except OSError:
                return None

        assert wait_for(lambda: status("/login"), 30, "the console to answer") == 200
        assert status("/api/runs") == 401 and status("/static/console.css") == 200
    finally:
        server.terminate()
        server.wait(30)


def test_release_and_drop_from_the_command_line(pipeline: Pipeline) -> None:
    raw = email_bytes(message_id=f"<{uuid.uuid4().hex}@example.com>", subject="Kept by mistake")
    kept = quarantine(pipeline, raw, "poison: the ingest worker died 3 times on this message")
    junk = quarantine(pipeline, b"junk", "no header fields: not an e-mail message")
    assert triage("release", kept).exit_code == 2  # the reason is required
    released = triage("release", kept, "--reason", "a real customer", "--by", "tom")
    assert released.exit_code == 0, released.output
    delivery = wait_for(
        lambda: (d := pipeline.store.deliveries.get(kept)) and d.run_id and d, 30, "the ticket"
    )
    assert pipeline.wait_final(delivery.run_id).status == "done"
    assert triage("drop", junk, "--reason", "junk").exit_code == 0
    again = triage("drop", junk, "--reason", "junk")
    assert again.exit_code == 1 and "not in quarantine" in again.output
    trail = [
        (e["action"], e["by"])
        for e in pipeline.store.operations.audit_trail(50)
        if e.get("delivery") in (kept, junk)
    ]
    assert trail[-1] == ("release", "tom") and trail[0][0] == "drop"


def test_a_running_console_follows_the_users_file_at_once(
    tmp_path: Path, pipeline: Pipeline, people: People
) -> None:
    path = tmp_path / "users.yaml"
    shutil.copy(people.path, path)
    app = create_app(runtime_module.runtime(), UsersFile(path))
    maria, ada = login(app, "maria"), login(app, "ada")
    assert maria.get("/api/me").json()["role"] == "approver"

    add_user(path, "newbie", "viewer", "a new long password")
    assert login(app, "newbie", "a new long password").get("/runs").status_code == 200
    demoted = path.read_text().replace("name: maria\n  role: approver", "name: maria\n  role: viewer")
    path.write_text(demoted)  # edited by hand: her session stays, the role goes
    assert maria.get("/api/me").json()["role"] == "viewer"
    add_user(path, "ada", "admin", "a changed long password")  # the old password's session ends
    assert ada.get("/runs").status_code == 303
    assert login(app, "ada", "a changed long password").get("/audit").status_code == 200

    removed = triage("console", "remove-user", "maria", "--file", str(path))
    assert removed.exit_code == 0 and "maria is no longer in" in removed.output
    assert maria.get("/runs").status_code == 303
    bot = {"Authorization": f"Bearer {people.tokens['viewer']}"}
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/api/runs", headers=bot).status_code == 200
        assert triage("console", "remove-token", "bot-viewer", "--file", str(path)).exit_code == 0
        assert client.get("/api/runs", headers=bot).status_code == 401
    missing = triage("console", "remove-user", "nobody", "--file", str(path))
    assert missing.exit_code == 1 and "no user 'nobody'" in missing.output

    path.write_text("users: [")  # a broken edit: reported, and the last good file stays in force
    assert login(app, "newbie", "a new long password").get("/runs").status_code == 200
