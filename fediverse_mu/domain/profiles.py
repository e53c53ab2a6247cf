"""What a resident keeps about themselves: profile fields, the plain-text source of their
note, their posting defaults (Mastodon's ``source``), the change asked by
``update_credentials``, and their reading positions in timelines (markers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fediverse_mu.domain.statuses import Visibility

MAX_FIELDS = 4
MAX_FIELD_NAME = 255
MAX_FIELD_VALUE = 255
MAX_DISPLAY_NAME = 30
MAX_NOTE = 500


class Timeline(StrEnum):
    """The timelines a marker can remember a position in."""

    HOME = "home"
    NOTIFICATIONS = "notifications"


@dataclass(frozen=True, slots=True)
class ProfileField:
    """One name/value pair of a profile (plain text, as typed)."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class PostingDefaults:
    """A resident's defaults for new posts."""

    privacy: Visibility = Visibility.PUBLIC
    sensitive: bool = False
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """The editable side of a local account: what ``verify_credentials`` shows in ``source``."""

    account_id: int
    note_source: str
    fields: tuple[ProfileField, ...]
    defaults: PostingDefaults


@dataclass(frozen=True, slots=True)
class ProfileUpdate:
    """A change to a profile; None means "leave as it is"."""

    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    fields: tuple[ProfileField, ...] | None = None
    privacy: Visibility | None = None
    sensitive: bool | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Marker:
    """The last item a user read in a timeline; ``version`` grows with every save."""

    timeline: Timeline
    last_read_id: str
    version: int
    updated_at: datetime
