"""Accounts (local and remote actors) and users (the login behind a local account)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """What a local user may do on the instance."""

    ADMIN = "admin"
    MODERATOR = "moderator"
    RESIDENT = "resident"


@dataclass(frozen=True, slots=True)
class Account:
    """An actor: a local resident (``domain is None``) or a remote one."""

    id: int
    username: str
    domain: str | None
    actor_uri: str
    actor_type: str
    display_name: str
    note: str
    locked: bool
    bot: bool
    discoverable: bool
    created_at: datetime
    url: str | None = None
    inbox_uri: str | None = None
    shared_inbox_uri: str | None = None
    public_key_pem: str | None = None
    followers_uri: str | None = None
    avatar_url: str | None = None  # None: the default picture
    header_url: str | None = None

    @property
    def is_local(self) -> bool:
        """True for accounts hosted on this instance."""
        return self.domain is None

    def acct(self) -> str:
        """Mastodon's ``acct``: ``username`` for local accounts, ``username@domain`` else."""
        return self.username if self.domain is None else f"{self.username}@{self.domain}"


@dataclass(frozen=True, slots=True)
class User:
    """The login of a local account."""

    id: int
    account_id: int
    email: str
    role: Role
    approved: bool
    disabled: bool
    locale: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RemoteActor:
    """What this instance keeps of a remote actor document (already validated)."""

    actor_uri: str
    username: str
    domain: str
    actor_type: str
    display_name: str
    note: str
    inbox_uri: str
    shared_inbox_uri: str | None
    outbox_uri: str | None
    followers_uri: str | None
    following_uri: str | None
    featured_uri: str | None
    url: str | None
    public_key_id: str
    public_key_pem: str
    locked: bool
    bot: bool
    discoverable: bool
    icon_url: str | None = None  # the actor's avatar (shown by URL, never downloaded)
    image_url: str | None = None  # its header
    fields: tuple[tuple[str, str], ...] = ()  # (name, value as sanitised HTML)
