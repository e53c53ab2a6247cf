"""Configuration: TOML plus FEDIVERSE_MU_* overrides, strict validation, dev-flag rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from fediverse_mu.config import (
    ConfigError,
    build_config,
    load_config,
    new_secret_key,
    normalise_domain,
    render_config_toml,
)

SECRET = new_secret_key()


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_round_trip_through_toml(tmp_path: Path) -> None:
    config = build_config(tmp_path, {"domain": "Lieu.Example", "secret_key": SECRET,
                                     "place_name": 'La "Fabrique" \\ Nord',
                                     "languages": ["fr", "en"], "listen_port": 8081})
    write(tmp_path, render_config_toml(config))
    loaded = load_config(tmp_path, environ={})
    assert loaded == config
    assert loaded.domain == "lieu.example"
    assert loaded.place_name == 'La "Fabrique" \\ Nord'
    assert loaded.base_url == "https://lieu.example"


def test_every_key_can_come_from_the_environment(tmp_path: Path) -> None:
    write(tmp_path, f'domain = "lieu.example"\nsecret_key = "{SECRET}"\n')
    loaded = load_config(tmp_path, environ={
        "FEDIVERSE_MU_LISTEN_PORT": "9000", "FEDIVERSE_MU_LOG_LEVEL": "debug",
        "FEDIVERSE_MU_LANGUAGES": "fr, br", "FEDIVERSE_MU_AUTHORIZED_FETCH": "yes",
        "FEDIVERSE_MU_DOMAIN": "autre.example", "UNRELATED": "x"})
    assert loaded.listen_port == 9000
    assert loaded.log_level == "debug"
    assert loaded.languages == ("fr", "br")
    assert loaded.authorized_fetch is True
    assert loaded.domain == "autre.example"


@pytest.mark.parametrize(("key", "value", "fragment"), [
    ("domain", "https://lieu.example", "HOST[:PORT]"),
    ("domain", "lieu.example/path", "HOST[:PORT]"),
    ("domain", "user@lieu.example", "HOST[:PORT]"),
    ("domain", "lieu.example.", "HOST[:PORT]"),
    ("domain", "lieu.example:0", "HOST[:PORT]"),
    ("domain", "lieu.example:99999", "HOST[:PORT]"),
    ("listen_port", "eighty", "port number"),
    ("workers", "0", "between 1 and 32"),
    ("workers", "33", "between 1 and 32"),
    ("scheme", "ftp", "'https' or 'http'"),
    ("registration_mode", "everyone", "open, approval, invite, closed"),
    ("languages", "français", "language codes"),
    ("log_level", "loud", "debug, info"),
    ("authorized_fetch", "maybe", "true or false"),
    ("place_kind", "castle", "fablab"),
    ("secret_key", "short", "at least 32"),
])
def test_bad_values_name_the_key_and_the_expected_form(tmp_path: Path, key: str, value: str,
                                                       fragment: str) -> None:
    write(tmp_path, f'domain = "lieu.example"\nsecret_key = "{SECRET}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ={f"FEDIVERSE_MU_{key.upper()}": value})
    message = str(caught.value)
    assert f"'{key}'" in message
    assert fragment in message
    assert f"FEDIVERSE_MU_{key.upper()}" in message  # says where the bad value came from


def test_secret_never_appears_in_errors_or_repr(tmp_path: Path) -> None:
    config = build_config(tmp_path, {"domain": "lieu.example", "secret_key": SECRET})
    assert SECRET not in repr(config)
    with pytest.raises(ConfigError) as caught:
        build_config(tmp_path, {"domain": "lieu.example", "secret_key": "tiny-secret"})
    assert "tiny-secret" not in str(caught.value)


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    write(tmp_path, f'domain = "lieu.example"\nsecret_key = "{SECRET}"\ndomian = "x"\n')
    with pytest.raises(ConfigError, match="'domian'"):
        load_config(tmp_path, environ={})


def test_corrupt_toml_is_reported(tmp_path: Path) -> None:
    write(tmp_path, 'domain = "lieu.example\n')
    with pytest.raises(ConfigError, match="valid TOML"):
        load_config(tmp_path, environ={})


def test_missing_folder_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope", environ={})
    with pytest.raises(ConfigError, match=r"config\.toml"):
        load_config(tmp_path, environ={})


def test_missing_domain(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'domain'.*missing"):
        build_config(tmp_path, {"secret_key": SECRET})


@pytest.mark.parametrize("domain", ["localhost", "localhost:8000", "a.test", "x.localhost:1",
                                    "127.0.0.1:8001", "127.5.5.5"])
def test_dev_flags_allowed_on_dev_domains(tmp_path: Path, domain: str) -> None:
    config = build_config(tmp_path, {"domain": domain, "secret_key": SECRET, "scheme": "http",
                                     "dev_allow_http": True,
                                     "dev_allow_private_addresses": True})
    assert config.base_url == f"http://{domain}"


@pytest.mark.parametrize("flag", ["dev_allow_http", "dev_allow_private_addresses"])
@pytest.mark.parametrize("domain", ["lieu.example", "test.example", "localhost.example",
                                    "10.0.0.1", "192.168.1.2:8000", "evil-test"])
def test_dev_flags_refused_on_public_domains(tmp_path: Path, flag: str, domain: str) -> None:
    with pytest.raises(ConfigError, match=f"'{flag}'"):
        build_config(tmp_path, {"domain": domain, "secret_key": SECRET, flag: True})


def test_plain_http_needs_the_dev_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'scheme'"):
        build_config(tmp_path, {"domain": "localhost", "secret_key": SECRET, "scheme": "http"})


@pytest.mark.parametrize(("raw", "expected"), [
    ("LIEU.example", "lieu.example"), ("café.example", "xn--caf-dma.example"),
    ("localhost:8000", "localhost:8000"), ("127.0.0.1:8001", "127.0.0.1:8001"),
])
def test_domain_normalisation(raw: str, expected: str) -> None:
    assert normalise_domain(raw) == expected


@pytest.mark.parametrize("raw", ["", " lieu.example", "lieu..example", "-lieu.example",
                                 "[::1]:8000", "lieu.example:", "a b.example", "lieu.example#x"])
def test_domain_normalisation_refuses_tricks(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_domain(raw)
