"""Avatars and headers of local accounts: an uploaded image goes through the same pipeline as
media (Pillow identifies the bytes, refuses what is not JPEG/PNG/GIF/WebP or too large,
re-encodes the pixels so no EXIF/GPS survives), is cropped around its centre to 400×400 (avatar)
or 1500×500 (header), and is kept as a media record marked as a profile image: never attached
to a status and never purged as a stale upload. ``services.profiles.update_profile`` applies
it in the same transaction as the rest of the profile change; the picture it replaces is
removed after the commit."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from fediverse_mu.domain import Account, Invalid, Media, MediaType
from fediverse_mu.domain.media import MEDIA_URL_PATH
from fediverse_mu.services import imaging
from fediverse_mu.services import media as media_service
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import media as media_store

AVATAR_SIZE: Final = (400, 400)
HEADER_SIZE: Final = (1500, 500)
SIZES: Final = {"avatar": AVATAR_SIZE, "header": HEADER_SIZE}
SIZE_LIMIT: Final = 8 * 1024 * 1024  # bytes of an uploaded avatar or header (Mastodon 4.x)


@dataclass(frozen=True)
class PreparedImage:
    """A processed profile image whose files are written, waiting for its record."""

    kind: str  # avatar | header
    image: imaging.ProcessedImage
    file_name: str
    thumbnail_name: str


async def prepare(svc: Services, images: Mapping[str, bytes]) -> list[PreparedImage]:
    """Check and re-encode the images (Invalid: nothing written), then write their files."""
    processed: list[tuple[str, imaging.ProcessedImage]] = []
    for kind, data in images.items():
        if kind not in SIZES:
            raise Invalid(f"unknown profile image {kind!r}")
        if len(data) > SIZE_LIMIT:
            raise Invalid(f"{kind}: file size must be at most {SIZE_LIMIT // (1024 * 1024)} MB")
        width, height = SIZES[kind]
        try:
            processed.append((kind, await asyncio.to_thread(
                imaging.process_profile_image, data, width, height)))
        except Invalid as exc:
            raise Invalid(f"{kind}: {exc.message}") from None
    prepared = [PreparedImage(kind, image, media_service.new_file_name(image.original.extension),
                              media_service.new_file_name(image.thumbnail.extension))
                for kind, image in processed]
    files = [(name, data) for p in prepared for name, data in (
        (p.file_name, p.image.original.data), (p.thumbnail_name, p.image.thumbnail.data))]
    await asyncio.to_thread(media_service.write_files, svc.config.media_path, files)
    return prepared


async def discard(svc: Services, prepared: list[PreparedImage]) -> None:
    """Remove the files of images whose record was never written (a failed transaction)."""
    await asyncio.to_thread(media_service.remove_paths, [
        svc.config.media_path / name for p in prepared
        for name in (p.file_name, p.thumbnail_name)])


def apply(db: Database, base_url: str, account: Account, prepared: list[PreparedImage],
          now: datetime) -> tuple[Account, list[Media]]:
    """Inside the profile's write: record each image, point the account at it; returns the
    account as stored and the media records replaced (their files go after the commit)."""
    replaced: list[Media] = []
    for p in prepared:
        image = p.image
        media = media_store.put_media(
            db, account_id=account.id, type=MediaType.IMAGE, file_name=p.file_name,
            mime_type=image.original.mime_type, width=image.original.width,
            height=image.original.height, size=len(image.original.data),
            thumbnail_name=p.thumbnail_name, thumbnail_mime_type=image.thumbnail.mime_type,
            thumbnail_width=image.thumbnail.width, thumbnail_height=image.thumbnail.height,
            blurhash=image.blurhash, description="", focus_x=0.0, focus_y=0.0, created_at=now)
        replaced += media_store.put_profile_image(db, media.id, account.id, p.kind)
        account = account_store.set_profile_image(
            db, account.id, p.kind, f"{base_url}{MEDIA_URL_PATH}{p.file_name}", now)
    return account, replaced
