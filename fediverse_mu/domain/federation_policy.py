"""Federation policy: domain blocks (with Mastodon's severities) and the allowlist of domains
this instance federates with when allowlist mode is on. Host matching rules live here so the
inbox, fetch and delivery checks agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_COMMENT = 1000


class Severity(StrEnum):
    """How hard a domain is blocked (Mastodon's ``DomainBlock#severity``)."""

    NOOP = "noop"  # only reject_media / reject_reports
    SILENCE = "silence"  # its accounts are limited
    SUSPEND = "suspend"  # no federation at all


@dataclass(frozen=True, slots=True)
class DomainBlock:
    """A moderated domain."""

    id: int
    domain: str
    severity: Severity
    reject_media: bool
    reject_reports: bool
    public_comment: str
    private_comment: str
    obfuscate: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DomainAllow:
    """A domain federation is allowed with in allowlist mode."""

    id: int
    domain: str
    created_at: datetime


def normalize_domain(value: str) -> str:
    """A domain as stored: lower case, no trailing dot, no scheme or path, port kept."""
    domain = value.strip().lower()
    for prefix in ("https://", "http://"):
        if domain.startswith(prefix):
            domain = domain[len(prefix):]
    domain = domain.split("/", 1)[0].rstrip(".")
    return domain


def candidates(host: str) -> list[str]:
    """The domains whose block covers ``host``: itself and each parent domain (a block on
    ``example.com`` covers ``social.example.com``, as on Mastodon). The port is ignored."""
    name = normalize_domain(host)
    bare = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    parts = bare.split(".")
    found = [name] if name != bare else []
    found.extend(".".join(parts[i:]) for i in range(len(parts)) if parts[i:])
    return found


def obfuscated(domain: str) -> str:
    """The domain with some letters starred, as Mastodon shows obfuscated blocks."""
    return "".join("*" if i % 3 == 1 and ch != "." else ch for i, ch in enumerate(domain))


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """What the federation policy says of one remote host."""

    host: str
    block: DomainBlock | None
    allowed: bool  # False in allowlist mode when the host is not listed

    @property
    def refused(self) -> bool:
        """No federation at all: suspended, or not allowed in allowlist mode."""
        return not self.allowed or (self.block is not None
                                    and self.block.severity is Severity.SUSPEND)

    @property
    def silenced(self) -> bool:
        """Its accounts are limited."""
        return self.block is not None and self.block.severity is Severity.SILENCE

    @property
    def reject_media(self) -> bool:
        """Its media are not shown."""
        return self.block is not None and self.block.reject_media

    @property
    def reject_reports(self) -> bool:
        """Its reports (Flags) are ignored."""
        return self.refused or (self.block is not None and self.block.reject_reports)

    def reason(self) -> str:
        """Why federation is refused (for the 403 and the logs)."""
        if not self.allowed:
            return f"{self.host} is not on this instance's list of allowed servers"
        return f"{self.host} is suspended by this instance's moderators"
