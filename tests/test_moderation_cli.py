"""The moderation commands end to end, in-process: ``domain block|unblock|allow|disallow|
allowlist|list|import|export``, ``user suspend|unsuspend`` and ``report list``; Mastodon's
CSV round trip, and bad input (a malformed CSV, an unknown user, a bad domain) giving one error
line, exit code 1 and nothing changed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fediverse_mu.config import load_config
from fediverse_mu.domain import Invalid
from fediverse_mu.services import accounts, federation_policy, moderation
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Storage
from tests.test_cli import DB_FILE, only_error_line, query, run

MASTODON_CSV = """#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate
spam.example,suspend,false,false,Spam,false
loud.example,silence,true,false,"Loud, very loud",true
media.example,noop,true,false,,false
"""


@pytest.fixture
def data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A data folder made by ``init --dev`` for localhost:8000, with a resident alice."""
    folder = tmp_path / "inst"
    code, _, err = run(capsys, "init", "--data", str(folder), "--domain", "localhost:8000",
                       "--dev")
    assert code == 0, err
    code, _, err = run(capsys, "user", "create", "--data", str(folder), "alice", "--email",
                       "alice@localhost")
    assert code == 0, err
    return folder


def blocks(data: Path) -> list[tuple[str, str, int]]:
    return [tuple(r) for r in query(data / DB_FILE, "SELECT domain, severity, reject_media"
                                    " FROM domain_blocks ORDER BY domain")]  # type: ignore[misc]


def test_domain_block_list_unblock(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "domain", "block", "--data", str(data), "Spam.Example",
                         "--reject-media", "--comment", "spam")
    assert (code, err) == (0, "") and "Blocked spam.example (suspend, reject media)" in out
    code, out, err = run(capsys, "domain", "block", "--data", str(data), "loud.example",
                         "--severity", "silence")
    assert code == 0, err
    assert blocks(data) == [("loud.example", "silence", 0), ("spam.example", "suspend", 1)]
    code, out, _ = run(capsys, "domain", "list", "--data", str(data))
    assert "allowlist mode: off" in out
    assert "block spam.example suspend,reject_media  # spam" in out
    code, out, err = run(capsys, "domain", "unblock", "--data", str(data), "loud.example")
    assert code == 0, err
    assert blocks(data) == [("spam.example", "suspend", 1)]
    audit = query(data / DB_FILE, "SELECT action, target, actor_account_id FROM audit_log"
                  " ORDER BY id")
    assert audit == [("domain_block.create", "spam.example", None),
                     ("domain_block.create", "loud.example", None),
                     ("domain_block.delete", "loud.example", None)]


def test_domain_allowlist(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "domain", "allow", "--data", str(data), "friends.example")[0] == 0
    assert run(capsys, "domain", "allowlist", "--data", str(data), "on")[0] == 0
    _, out, _ = run(capsys, "domain", "list", "--data", str(data))
    assert "allowlist mode: on" in out and "allow friends.example" in out
    assert run(capsys, "domain", "disallow", "--data", str(data), "friends.example")[0] == 0
    assert query(data / DB_FILE, "SELECT count(*) FROM domain_allows") == [(0,)]


def test_csv_import_export_round_trip(data: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "blocks.csv"
    source.write_text(MASTODON_CSV, encoding="utf-8")
    code, out, err = run(capsys, "domain", "import", "--data", str(data), str(source))
    assert (code, err) == (0, "") and "Imported 3" in out
    assert blocks(data) == [("loud.example", "silence", 1), ("media.example", "noop", 1),
                            ("spam.example", "suspend", 0)]
    code, out, err = run(capsys, "domain", "export", "--data", str(data))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"
    assert sorted(lines[1:]) == sorted(MASTODON_CSV.splitlines()[1:])


@pytest.mark.parametrize(("text", "message"), [
    ("#domain,#severity\nok.example,suspend\nbad domain,suspend\n", "line 3"),
    ("#domain,#severity\nok.example,obliterate\n", "Severity"),
    ("#domain,#severity,#reject_media\nok.example,suspend,maybe\n", "#reject_media"),
    ("#domain,#colour\nok.example,red\n", "unknown column"),
    ("#domain,#severity\nok.example\n", "expected 2 columns"),
    ("#domain,#severity\nok.example,suspend\nok.example,silence\n", "twice"),
    ("#domain,#severity\nlocalhost:8000,suspend\n", "own domain"),
    ("", "empty"),
])
def test_malformed_csv_imports_nothing(data: Path, tmp_path: Path, text: str, message: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "domain", "import", "--data", str(data), str(source))
    assert code == 1 and out == ""
    assert message in only_error_line(err)
    assert blocks(data) == []
    assert query(data / DB_FILE, "SELECT count(*) FROM audit_log") == [(0,)]


def test_malformed_csv_is_a_422_in_the_service(data: Path) -> None:
    config = load_config(data)

    async def attempt() -> int:
        storage = Storage(config.database_path)
        storage.open()
        try:
            svc = Services(config=config, storage=storage)
            try:
                await federation_policy.import_csv(svc, None, "#domain,#severity\nx..y,suspend\n")
            except Invalid as exc:
                return exc.status
            return 200
        finally:
            await storage.close()

    assert asyncio.run(attempt()) == 422
    assert blocks(data) == []


def test_user_suspend_and_unsuspend(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "user", "suspend", "--data", str(data), "alice",
                         "--reason", "spam")
    assert (code, err) == (0, "") and "alice" in out
    assert query(data / DB_FILE, "SELECT u.disabled, a.suspended_at IS NOT NULL FROM users u"
                 " JOIN accounts a ON a.id = u.account_id WHERE a.username = 'alice'") == [(1, 1)]
    assert query(data / DB_FILE, "SELECT action, target, detail FROM audit_log") == \
        [("account.suspend", "alice", "spam")]
    code, _, err = run(capsys, "user", "unsuspend", "--data", str(data), "alice")
    assert code == 0, err
    assert query(data / DB_FILE, "SELECT u.disabled, a.suspended_at IS NULL FROM users u"
                 " JOIN accounts a ON a.id = u.account_id WHERE a.username = 'alice'") == [(0, 1)]
    code, _, err = run(capsys, "user", "suspend", "--data", str(data), "nobody")
    assert code == 1 and "no known account 'nobody'" in only_error_line(err)


def test_bad_domain_is_refused(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "domain", "block", "--data", str(data), "not a domain")
    assert code == 1 and "not a valid domain" in only_error_line(err)
    code, _, err = run(capsys, "domain", "unblock", "--data", str(data), "never.example")
    assert code == 1 and "Record not found" in only_error_line(err)
    assert blocks(data) == []


def test_report_list(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "user", "create", "--data", str(data), "bob", "--email", "bob@localhost")
    conn_rows = query(data / DB_FILE, "SELECT id FROM accounts WHERE username IN ('alice', 'bob')"
                      " ORDER BY username")
    (alice_id,), (bob_id,) = conn_rows
    config = load_config(data)

    async def report() -> None:
        storage = Storage(config.database_path)
        storage.open()
        try:
            svc = Services(config=config, storage=storage)
            alice = await accounts.get_account(svc, alice_id)
            assert alice is not None
            await moderation.create_report(svc, alice, bob_id, comment="spam\nlinks",
                                           category="spam")
        finally:
            await storage.close()

    asyncio.run(report())
    code, out, err = run(capsys, "report", "list", "--data", str(data))
    assert code == 0, err
    assert "open spam bob (by alice; 0 status(es)): spam links" in out
    code, out, _ = run(capsys, "report", "list", "--data", str(data), "--resolved")
    assert out == ""
