"""The registration commands, in-process: ``user approve|reject|reset-password`` and ``invite
create|list``, each with ``--data DIR``; bad input gives one line on stderr, exit code 1 and
changes nothing."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from fediverse_mu.cli import main
from fediverse_mu.config import Config
from fediverse_mu.domain import Role
from fediverse_mu.domain.registration import SignUp
from fediverse_mu.services import accounts, registration
from fediverse_mu.services.context import Services
from fediverse_mu.services.passwords import verify_password
from fediverse_mu.storage import Storage
from tests.conftest import init_instance


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def with_services(config: Config, work: Any) -> Any:
    async def go() -> Any:
        storage = Storage(config.database_path, readers=1)
        storage.open()
        try:
            return await work(Services(config=config, storage=storage))
        finally:
            await storage.close()
    return asyncio.run(go())


def query(config: Config, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(config.database_path) as db:
        return [tuple(r) for r in db.execute(sql, args)]


@pytest.fixture
def instance(tmp_path: Path) -> Config:
    config = init_instance(tmp_path / "data", registration_mode="approval")

    async def setup(svc: Services) -> None:
        await accounts.create_user(svc, "boss", "boss@example.test", password="boss password",
                                   role=Role.ADMIN)
        for name in ("applicant", "other"):
            await registration.sign_up(svc, SignUp(
                username=name, email=f"{name}@example.test", password="long enough pw",
                agreement=True, reason="neighbour"))
    with_services(config, setup)
    return config


def test_user_approve(instance: Config, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(instance.data_dir)
    code, out, _ = run(capsys, "user", "approve", "--data", data, "applicant")
    assert (code, out) == (0, "Approved @applicant\n")
    assert query(instance, "SELECT u.approved FROM users u JOIN accounts a ON a.id ="
                           " u.account_id WHERE a.username = 'applicant'") == [(1,)]
    code, _, err = run(capsys, "user", "approve", "--data", data, "applicant")
    assert code == 1 and err == "fediverse-mu: error: @applicant is already approved\n"
    code, _, err = run(capsys, "user", "approve", "--data", data, "nobody")
    assert code == 1 and "no local user named 'nobody'" in err
    assert query(instance, "SELECT action, target FROM audit_log ORDER BY id DESC LIMIT 1") \
        == [("account.approve", "applicant")]


def test_user_reject(instance: Config, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(instance.data_dir)
    code, out, _ = run(capsys, "user", "reject", "--data", data, "other")
    assert code == 0 and out.startswith("Rejected @other")
    assert query(instance, "SELECT count(*) FROM accounts WHERE username = 'other'") == [(0,)]
    code, _, err = run(capsys, "user", "reject", "--data", data, "boss")
    assert code == 1 and "not a pending sign-up" in err
    assert query(instance, "SELECT count(*) FROM users WHERE email = 'boss@example.test'") \
        == [(1,)]


def test_user_reset_password(instance: Config, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    data = str(instance.data_dir)
    code, out, _ = run(capsys, "user", "reset-password", "--data", data, "boss")
    assert code == 0
    password = out.splitlines()[-1].removeprefix("Password: ")
    (stored,) = query(instance, "SELECT password_hash FROM users WHERE email ="
                                " 'boss@example.test'")
    assert verify_password(stored[0], password)
    monkeypatch.setattr("sys.stdin", io.StringIO("chosen by the admin\n"))
    code, out, _ = run(capsys, "user", "reset-password", "--data", data, "--password-stdin",
                       "boss")
    assert code == 0 and "Password:" not in out
    (stored,) = query(instance, "SELECT password_hash FROM users WHERE email ="
                                " 'boss@example.test'")
    assert verify_password(stored[0], "chosen by the admin")
    for given in ("\n", "short\n"):
        monkeypatch.setattr("sys.stdin", io.StringIO(given))
        code, _, err = run(capsys, "user", "reset-password", "--data", data,
                           "--password-stdin", "boss")
        assert code == 1 and err.startswith("fediverse-mu: error: "), err
    (after,) = query(instance, "SELECT password_hash FROM users WHERE email ="
                               " 'boss@example.test'")
    assert after == stored


def test_invite_create_and_list(instance: Config, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(instance.data_dir)
    code, out, _ = run(capsys, "invite", "create", "--data", data, "--uses", "3",
                       "--expires", "7")
    assert code == 0 and out.startswith(f"{instance.base_url}/invite/")
    code, out2, _ = run(capsys, "invite", "create", "--data", data)
    assert code == 0
    code, listing, _ = run(capsys, "invite", "list", "--data", data)
    lines = listing.splitlines()
    assert len(lines) == 2
    assert "active\tuses 0/∞\texpires never\t" + out2.strip() in lines[0]
    assert "uses 0/3" in lines[1] and out.strip() in lines[1]
    for bad in (["--uses", "0"], ["--uses", "many"], ["--expires", "0"], ["--expires", "x"]):
        code, _, err = run(capsys, "invite", "create", "--data", data, *bad)
        assert code == 2 and "error" in err, bad
    assert query(instance, "SELECT count(*) FROM invites") == [(2,)]


def test_commands_need_a_data_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "invite", "list", "--data", str(tmp_path / "missing"))
    assert code == 1 and err.startswith("fediverse-mu: error: ")
    code, _, err = run(capsys, "invite", "list")
    assert code == 2 and "--data" in err
