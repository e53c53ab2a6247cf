"""The package as an admin gets it: built and installed (not editable) into a fresh virtualenv,
then run from outside the source tree. Proves the wheel ships its migrations, templates and
static files and that ``fediverse_mu.resources`` never falls back to the checkout."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fediverse_mu import __version__

pytestmark = pytest.mark.install

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Installed:
    """A fresh virtualenv holding fediverse-mu, and a work folder outside the source tree."""

    root: Path
    venv: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def command(self) -> Path:
        return self.venv / "bin" / "fediverse-mu"


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def isolated_env() -> dict[str, str]:
    """The environment minus anything that could point back at the checkout or its venv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FEDIVERSE_MU_", "PYTHON", "PIP_")) and k != "VIRTUAL_ENV"
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def get_json(url: str) -> tuple[int, Any]:
    status, _, body = get(url)
    return status, json.loads(body)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """``pip install <repo>`` (non-editable) into a new virtualenv; pip's cache is reused."""
    root = tmp_path_factory.mktemp("install").resolve()
    assert not root.is_relative_to(REPO_ROOT)
    venv = root / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", str(venv)],
        check=True,
        cwd=root,
        env=isolated_env(),
        timeout=120,
    )
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(REPO_ROOT)],
        cwd=root,
        env=isolated_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return Installed(root, venv)


def test_installed_package_does_not_use_the_source_tree(installed: Installed) -> None:
    result = subprocess.run(
        [
            str(installed.python),
            "-c",
            "import fediverse_mu, fediverse_mu.resources as r; "
            "print(fediverse_mu.__file__, r.migrations_dir(), r.templates_dir(), "
            "fediverse_mu.__version__)",
        ],
        cwd=installed.root,
        env=isolated_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    *paths, version = result.stdout.split()
    assert version == __version__
    assert len(paths) == 3
    venv = installed.venv.resolve()
    for path in map(Path, paths):
        assert path.resolve().is_relative_to(venv), path
        assert not path.resolve().is_relative_to(REPO_ROOT), path
    module, migrations, templates = map(Path, paths)
    assert "_resources" in migrations.parts and "_resources" in templates.parts
    assert (migrations / "0001_initial.py").is_file()
    assert (templates / "home.html").is_file()
    assert (module.parent / "web" / "static" / "style.css").is_file()
    assert (module.parent / "web" / "locales" / "fr.json").is_file()


def test_installed_command_inits_and_serves(installed: Installed) -> None:
    env = isolated_env()
    port = free_port()
    data = installed.root / "inst"

    def command(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(installed.command), *argv],
            cwd=installed.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    version = command("--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"fediverse-mu {__version__}")
    init = command(
        "init", "--data", str(data), "--domain", f"localhost:{port}", "--dev",
        "--name", "Le Garage",
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    assert (data / "config.toml").is_file() and (data / "fediverse-mu.db").is_file()
    migrate = command("migrate", "--data", str(data))
    assert migrate.returncode == 0, migrate.stderr
    assert "up to date" in migrate.stdout

    stderr_path = installed.root / "serve.stderr"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [str(installed.command), "serve", "--data", str(data), "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=installed.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        healthy = False
        while not healthy and time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}: {stderr_path.read_text()}")
            try:
                healthy = get(base + "/healthz")[0] == 200
            except OSError:
                pass
            if not healthy:
                time.sleep(0.05)
        assert healthy, stderr_path.read_text()

        status, content_type, page = get(base + "/")
        assert status == 200
        assert content_type.startswith("text/html")
        assert b"<html" in page and b"Le Garage" in page
        assert get(base + "/static/style.css")[0] == 200
        status, nodeinfo = get_json(base + "/nodeinfo/2.1")
        assert status == 200
        assert nodeinfo["software"] == nodeinfo["software"] | {
            "name": "fediverse-mu",
            "version": __version__,
        }

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    log = stderr_path.read_text()
    assert "Traceback" not in log
    assert "GET / 200" in log
