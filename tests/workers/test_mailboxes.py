"""The mailboxes file: each mailbox's source and what is its own, checked when a worker starts; a fault
names the file, the mailbox and the field, never a list index or a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.desks import DEFAULT_DESK, build_desks, source_for
from workers.mailboxes import MailboxesError, load_mailboxes
from workers.runtime import Runtime, build_runtime
from workers.settings import ConfigError, load_settings

POLICY = """version: 1
on_timeout: needs_triage
rules:
  - name: vip
    when: {sender_in: [cfo@bigcustomer.example]}
    then: supervised
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "mailboxes.yaml"
    path.write_text(text)
    return path


def runtime_with(path: Path) -> Runtime:
    return build_runtime(load_settings(mailboxes_path=path, maildir=None))


def test_each_mailbox_has_its_own_project_acknowledgements_policy_and_weight(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY)
    path = write(
        tmp_path,
        f"""
mailboxes:
  - name: support
    maildir: {tmp_path}/support
  - name: billing
    maildir: {tmp_path}/billing
    jira_project: BILL
    ack_from: billing@acme.example
    ack_from_name: Acme Billing
    policy: {tmp_path}/policy.yaml
    weight: 2
""",
    )

    rt = runtime_with(path)

    support, billing, default = rt.desk("support"), rt.desk("billing"), rt.desk(DEFAULT_DESK)
    assert support.tool_config == default.tool_config and support.policy is None
    assert billing.tool_config.jira_project == "BILL" and billing.weight == 2
    assert (billing.tool_config.ack_from, billing.tool_config.ack_from_name) == (
        "billing@acme.example",
        "Acme Billing",
    )
    assert billing.policy is not None and [r.name for r in billing.policy.rules] == ["vip"]
    assert rt.desk("gone-from-the-file").tool_config == default.tool_config  # its tickets still finish


@pytest.mark.parametrize(
    ("entries", "said"),
    [
        (
            "  - {name: support}",
            "mailbox 'support': (the entry): Value error, give exactly one of maildir or imap",
        ),
        ("  - {name: support, maildir: /a}\n  - {name: support, maildir: /b}", "support given twice"),
        (
            "  - {name: a, maildir: /same}\n  - {name: b, maildir: /same}",
            "two mailboxes read the same place: /same",
        ),
        (
            "  - {name: billing, maildir: /a, jira_project: bill}",
            "mailbox 'billing': jira_project: String should match",
        ),
        (
            "  - {name: billing, maildir: /a, wieght: 2}",
            "mailbox 'billing': wieght: Extra inputs are not permitted",
        ),
        (
            "  - {name: billing, maildir: /a, weight: 0}",
            "mailbox 'billing': weight: Input should be greater than 0",
        ),
        ("  - {name: Billing Desk, maildir: /a}", "mailbox 'Billing Desk': name: String should match"),
        (
            "  - {name: billing, maildir: /a, policy: /nowhere.yaml}",
            "mailbox 'billing': policy /nowhere.yaml does not exist",
        ),
    ],
)
def test_a_fault_names_the_mailbox_and_the_field(tmp_path: Path, entries: str, said: str) -> None:
    path = write(tmp_path, f"mailboxes:\n{entries}\n")

    with pytest.raises(MailboxesError) as caught:
        load_mailboxes(path)

    assert str(caught.value).startswith(f"{path}: ") and said in str(caught.value)


def test_a_file_that_is_not_yaml_or_not_there_is_said_so(tmp_path: Path) -> None:
    with pytest.raises(MailboxesError, match="not YAML"):
        load_mailboxes(write(tmp_path, "mailboxes: [\n"))
    with pytest.raises(MailboxesError, match="cannot read it"):
        load_mailboxes(tmp_path / "absent.yaml")


def test_a_worker_does_not_start_on_a_bad_file_and_says_which_setting(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(
        "version: 1\nrules:\n  - {name: x, when: {category: [nonsense]}, then: manual}\n"
    )
    path = write(
        tmp_path, f"mailboxes:\n  - {{name: billing, maildir: /a, policy: {tmp_path}/policy.yaml}}\n"
    )

    with pytest.raises(ConfigError, match=r"TRIAGE_MAILBOXES_PATH: mailbox 'billing': policy: .*nonsense"):
        runtime_with(path)


def test_an_imap_mailbox_takes_its_password_from_its_own_variable_never_the_global_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BILLING_IMAP_PASSWORD", "billing-secret")
    path = write(
        tmp_path,
        "mailboxes:\n  - name: billing\n    imap: {host: imap.acme.example, user: billing@acme.example, "
        "password_env: BILLING_IMAP_PASSWORD, folder: Billing}\n",
    )
    settings = load_settings(mailboxes_path=path, imap_password="global-secret", imap_port=143)
    spec = load_mailboxes(path)[0]

    source = source_for(spec, settings, cursors=None)  # type: ignore[arg-type]

    config = source.config  # type: ignore[attr-defined]
    assert (config.host, config.port, config.user, config.folder) == (
        "imap.acme.example",
        143,
        "billing@acme.example",
        "Billing",
    )
    assert config.password.get_secret_value() == "billing-secret" and source.mailbox == "billing"
    monkeypatch.delenv("BILLING_IMAP_PASSWORD")
    with pytest.raises(MailboxesError, match=r"\$BILLING_IMAP_PASSWORD is not set"):
        source_for(spec, settings, cursors=None)  # type: ignore[arg-type]


def test_without_a_file_there_is_only_the_default_desk(tmp_path: Path) -> None:
    rt = build_runtime(load_settings(maildir=None))
    assert build_desks(rt.settings, rt.desk(DEFAULT_DESK)) == {}


def test_the_example_file_is_one_a_worker_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    monkeypatch.setenv("BILLING_IMAP_PASSWORD", "secret")

    names = [m.name for m in load_mailboxes(Path("examples/mailboxes.yaml"))]

    assert names == ["support", "billing"]
    assert runtime_with(Path("examples/mailboxes.yaml")).desk("billing").policy is not None
