"""``fediverse-mu prune`` in-process: a dry run that counts and changes nothing, a real run
that removes old remote statuses nobody interacted with (and keeps a favourited one), the
retention setting as the default age, and bad input (one error line, exit code 1, nothing
changed)."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fediverse_mu.domain.statuses import status_id_for
from tests.test_cli import DB_FILE, only_error_line, query, run


@pytest.fixture
def data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A data folder with alice and three remote statuses: two 60 days old (one favourited
    by alice), one 10 days old."""
    folder = tmp_path / "inst"
    code, _, err = run(capsys, "init", "--data", str(folder), "--domain", "localhost:8000",
                       "--dev")
    assert code == 0, err
    code, _, err = run(capsys, "user", "create", "--data", str(folder), "alice", "--email",
                       "alice@localhost")
    assert code == 0, err
    db = sqlite3.connect(folder / DB_FILE)
    with db:
        far = db.execute(
            "INSERT INTO accounts (username, domain, actor_uri, actor_type, created_at)"
            " VALUES ('far', 'far.test', 'http://far.test/users/far', 'Person',"
            " '2024-01-01T00:00:00+00:00') RETURNING id").fetchone()[0]
        alice = db.execute("SELECT id FROM accounts WHERE username = 'alice'").fetchone()[0]
        now = datetime.now(UTC)
        for number, days in enumerate((60, 60, 10)):
            moment = now - timedelta(days=days)
            status_id = status_id_for(moment, number)
            db.execute("INSERT INTO statuses (id, uri, account_id, local, visibility,"
                       " created_at) VALUES (?, ?, ?, 0, 'public', ?)",
                       [status_id, f"http://far.test/s/{number}", far, moment.isoformat()])
            if number == 1:
                db.execute("INSERT INTO favourites (account_id, status_id, created_at)"
                           " VALUES (?, ?, ?)", [alice, status_id, now.isoformat()])
    db.close()
    return folder


def uris(data: Path) -> list[str]:
    return [r[0] for r in query(data / DB_FILE, "SELECT uri FROM statuses WHERE local = 0"
                                " ORDER BY uri")]


def digest(data: Path) -> str:
    db = sqlite3.connect(data / DB_FILE)
    try:
        h = hashlib.sha256()
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                  " ORDER BY name"):
            for row in db.execute(f'SELECT * FROM "{name}" ORDER BY 1'):
                h.update(repr((name, row)).encode())
        return h.hexdigest()
    finally:
        db.close()


def test_dry_run_then_prune(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(data)
    code, out, err = run(capsys, "prune", "--data", str(data), "--dry-run")
    assert (code, err) == (0, "")
    assert "Would remove what is older than 30 day(s)" in out and "dry run" in out
    assert "       1  remote statuses" in out
    assert digest(data) == before

    code, out, err = run(capsys, "prune", "--data", str(data))
    assert (code, err) == (0, "")
    assert "Removed what is older than 30 day(s)" in out
    assert "       1  remote statuses" in out and "freed in the database" in out
    assert uris(data) == ["http://far.test/s/1", "http://far.test/s/2"]

    code, out, _ = run(capsys, "prune", "--data", str(data), "--older-than", "5")
    assert code == 0 and "Removed what is older than 5 day(s)" in out
    assert uris(data) == ["http://far.test/s/1"]  # the favourited one stays


def test_the_retention_setting_is_the_default_age(data: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    db = sqlite3.connect(data / DB_FILE)
    with db:
        db.execute("INSERT INTO settings (key, value) VALUES"
                   " ('remote_status_retention_days', '0')")
    db.close()
    code, out, _ = run(capsys, "prune", "--data", str(data))
    assert code == 0 and "The retention is 0 (keep forever)" in out
    assert len(uris(data)) == 3


@pytest.mark.parametrize("days", ["0", "-3", "soon", "1.5", "99999999"])
def test_bad_ages_change_nothing(data: Path, capsys: pytest.CaptureFixture[str],
                                 days: str) -> None:
    before = digest(data)
    code, out, err = run(capsys, "prune", "--data", str(data), f"--older-than={days}")
    assert code == 1 and out == ""
    assert "number of days" in only_error_line(err)
    assert digest(data) == before


def test_a_missing_data_folder_is_one_error_line(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "prune", "--data", str(tmp_path / "nowhere"))
    assert code == 1 and out == "" and only_error_line(err)
