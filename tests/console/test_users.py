"""Who may use the console: the users file, argon2id passwords, API tokens, roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.users import DirectoryError, add_token, add_user, allowed, check_password, load_directory


def test_a_users_file_keeps_argon2id_hashes_and_token_digests_never_the_secrets(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    add_user(path, "maria", "approver", "a long password")
    token = add_token(path, "deploy-bot", "viewer")
    text = path.read_text()
    assert "a long password" not in text and token not in text and "$argon2id$" in text
    assert path.stat().st_mode & 0o077 == 0
    directory = load_directory(path)
    maria = directory.user("maria")
    assert check_password(maria, "a long password")
    assert not check_password(maria, "a long passwore") and not check_password(None, "a long password")
    bot = directory.token(token)
    assert bot is not None and (bot.name, bot.role) == ("deploy-bot", "viewer")
    assert directory.token(token + "x") is None


def test_adding_a_user_again_changes_their_role_and_password(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    add_user(path, "maria", "viewer", "first password")
    add_user(path, "maria", "admin", "second password")
    [maria] = load_directory(path).users
    assert maria.role == "admin" and check_password(maria, "second password")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("users: [", "cannot read it as YAML"),
        ("- just a list", "must be a mapping"),
        ("users: []\n", "nobody could use the console"),
        ("users:\n  - {name: bob, role: root, password_hash: '$argon2id$x'}\n", "users[0] ('bob').role"),
        ("users:\n  - {name: bob, role: viewer, password_hash: 'plain'}\n", "users[0] ('bob').password_hash"),
        ("users:\n  - {name: bob, role: viewer, password_hash: '$argon2id$x', admin: true}\n", "admin"),
        (
            "users:\n  - {name: bob, role: viewer, password_hash: '$argon2id$x'}\n"
            f"tokens:\n  - {{name: bob, role: admin, sha256: '{'0' * 64}'}}\n",
            "names must be unique among users and tokens: bob",
        ),
    ],
)
def test_a_users_file_that_cannot_be_used_is_refused_naming_the_entry(
    tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "users.yaml"
    path.write_text(text)
    with pytest.raises(DirectoryError, match=r".*") as refused:
        load_directory(path)
    assert str(path) in str(refused.value) and says in str(refused.value)


def test_roles_rank_viewer_below_approver_below_admin() -> None:
    assert allowed("admin", "approver") and allowed("approver", "approver") and allowed("viewer", "viewer")
    assert (
        not allowed("viewer", "approver") and not allowed("approver", "admin") and not allowed("", "viewer")
    )
