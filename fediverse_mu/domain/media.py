"""Media attachments: what a resident uploaded (a re-encoded file under the media folder) or
what a remote post references by URL, the limits every face announces and enforces, and the
focal point clients crop thumbnails around."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

# Limits, announced in the Instance entity and enforced by services.media
# (https://docs.joinmastodon.org/entities/Instance/#media_attachments).
IMAGE_SIZE_LIMIT: Final = 16 * 1024 * 1024  # bytes of an uploaded file
IMAGE_MATRIX_LIMIT: Final = 16_777_216  # width × height (4096 × 4096)
DESCRIPTION_LIMIT: Final = 1500  # characters of alt text
MAX_ATTACHMENTS: Final = 4  # per status
THUMBNAIL_SIZE: Final = 640  # the preview fits in a THUMBNAIL_SIZE² box
UPLOAD_MIME_TYPES: Final = ("image/jpeg", "image/png", "image/gif", "image/webp")
MEDIA_URL_PATH: Final = "/media/"  # where the web face serves stored files


class MediaType(StrEnum):
    """Mastodon's attachment types."""

    IMAGE = "image"
    GIFV = "gifv"
    VIDEO = "video"
    AUDIO = "audio"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Media:
    """One attachment: local (``file_name`` set) or remote (``remote_url`` set)."""

    id: int
    account_id: int
    status_id: int | None
    type: MediaType
    mime_type: str
    description: str
    focus_x: float
    focus_y: float
    created_at: datetime
    file_name: str | None = None  # relative to the media folder
    thumbnail_name: str | None = None
    thumbnail_mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    thumbnail_width: int | None = None
    thumbnail_height: int | None = None
    size: int | None = None
    blurhash: str | None = None
    remote_url: str | None = None
    position: int = 0

    @property
    def is_remote(self) -> bool:
        """True for media of remote posts (not stored here)."""
        return self.file_name is None

    @property
    def aspect(self) -> float | None:
        """Width over height, when both are known."""
        if not self.width or not self.height:
            return None
        return self.width / self.height

    def url(self, base_url: str) -> str | None:
        """Where the full-size file can be fetched."""
        if self.file_name is None:
            return self.remote_url
        return f"{base_url}{MEDIA_URL_PATH}{self.file_name}"

    def preview_url(self, base_url: str) -> str | None:
        """Where the small preview can be fetched (remote images: the file itself)."""
        if self.thumbnail_name is not None:
            return f"{base_url}{MEDIA_URL_PATH}{self.thumbnail_name}"
        if self.file_name is None and self.type is MediaType.IMAGE:
            return self.remote_url
        return None


@dataclass(frozen=True, slots=True)
class RemoteMedia:
    """An attachment of a remote post, validated: an http(s) URL and a known media type."""

    url: str
    mime_type: str
    type: MediaType
    description: str = ""
    blurhash: str | None = None
    width: int | None = None
    height: int | None = None
    focus_x: float = 0.0
    focus_y: float = 0.0
