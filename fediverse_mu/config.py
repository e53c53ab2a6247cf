"""Instance configuration: one TOML file (``config.toml``) in the instance's data folder, every
key overridable by an environment variable ``FEDIVERSE_MU_<KEY>``. Validation is strict and
every error names the key and the form it expects, so an admin can fix it without reading code.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

CONFIG_FILE = "config.toml"
DATABASE_FILE = "fediverse-mu.db"
ENV_PREFIX = "FEDIVERSE_MU_"

PLACE_KINDS = (
    "tiers-lieu",
    "coworking",
    "fablab",
    "makerspace",
    "atelier-partage",
    "garage-solidaire",
    "micro-folie",
    "campus-connecte",
    "friche-culturelle",
    "maison-de-services",
    "fabrique-de-territoire",
    "tiers-lieu-nourricier",
    "autre",
)
REGISTRATION_MODES = ("open", "approval", "invite", "closed")
LOG_LEVELS = ("debug", "info", "warning", "error")
SCHEMES = ("https", "http")

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names key and expected form."""

    def __init__(self, key: str, expected: str, got: object = None, *, source: str = "") -> None:
        self.key = key
        self.expected = expected
        where = f" (from {source})" if source else ""
        shown = "" if got is None else f", got {got!r}"
        super().__init__(f"invalid configuration key '{key}'{where}: expected {expected}{shown}")


def normalise_domain(value: str) -> str:
    """Return ``host[:port]`` lowercased and IDNA-encoded, or raise ValueError.

    Strict on purpose: no scheme, no path, no userinfo, no trailing dot, port 1–65535.
    """
    if not isinstance(value, str) or not value or value != value.strip():
        raise ValueError("empty or padded")
    host, port = value, None
    if value.startswith("["):
        raise ValueError("IPv6 literals are not supported as an instance domain")
    if ":" in value:
        host, _, port_text = value.rpartition(":")
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError("bad port")
        port = int(port_text)
    if not host or any(c in host for c in "/@?#\\ ") or host.endswith("."):
        raise ValueError("not a bare host name")
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValueError("not a valid host name") from exc
    try:
        ipaddress.IPv4Address(ascii_host)
    except ValueError:
        labels = ascii_host.split(".")
        if not all(_LABEL.match(label) for label in labels):
            raise ValueError("not a valid host name") from None
    return ascii_host if port is None else f"{ascii_host}:{port}"


def _host_without_port(domain: str) -> str:
    return domain.rsplit(":", 1)[0] if ":" in domain else domain


def is_dev_domain(domain: str) -> bool:
    """True for domains where dev flags are acceptable: localhost, *.localhost, *.test, loopback."""
    host = _host_without_port(domain)
    if host == "localhost" or host.endswith((".localhost", ".test")):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- one small validator per kind of value ------------------------------------------------------

Validator = Callable[[Any], Any]


def _text(max_len: int) -> Validator:
    def check(value: Any) -> str:
        if not isinstance(value, str) or len(value) > max_len:
            raise ValueError
        return value

    return check


def _choice(choices: tuple[str, ...]) -> Validator:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError
        return str(value)

    return check


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
        return False
    raise ValueError


def _port(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValueError
    return value


def _workers(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 32:
        raise ValueError
    return value


def _listen_host(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError
    if value != "localhost":
        ipaddress.ip_address(value)
    return value


def _languages(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not value:
        raise ValueError
    if not all(isinstance(v, str) and _LANGUAGE.match(v) for v in value):
        raise ValueError
    return tuple(value)


def _domain(value: Any) -> str:
    return normalise_domain(value)


def _secret(value: Any) -> str:
    if not isinstance(value, str) or len(value) < 32:
        raise ValueError
    return value


def _email_or_empty(value: Any) -> str:
    if not isinstance(value, str) or (value and not re.match(r"^[^@\s]+@[^@\s]+$", value)):
        raise ValueError
    return value


def _path_text(value: Any) -> str:
    if not isinstance(value, str) or not value or "\0" in value:
        raise ValueError
    return value


@dataclass(frozen=True)
class _Key:
    name: str
    check: Validator
    expected: str


_KEYS: tuple[_Key, ...] = (
    _Key("domain", _domain, "HOST[:PORT], e.g. 'lieu.example' or 'localhost:8000'"),
    _Key("scheme", _choice(SCHEMES), "'https' or 'http'"),
    _Key("listen_host", _listen_host, "an IP address or 'localhost', e.g. '127.0.0.1'"),
    _Key("listen_port", _port, "a port number between 1 and 65535"),
    _Key("workers", _workers, "a number of web processes between 1 and 32 (one per core)"),
    _Key("place_name", _text(100), "a text of at most 100 characters"),
    _Key("place_description", _text(2000), "a text of at most 2000 characters"),
    _Key("place_kind", _choice(PLACE_KINDS), "one of " + ", ".join(PLACE_KINDS)),
    _Key("place_territory", _text(200), "a text of at most 200 characters"),
    _Key("languages", _languages, "a list of language codes, e.g. ['fr', 'en']"),
    _Key("registration_mode", _choice(REGISTRATION_MODES), "one of open, approval, invite, closed"),
    _Key("contact_email", _email_or_empty,
         "an e-mail address for the public (empty: the first admin's)"),
    _Key("media_dir", _path_text, "a folder path (relative paths are inside the data folder)"),
    _Key("secret_key", _secret, "a random string of at least 32 characters"),
    _Key("log_level", _choice(LOG_LEVELS), "one of debug, info, warning, error"),
    _Key("authorized_fetch", _bool, "true or false"),
    _Key("dev_allow_http", _bool, "true or false"),
    _Key("dev_allow_private_addresses", _bool, "true or false"),
)
_KEYS_BY_NAME = {key.name: key for key in _KEYS}


@dataclass(frozen=True)
class Config:
    """A validated instance configuration. ``data_dir`` is where config.toml lives."""

    data_dir: Path
    domain: str
    secret_key: str
    scheme: str = "https"
    listen_host: str = "127.0.0.1"
    listen_port: int = 8000
    workers: int = 1
    place_name: str = "Mon tiers-lieu"
    place_description: str = ""
    place_kind: str = "tiers-lieu"
    place_territory: str = ""
    languages: tuple[str, ...] = ("fr", "en")
    registration_mode: str = "approval"
    contact_email: str = ""
    media_dir: str = "media"
    log_level: str = "info"
    authorized_fetch: bool = False
    dev_allow_http: bool = False
    dev_allow_private_addresses: bool = False

    @property
    def base_url(self) -> str:
        """The public base URL, e.g. ``https://lieu.example``."""
        return f"{self.scheme}://{self.domain}"

    @property
    def database_path(self) -> Path:
        """The SQLite database file."""
        return self.data_dir / DATABASE_FILE

    @property
    def media_path(self) -> Path:
        """The media folder (absolute)."""
        path = Path(self.media_dir)
        return path if path.is_absolute() else self.data_dir / path

    def __repr__(self) -> str:  # never print the secret key
        return f"Config(domain={self.domain!r}, data_dir={str(self.data_dir)!r})"


_FIELD_NAMES = {f.name for f in fields(Config)} - {"data_dir"}
assert _FIELD_NAMES == set(_KEYS_BY_NAME), "every Config field needs a validator"


def _validate(values: Mapping[str, Any], sources: Mapping[str, str]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, raw in values.items():
        key = _KEYS_BY_NAME.get(name)
        if key is None:
            raise ConfigError(name, "a known key (" + ", ".join(_KEYS_BY_NAME) + ")",
                              source=sources.get(name, ""))
        try:
            clean[name] = key.check(raw)
        except (ValueError, TypeError):
            raise ConfigError(name, key.expected, raw if name != "secret_key" else "…",
                              source=sources.get(name, "")) from None
    for required in ("domain", "secret_key"):
        if required not in clean:
            raise ConfigError(required, _KEYS_BY_NAME[required].expected + " (missing)")
    return clean


def _check_dev_flags(config: Config) -> None:
    for flag in ("dev_allow_http", "dev_allow_private_addresses"):
        if getattr(config, flag) and not is_dev_domain(config.domain):
            raise ConfigError(
                flag,
                "false unless the domain is localhost, *.localhost, *.test or a loopback IP "
                f"(domain is {config.domain!r}); dev flags are never allowed on a public domain",
                True,
            )
    if config.scheme == "http" and not config.dev_allow_http:
        raise ConfigError("scheme", "'https' (plain http needs dev_allow_http on a dev domain)",
                          "http")


def build_config(data_dir: Path, values: Mapping[str, Any],
                 sources: Mapping[str, str] | None = None) -> Config:
    """Validate raw values (from TOML, env or CLI) into a Config, or raise ConfigError."""
    clean = _validate(values, sources or {})
    config = Config(data_dir=data_dir, **clean)
    _check_dev_flags(config)
    return config


def env_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``FEDIVERSE_MU_<KEY>`` variables as config keys (unknown ones are errors)."""
    found = {}
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and name != ENV_PREFIX + "DATA":
            found[name[len(ENV_PREFIX):].lower()] = value
    return found


def load_config(data_dir: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read ``config.toml`` from the data folder, apply env overrides, validate."""
    path = data_dir / CONFIG_FILE
    if not data_dir.is_dir():
        raise ConfigError("data", f"an existing data folder (run 'fediverse-mu init'); "
                                  f"{str(data_dir)!r} does not exist")
    try:
        with path.open("rb") as handle:
            values: dict[str, Any] = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError("data", f"a data folder holding {CONFIG_FILE} (run 'fediverse-mu "
                                  f"init'); none in {str(data_dir)!r}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config.toml", f"valid TOML ({exc})") from None
    except UnicodeDecodeError as exc:  # tomllib decodes the bytes itself: TOML is UTF-8
        raise ConfigError("config.toml", f"valid TOML in UTF-8 ({exc.reason} at byte "
                                         f"{exc.start})") from None
    except OSError as exc:
        raise ConfigError("config.toml", f"a readable file ({exc.strerror})") from None
    sources = dict.fromkeys(values, str(path))
    overrides = env_overrides(os.environ if environ is None else environ)
    values.update(overrides)
    sources.update({k: f"environment variable {ENV_PREFIX}{k.upper()}" for k in overrides})
    return build_config(data_dir.resolve(), values, sources)


def new_secret_key() -> str:
    """A fresh random secret key."""
    return secrets.token_hex(32)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON strings are valid TOML basic strings
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


_SECTIONS = (
    ("Public address of this instance", ("domain", "scheme")),
    ("Where the server listens (put a TLS reverse proxy in front); workers: one per core",
     ("listen_host", "listen_port", "workers")),
    ("The place (tiers-lieu)",
     ("place_name", "place_description", "place_kind", "place_territory", "languages")),
    ("Residents and safety", ("registration_mode", "contact_email", "authorized_fetch")),
    ("Storage and logs", ("media_dir", "log_level")),
    ("Secret used to sign cookies and tokens: keep it private", ("secret_key",)),
    ("Development only: refused unless the domain is localhost, *.test or loopback",
     ("dev_allow_http", "dev_allow_private_addresses")),
)


def render_config_toml(config: Config) -> str:
    """The TOML text of a Config, commented for admins."""
    lines = ["# fediverse-mu configuration. Every key can be overridden by an environment",
             f"# variable {ENV_PREFIX}<KEY>, e.g. {ENV_PREFIX}LOG_LEVEL=debug.", ""]
    for title, names in _SECTIONS:
        lines.append(f"# {title}")
        lines.extend(f"{name} = {_toml_value(getattr(config, name))}" for name in names)
        lines.append("")
    return "\n".join(lines)
