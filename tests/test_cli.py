"""The admin command line, end to end: ``init``, ``migrate``, ``serve``, ``user create``,
``token create`` and ``backup``, their help, and every kind of bad input (unknown options, a
missing data folder, a corrupt config or database, a port in use, dev flags on a public domain):
each must give one clear line on stderr, a non-zero exit and nothing half-created.

Most cases call :func:`fediverse_mu.cli.main` in-process (fast); ``serve``, the real console
entry and signals run in a subprocess."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fediverse_mu import __version__
from fediverse_mu.cli import build_parser, main
from fediverse_mu.config import load_config
from fediverse_mu.services.passwords import verify_password
from fediverse_mu.storage import connect

DB_FILE = "fediverse-mu.db"
DEV_DOMAIN = "localhost:8000"


# -- helpers --------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env() -> dict[str, str]:
    """The environment without FEDIVERSE_MU_* overrides that could change the config."""
    return {k: v for k, v in os.environ.items() if not k.startswith("FEDIVERSE_MU_")}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse: --help, usage errors
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def cli(
    *argv: str, cwd: Path, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m fediverse_mu`` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "fediverse_mu", *argv],
        cwd=cwd,
        env=clean_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def query(db_path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one query on a database file with a plain sqlite3 connection."""
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def listing(folder: Path) -> dict[str, bytes | str | None]:
    """Every path under ``folder`` (hidden ones too) with its content, None for folders."""

    def content(path: Path) -> bytes | str | None:
        if path.is_symlink():
            return f"-> {os.readlink(path)}"
        return None if path.is_dir() else path.read_bytes()

    return {str(p.relative_to(folder)): content(p) for p in sorted(folder.rglob("*"))}


def staging_leftovers(folder: Path) -> list[Path]:
    """Staging folders of a failed init: beside a new target, or inside an existing one."""
    return sorted([*folder.glob(".*.init-*"), *folder.glob("*/.init-*"), *folder.glob(".init-*")])


def only_error_line(err: str) -> str:
    """The single ``fediverse-mu: error: …`` line of stderr (asserting there is only one)."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("fediverse-mu: error: "), err
    return lines[0]


def get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def get_json(url: str) -> tuple[int, Any]:
    status, body = get(url)
    return status, json.loads(body)


def wait_healthy(proc: subprocess.Popen[bytes], port: int, stderr_path: Path) -> None:
    """Poll /healthz every 50 ms for at most 10 s; fail early if the server died."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}: {stderr_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                pass
        except OSError:
            time.sleep(0.05)
            continue
        if get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
            return
        time.sleep(0.05)
    pytest.fail(f"server not healthy after 10 s: {stderr_path.read_text()}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(autouse=True)
def _no_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("FEDIVERSE_MU_"):
            monkeypatch.delenv(name)


@pytest.fixture
def data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A data folder made by ``init --dev`` for localhost:8000."""
    folder = tmp_path / "inst"
    code, _, err = run(
        capsys,
        "init",
        "--data",
        str(folder),
        "--domain",
        DEV_DOMAIN,
        "--dev",
        "--name",
        "La Fabrique",
    )
    assert code == 0, err
    return folder


@pytest.fixture
def alice(data: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A resident ``alice`` in ``data``; returns her generated password."""
    code, out, err = run(
        capsys, "user", "create", "--data", str(data), "alice", "--email", "alice@localhost"
    )
    assert code == 0, err
    return out.split("Password: ", 1)[1].strip()


# -- init -----------------------------------------------------------------------------------------


def test_init_dev_creates_a_complete_private_instance(data: Path) -> None:
    config_path, db_path = data / "config.toml", data / DB_FILE
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert (data / "media").is_dir()

    config = load_config(data)
    assert config.domain == DEV_DOMAIN
    assert config.scheme == "http"
    assert config.base_url == "http://localhost:8000"
    assert config.dev_allow_http is True
    assert config.dev_allow_private_addresses is True
    assert config.place_name == "La Fabrique"
    assert len(config.secret_key) >= 32

    db = connect(db_path)
    try:
        rows = db.execute(
            "SELECT actor_uri, private_key_pem, domain FROM accounts "
            "WHERE actor_type = 'Application'"
        ).fetchall()
    finally:
        db.close()
    assert len(rows) == 1
    actor_uri, private_key, domain = rows[0]
    assert actor_uri.startswith("http://localhost:8000/")
    assert "PRIVATE KEY" in private_key
    assert domain is None  # a local account
    assert staging_leftovers(data.parent) == []


def test_init_prints_next_steps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "inst"
    code, out, err = run(capsys, "init", "--data", str(folder), "--domain", DEV_DOMAIN, "--dev")
    assert (code, err) == (0, "")
    assert "http://localhost:8000" in out
    assert f"fediverse-mu user create --data {folder}" in out
    assert f"fediverse-mu serve --data {folder}" in out


def test_init_public_domain_is_https_without_dev_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "inst"
    code, _, err = run(
        capsys,
        "init",
        "--data",
        str(folder),
        "--domain",
        "Lieu.Example",
        "--kind",
        "fablab",
        "--territory",
        "Pays de Nied",
    )
    assert code == 0, err
    config = load_config(folder)
    assert config.domain == "lieu.example"  # normalised
    assert config.scheme == "https"
    assert config.dev_allow_http is False
    assert config.dev_allow_private_addresses is False
    assert config.registration_mode != "open"
    assert (config.place_kind, config.place_territory) == ("fablab", "Pays de Nied")
    rows = query(
        folder / DB_FILE, "SELECT actor_uri FROM accounts WHERE actor_type = 'Application'"
    )
    assert len(rows) == 1 and rows[0][0].startswith("https://lieu.example/")


def test_init_dev_on_public_domain_is_refused_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "inst"
    code, out, err = run(capsys, "init", "--data", str(folder), "--domain", "lieu.example", "--dev")
    assert code != 0
    assert "dev_allow_http" in only_error_line(err)
    assert "Initialised" not in out
    assert not folder.exists()
    assert staging_leftovers(tmp_path) == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "domain",
    [
        "bad domain",
        "https://lieu.example",
        "lieu.example/path",
        "lieu.example:99999",
        "lieu.example.",
        "user@lieu.example",
        "",
    ],
)
def test_init_invalid_domain_is_refused_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], domain: str
) -> None:
    folder = tmp_path / "inst"
    code, _, err = run(capsys, "init", "--data", str(folder), "--domain", domain)
    assert code != 0
    assert "domain" in only_error_line(err)
    assert list(tmp_path.iterdir()) == []


def test_init_invalid_place_kind_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys,
        "init",
        "--data",
        str(tmp_path / "inst"),
        "--domain",
        "lieu.example",
        "--kind",
        "castle",
    )
    assert code != 0
    assert "place_kind" in only_error_line(err)
    assert list(tmp_path.iterdir()) == []


def test_init_into_non_empty_folder_needs_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "inst"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    (folder / "sub").mkdir()
    before = listing(folder)

    code, _, err = run(capsys, "init", "--data", str(folder), "--domain", DEV_DOMAIN, "--dev")
    assert code != 0
    assert "--force" in only_error_line(err)
    assert listing(folder) == before
    assert staging_leftovers(tmp_path) == []

    code, _, err = run(
        capsys, "init", "--data", str(folder), "--domain", DEV_DOMAIN, "--dev", "--force"
    )
    assert code == 0, err
    assert (folder / "notes.txt").read_text() == "keep me"
    assert (folder / "sub").is_dir()
    assert (folder / "config.toml").is_file() and (folder / DB_FILE).is_file()
    assert load_config(folder).domain == DEV_DOMAIN
    assert staging_leftovers(tmp_path) == []


def test_init_never_overwrites_an_instance(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = listing(data)
    for extra in ([], ["--force"]):
        code, _, err = run(
            capsys, "init", "--data", str(data), "--domain", "other.test", "--dev", *extra
        )
        assert code != 0
        assert "already holds" in only_error_line(err)
        assert listing(data) == before
    assert load_config(data).domain == DEV_DOMAIN
    assert staging_leftovers(data.parent) == []


def test_init_onto_a_file_or_under_a_missing_parent_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "inst"
    a_file.write_text("not a folder")
    code, _, err = run(
        capsys, "init", "--data", str(a_file), "--domain", DEV_DOMAIN, "--dev", "--force"
    )
    assert code != 0
    assert "not a folder" in only_error_line(err)
    assert a_file.read_text() == "not a folder"

    code, _, err = run(
        capsys,
        "init",
        "--data",
        str(tmp_path / "missing" / "inst"),
        "--domain",
        DEV_DOMAIN,
        "--dev",
    )
    assert code != 0
    assert "does not exist" in only_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst"]


@pytest.mark.parametrize("clash", ["media-file", "media-folder", "wal-file", "dangling-media-link"])
def test_init_force_refuses_what_it_would_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], clash: str
) -> None:
    folder = tmp_path / "inst"
    folder.mkdir()
    if clash == "media-file":
        (folder / "media").write_text("a file")
    elif clash == "media-folder":
        (folder / "media").mkdir()
        (folder / "media" / "photo.jpg").write_bytes(b"jpeg")
    elif clash == "wal-file":
        (folder / f"{DB_FILE}-wal").write_bytes(b"stale wal of a lost database")
    else:
        (folder / "media").symlink_to(tmp_path / "gone")
    before = listing(folder)
    code, out, err = run(
        capsys, "init", "--data", str(folder), "--domain", DEV_DOMAIN, "--dev", "--force"
    )
    assert code != 0
    assert "already has" in only_error_line(err)
    assert out == ""
    assert listing(folder) == before
    assert staging_leftovers(tmp_path) == []


def test_init_os_error_is_one_line(tmp_path: Path) -> None:
    result = cli("init", "--data", "x" * 300, "--domain", DEV_DOMAIN, "--dev", cwd=tmp_path)
    assert result.returncode == 1
    assert "too long" in only_error_line(result.stderr)
    assert list(tmp_path.iterdir()) == []


# -- help and usage errors ------------------------------------------------------------------------


def _command_paths(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    yield prefix
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _command_paths(sub, (*prefix, name))


COMMANDS = sorted(_command_paths(build_parser()))


def test_every_documented_command_exists() -> None:
    expected = {
        (),
        ("init",),
        ("serve",),
        ("migrate",),
        ("user",),
        ("user", "create"),
        ("token",),
        ("token", "create"),
        ("backup",),
    }
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "(top)")
def test_help_of_every_command(
    capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    code, out, err = run(capsys, *command, "--help")
    assert code == 0
    assert out.startswith("usage: fediverse-mu" + "".join(f" {c}" for c in command))
    assert err == ""
    if command and "ACTION ..." not in out.splitlines()[0]:  # a command, not a group of them
        assert "--data" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"fediverse-mu {__version__}"


@pytest.mark.parametrize(
    "argv",
    [
        ["--bogus", "migrate", "--data", "x"],
        ["init", "--data", "x", "--domain", "localhost", "--bogus"],
        ["serve", "--data", "x", "--frobnicate"],
        ["user", "create", "--data", "x", "alice", "--email", "a@b.c", "--bogus"],
        ["token", "create", "--data", "x", "alice", "--bogus"],
        ["backup", "--data", "x", "out.db", "--bogus"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_unknown_option_is_a_usage_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert "usage: fediverse-mu" in err
    assert "unrecognized arguments: --" in err
    assert out == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [[], ["user"], ["token"], ["serve"], ["init", "--data", "x"]],
    ids=lambda argv: " ".join(argv) or "(none)",
)
def test_missing_command_or_argument_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "the following arguments are required" in err


def test_serve_port_must_be_a_number(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "serve", "--data", "x", "--port", "eighty")
    assert code == 2
    assert "invalid int value" in err


def test_real_entry_points_exit_codes(tmp_path: Path) -> None:
    entries = [[sys.executable, "-m", "fediverse_mu"]]
    script = Path(sys.executable).parent / "fediverse-mu"
    if script.exists():
        entries.append([str(script)])
    for entry in entries:

        def call(*argv: str, entry: list[str] = entry) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*entry, *argv],
                cwd=tmp_path,
                env=clean_env(),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )

        assert call("--help").returncode == 0
        usage = call("migrate", "--data", "x", "--bogus")
        assert usage.returncode == 2 and "unrecognized arguments: --bogus" in usage.stderr
        assert call().returncode == 2
        missing = call("migrate", "--data", str(tmp_path / "nope"))
        assert missing.returncode == 1
        assert "does not exist" in only_error_line(missing.stderr)
    assert list(tmp_path.iterdir()) == []


# -- migrate and broken data folders --------------------------------------------------------------


def test_migrate_current_database_is_up_to_date(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "migrate", "--data", str(data))
    assert (code, err) == (0, "")
    assert "up to date" in out
    assert "Applied 0 migration" in out


def test_migrate_missing_data_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "nope"
    code, _, err = run(capsys, "migrate", "--data", str(folder))
    assert code != 0
    line = only_error_line(err)
    assert "does not exist" in line
    assert "fediverse-mu init" in line
    assert not folder.exists()


def test_data_folder_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "inst"
    a_file.write_text("oops")
    for argv in (["migrate"], ["serve"], ["backup", str(tmp_path / "out.db")]):
        code, _, err = run(capsys, *argv, "--data", str(a_file))
        assert code != 0
        assert "fediverse-mu init" in only_error_line(err)
    assert a_file.read_text() == "oops"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst"]


def test_data_folder_without_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    code, _, err = run(capsys, "migrate", "--data", str(folder))
    assert code != 0
    assert "config.toml" in only_error_line(err)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("text", ['domain = "unterminated\n', "not toml at all\n", "\x00\xff"])
def test_corrupt_config_is_reported(
    data: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    (data / "config.toml").write_text(text, encoding="latin-1")
    d, out_path = str(data), data.parent / "out.db"
    for argv in (
        ["migrate", "--data", d],
        ["serve", "--data", d],
        ["user", "create", "--data", d, "bob", "--email", "b@localhost"],
        ["token", "create", "--data", d, "alice"],
        ["backup", "--data", d, str(out_path)],
    ):
        code, _, err = run(capsys, *argv)
        assert code != 0, argv
        assert "valid TOML" in only_error_line(err)
    assert not out_path.exists()


def test_invalid_config_value_names_the_key(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = data / "config.toml"
    path.write_text(path.read_text().replace("listen_port = 8000", "listen_port = 99999"))
    code, _, err = run(capsys, "migrate", "--data", str(data))
    assert code != 0
    line = only_error_line(err)
    assert "listen_port" in line and str(path) in line


def test_dev_flag_via_environment_on_public_domain_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "inst"
    assert run(capsys, "init", "--data", str(folder), "--domain", "lieu.example")[0] == 0
    monkeypatch.setenv("FEDIVERSE_MU_DEV_ALLOW_PRIVATE_ADDRESSES", "true")
    code, _, err = run(capsys, "migrate", "--data", str(folder))
    assert code != 0
    line = only_error_line(err)
    assert "dev_allow_private_addresses" in line


def test_missing_database_is_not_silently_recreated(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{data / DB_FILE}{suffix}").unlink(missing_ok=True)
    before = listing(data)
    d, out_path = str(data), data.parent / "out.db"
    for argv in (
        ["migrate", "--data", d],
        ["serve", "--data", d],
        ["user", "create", "--data", d, "bob", "--email", "b@localhost"],
        ["token", "create", "--data", d, "bob"],
        ["backup", "--data", d, str(out_path)],
    ):
        code, out, err = run(capsys, *argv)
        assert code != 0, argv
        line = only_error_line(err)
        assert "does not exist" in line and DB_FILE in line
        assert out == ""
        assert listing(data) == before  # no empty database file appeared
    assert not out_path.exists()


def _garbage_database(data: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{data / DB_FILE}{suffix}").unlink(missing_ok=True)
    (data / DB_FILE).write_bytes(os.urandom(64 * 1024))


def _folder_as_database(data: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{data / DB_FILE}{suffix}").unlink(missing_ok=True)
    (data / DB_FILE).mkdir()


@pytest.mark.parametrize(
    "damage", [_garbage_database, _folder_as_database], ids=["garbage-file", "folder"]
)
def test_broken_database_gives_one_line_error(data: Path, damage: Any) -> None:
    damage(data)
    before = listing(data)
    for argv in (
        ["migrate", "--data", str(data)],
        ["user", "create", "--data", str(data), "bob", "--email", "bob@localhost"],
        ["token", "create", "--data", str(data), "bob"],
        ["backup", "--data", str(data), str(data.parent / "copy.db")],
    ):
        result = cli(*argv, cwd=data.parent)
        assert result.returncode != 0, argv
        line = only_error_line(result.stderr)
        assert "database" in line, line
        assert result.stdout == ""
    assert listing(data) == before
    assert not (data.parent / "copy.db").exists()
    assert [p.name for p in data.parent.iterdir()] == [data.name]


# -- serve ----------------------------------------------------------------------------------------


def test_serve_refuses_pending_migration(data: Path) -> None:
    conn = sqlite3.connect(data / DB_FILE)
    with conn:
        deleted = conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0001_initial'")
        assert deleted.rowcount == 1
    conn.close()
    result = cli(
        "serve", "--data", str(data), "--port", str(free_port()), cwd=data.parent, timeout=30
    )
    assert result.returncode != 0
    line = only_error_line(result.stderr)
    assert "0001_initial" in line
    assert f"fediverse-mu migrate --data {data}" in line


def test_serve_and_migrate_refuse_a_newer_database(data: Path) -> None:
    conn = sqlite3.connect(data / DB_FILE)
    with conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('fediverse-mu', '9999_future', '2099-01-01T00:00:00')"
        )
    conn.close()
    for argv in (["serve", "--port", str(free_port())], ["migrate"], ["user", "create"]):
        extra = ["alice", "--email", "alice@localhost"] if argv[0] == "user" else []
        result = cli(*argv, "--data", str(data), *extra, cwd=data.parent, timeout=30)
        assert result.returncode != 0, argv
        line = only_error_line(result.stderr)
        assert "newer" in line and "9999_future" in line
    assert query(data / DB_FILE, "SELECT count(*) FROM users") == [(0,)]


def test_serve_port_in_use(data: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli(
            "serve",
            "--data",
            str(data),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            cwd=data.parent,
            timeout=30,
        )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1
    assert errors[0].startswith("fediverse-mu: error: ")
    assert "already in use" in errors[0] and str(port) in errors[0]


def test_serve_end_to_end_and_sigterm(data: Path) -> None:
    port = free_port()
    stderr_path = data.parent / "serve.stderr"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fediverse_mu",
                "serve",
                "--data",
                str(data),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=data.parent,
            env=clean_env(),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_healthy(proc, port, stderr_path)
        base = f"http://127.0.0.1:{port}"
        assert get_json(base + "/healthz") == (200, {"status": "ok"})
        status, nodeinfo = get_json(base + "/nodeinfo/2.1")
        assert status == 200
        assert nodeinfo["software"]["name"] == "fediverse-mu"
        assert nodeinfo["software"]["version"] == __version__
        status, instance = get_json(base + "/api/v2/instance")
        assert status == 200
        assert instance["domain"] == DEV_DOMAIN
        assert instance["title"] == "La Fabrique"
        status, _ = get(base + "/api/v1/instance?access_token=SECRET123&x=1")
        assert status == 200
        status, page = get(base + "/")
        assert status == 200 and b"La Fabrique" in page

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        stop(proc)
    log = stderr_path.read_text()
    assert "Traceback" not in log
    assert "GET /healthz 200" in log  # the access log is on…
    assert "GET /api/v1/instance 200" in log
    assert "SECRET123" not in log  # …and never writes query strings
    assert "access_token" not in log


# -- user create ----------------------------------------------------------------------------------


def _user_rows(data: Path) -> list[tuple[Any, ...]]:
    return query(
        data / DB_FILE,
        "SELECT a.username, u.email, u.role, u.password_hash FROM users u "
        "JOIN accounts a ON a.id = u.account_id ORDER BY u.id",
    )


def test_user_create_prints_a_working_generated_password(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "user", "create", "--data", str(data), "alice", "--email", "alice@localhost"
    )
    assert (code, err) == (0, "")
    assert "@alice@localhost:8000" in out
    password = out.split("Password: ", 1)[1].strip()
    assert len(password) >= 12
    [(username, email, role, password_hash)] = _user_rows(data)
    assert (username, email, role) == ("alice", "alice@localhost", "resident")
    assert password not in password_hash
    assert verify_password(password_hash, password)
    assert not verify_password(password_hash, password + "x")
    actor = query(
        data / DB_FILE, "SELECT actor_uri, actor_type FROM accounts WHERE username = 'alice'"
    )
    assert actor == [("http://localhost:8000/users/alice", "Person")]


def test_user_create_password_from_stdin(
    data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\nignored\n"))
    code, out, err = run(
        capsys,
        "user",
        "create",
        "--data",
        str(data),
        "alice",
        "--email",
        "alice@localhost",
        "--password-stdin",
    )
    assert (code, err) == (0, "")
    assert "Password" not in out
    assert "correct horse" not in out
    [(_, _, _, password_hash)] = _user_rows(data)
    assert verify_password(password_hash, "correct horse battery")


def test_user_create_password_stdin_in_a_subprocess(data: Path) -> None:
    result = cli(
        "user",
        "create",
        "--data",
        str(data),
        "alice",
        "--email",
        "alice@localhost",
        "--password-stdin",
        stdin="s3cret-enough\r\n",
        cwd=data.parent,
    )
    assert result.returncode == 0, result.stderr
    [(_, _, _, password_hash)] = _user_rows(data)
    assert verify_password(password_hash, "s3cret-enough")


def test_user_create_admin(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "user",
        "create",
        "--data",
        str(data),
        "boss",
        "--email",
        "boss@localhost",
        "--admin",
    )
    assert (code, err) == (0, "")
    assert "admin" in out
    assert [row[:3] for row in _user_rows(data)] == [("boss", "boss@localhost", "admin")]


def test_user_create_duplicate_username_is_case_insensitive(
    data: Path, alice: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _user_rows(data)
    code, out, err = run(
        capsys, "user", "create", "--data", str(data), "Alice", "--email", "other@localhost"
    )
    assert code != 0
    assert "already taken" in only_error_line(err)
    assert "Password" not in out
    assert _user_rows(data) == before


def test_user_create_duplicate_email(
    data: Path, alice: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "user", "create", "--data", str(data), "bob", "--email", "ALICE@localhost"
    )
    assert code != 0
    assert "alice@localhost" in only_error_line(err).lower()
    assert len(_user_rows(data)) == 1


@pytest.mark.parametrize(
    ("username", "email", "expected"),
    [
        ("al ice", "alice@localhost", "username"),
        ("admin", "admin@localhost", "reserved"),
        ("Admin", "admin@localhost", "reserved"),
        ("x" * 31, "x@localhost", "username"),
        ("bob", "not-an-email", "e-mail"),
    ],
)
def test_user_create_rejects_bad_input(
    data: Path, capsys: pytest.CaptureFixture[str], username: str, email: str, expected: str
) -> None:
    code, out, err = run(capsys, "user", "create", "--data", str(data), username, "--email", email)
    assert code != 0
    assert expected in only_error_line(err)
    assert out == ""
    assert _user_rows(data) == []


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [
        ("short\n", "password must be"),
        ("", "no password"),
        ("\n", "no password"),
    ],
)
def test_user_create_rejects_bad_stdin_password(
    data: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stdin: str,
    expected: str,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code, out, err = run(
        capsys,
        "user",
        "create",
        "--data",
        str(data),
        "alice",
        "--email",
        "alice@localhost",
        "--password-stdin",
    )
    assert code != 0
    assert expected in only_error_line(err)
    assert out == ""
    assert _user_rows(data) == []


# -- token create ---------------------------------------------------------------------------------


def _token_row(data: Path, token: str) -> list[tuple[Any, ...]]:
    return query(
        data / DB_FILE,
        "SELECT t.scopes, a.username, t.revoked_at FROM oauth_tokens t "
        "JOIN users u ON u.id = t.user_id JOIN accounts a ON a.id = u.account_id "
        "WHERE t.token_hash = ?",
        hashlib.sha256(token.encode()).hexdigest(),
    )


def test_token_create_default_scopes(
    data: Path, alice: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "token", "create", "--data", str(data), "alice")
    assert (code, err) == (0, "")
    token = out.strip()
    assert len(out.strip().splitlines()) == 1 and len(token) >= 32
    assert _token_row(data, token) == [("follow push read write", "alice", None)]
    assert query(
        data / DB_FILE, "SELECT count(*) FROM oauth_tokens WHERE token_hash = ?", token
    ) == [(0,)]  # only the hash is stored

    code, out, _ = run(capsys, "token", "create", "--data", str(data), "alice")
    assert code == 0 and out.strip() != token  # a fresh secret each time


def test_token_create_granular_scope(
    data: Path, alice: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "token", "create", "--data", str(data), "alice", "--scopes", "read:statuses"
    )
    assert (code, err) == (0, "")
    assert _token_row(data, out.strip()) == [("read:statuses", "alice", None)]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["alice", "--scopes", "fly"], "fly"),
        (["alice", "--scopes", "read fly"], "fly"),
        (["alice", "--scopes", ""], "scope"),
        (["nobody"], "nobody"),
    ],
)
def test_token_create_refusals(
    data: Path, alice: str, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, out, err = run(capsys, "token", "create", "--data", str(data), *argv)
    assert code != 0
    assert expected in only_error_line(err)
    assert out == ""
    assert query(data / DB_FILE, "SELECT count(*) FROM oauth_tokens") == [(0,)]


# -- backup ---------------------------------------------------------------------------------------


def _accounts(db_path: Path) -> list[tuple[Any, ...]]:
    return query(db_path, "SELECT * FROM accounts ORDER BY id")


def test_backup_is_a_complete_standalone_copy(
    data: Path, alice: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out_path = data.parent / "copy.db"
    code, out, err = run(capsys, "backup", "--data", str(data), str(out_path))
    assert (code, err) == (0, "")
    assert str(out_path) in out
    assert stat.S_IMODE(out_path.stat().st_mode) == 0o600
    assert query(out_path, "PRAGMA integrity_check") == [("ok",)]
    assert query(out_path, "PRAGMA journal_mode") == [("delete",)]
    assert not Path(f"{out_path}-wal").exists()
    accounts = _accounts(out_path)
    assert len(accounts) == 2  # the instance actor and alice
    assert accounts == _accounts(data / DB_FILE)
    assert query(out_path, "SELECT count(*) FROM users") == [(1,)]
    assert sorted(p.name for p in data.parent.iterdir()) == ["copy.db", data.name]


def test_backup_replaces_an_older_backup(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = data.parent / "copy.db"
    out_path.write_bytes(b"an old, broken backup")
    code, _, err = run(capsys, "backup", "--data", str(data), str(out_path))
    assert code == 0, err
    assert query(out_path, "PRAGMA integrity_check") == [("ok",)]
    assert _accounts(out_path) == _accounts(data / DB_FILE)


def test_backup_during_an_open_write_transaction_is_consistent(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_path = data.parent / "copy.db"
    writer = sqlite3.connect(data / DB_FILE, isolation_level=None, timeout=1)
    try:
        writer.execute("INSERT INTO settings (key, value) VALUES ('committed', '1')")
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO settings (key, value) VALUES ('uncommitted', '1')")
        writer.executemany(
            "INSERT INTO settings (key, value) VALUES (?, ?)",
            [(f"pending-{i}", "x" * 500) for i in range(200)],
        )
        assert writer.in_transaction

        code, _, err = run(capsys, "backup", "--data", str(data), str(out_path))
        assert code == 0, err
        assert writer.in_transaction  # the backup neither waited for nor broke the writer
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert query(out_path, "PRAGMA integrity_check") == [("ok",)]
    keys = {key for (key,) in query(out_path, "SELECT key FROM settings")}
    assert "committed" in keys
    assert "uncommitted" not in keys
    assert not any(key.startswith("pending-") for key in keys)
    assert _accounts(out_path) == _accounts(data / DB_FILE)
    live_keys = {key for (key,) in query(data / DB_FILE, "SELECT key FROM settings")}
    assert "uncommitted" not in live_keys and "committed" in live_keys


def test_backup_into_a_missing_folder(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = data.parent / "missing" / "copy.db"
    code, out, err = run(capsys, "backup", "--data", str(data), str(out_path))
    assert code != 0
    assert "does not exist" in only_error_line(err)
    assert out == ""
    assert not out_path.parent.exists()


@pytest.mark.parametrize("spelling", ["direct", "dotdot", "symlink"])
def test_backup_never_overwrites_the_live_database(
    data: Path, alice: str, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    live = data / DB_FILE
    before = _accounts(live)
    if spelling == "direct":
        out_path = live
    elif spelling == "dotdot":
        out_path = data / "media" / ".." / DB_FILE
    else:
        out_path = data.parent / "link.db"
        out_path.symlink_to(live)
    code, out, err = run(capsys, "backup", "--data", str(data), str(out_path))
    assert code != 0
    assert "live database" in only_error_line(err)
    assert out == ""
    assert query(live, "PRAGMA integrity_check") == [("ok",)]
    assert _accounts(live) == before
    assert [name for name in os.listdir(data) if name.endswith(".tmp")] == []
