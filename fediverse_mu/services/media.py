"""Media use cases: a resident uploads an image (checked and re-encoded by ``imaging`` in a
thread, written under the media folder with a random name, then recorded), reads, describes
or deletes an upload not yet attached to a status, and the web face finds a stored file by
name. Statuses attach uploads with ``storage.media.attach_media`` inside their own write."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final

from fediverse_mu.domain import Account, Invalid, Media, MediaType, NotFound
from fediverse_mu.domain.media import DESCRIPTION_LIMIT
from fediverse_mu.services import imaging
from fediverse_mu.services.context import Services
from fediverse_mu.storage import media as media_store

log = logging.getLogger(__name__)

# Our own names only: 32 random URL-safe characters and one of our extensions. Anything else
# is refused before the file system is touched, so no path can escape the media folder.
FILE_NAME: Final = re.compile(r"^[A-Za-z0-9_-]{32}\.(?:jpg|png|gif|webp)$")
UNATTACHED_LIFETIME: Final = timedelta(days=1)  # as Mastodon: uploads never posted go


@dataclass(frozen=True)
class StoredFile:
    """A file to serve: where it is and the type we recorded when we wrote it."""

    path: Path
    mime_type: str



def parse_focus(text: str | None) -> tuple[float, float] | None:
    """``"x,y"`` with both in [-1, 1] (https://docs.joinmastodon.org/api/guidelines/#focal-points);
    None when not given; Invalid when malformed."""
    if text is None or not text.strip():
        return None
    parts = text.split(",")
    try:
        x, y = (float(part) for part in parts)
    except ValueError:
        raise Invalid("Focus must be two numbers, e.g. '0.5,-0.25'") from None
    if not all(math.isfinite(v) and -1.0 <= v <= 1.0 for v in (x, y)):
        raise Invalid("Focus coordinates must be between -1.0 and 1.0")
    return x, y


def check_description(text: str | None) -> str:
    """The alt text, or Invalid when too long or not text."""
    text = text or ""
    if len(text) > DESCRIPTION_LIMIT:
        raise Invalid(f"Description must be at most {DESCRIPTION_LIMIT} characters")
    if "\x00" in text:
        raise Invalid("Description must not contain NUL characters")
    return text


def _new_name(extension: str) -> str:
    return f"{secrets.token_urlsafe(24)}.{extension}"


def _write_files(folder: Path, files: list[tuple[str, bytes]]) -> None:
    folder.mkdir(mode=0o750, parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for name, data in files:
            path = folder / name
            with path.open("xb") as handle:  # never overwrite anything
                written.append(path)
                handle.write(data)
    except BaseException:
        _remove_paths(written)
        raise


def _remove_paths(paths: Iterable[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not remove media file %s: %s", path, exc)


def new_file_name(extension: str) -> str:
    """A fresh random name for a stored file (what :data:`FILE_NAME` accepts)."""
    return _new_name(extension)


def write_files(folder: Path, files: list[tuple[str, bytes]]) -> None:
    """Write new files under ``folder`` (never overwriting; all or none). Blocking."""
    _write_files(folder, files)


def remove_paths(paths: Iterable[Path]) -> None:
    """Remove files, logging (not raising) what cannot be removed. Blocking."""
    _remove_paths(paths)


def _file_names(items: Iterable[Media]) -> list[str]:
    return [name for media in items for name in (media.file_name, media.thumbnail_name)
            if name is not None and FILE_NAME.match(name)]


async def remove_files(svc: Services, items: Iterable[Media]) -> None:
    """Remove the stored files of attachments whose records are gone."""
    folder = svc.config.media_path
    paths = [folder / name for name in _file_names(items)]
    if paths:
        await asyncio.to_thread(_remove_paths, paths)


async def upload(svc: Services, account: Account, data: bytes, description: str | None = None,
                 focus: str | None = None) -> Media:
    """Check, clean and store an uploaded image for ``account``; nothing is kept on refusal."""
    text = check_description(description)
    x, y = parse_focus(focus) or (0.0, 0.0)
    image = await asyncio.to_thread(imaging.process_image, data)
    name = _new_name(image.original.extension)
    thumbnail_name = _new_name(image.thumbnail.extension)
    folder = svc.config.media_path
    await asyncio.to_thread(_write_files, folder, [(name, image.original.data),
                                                   (thumbnail_name, image.thumbnail.data)])
    try:
        return await svc.storage.write(
            media_store.put_media, account_id=account.id, type=MediaType.IMAGE,
            file_name=name, mime_type=image.original.mime_type,
            width=image.original.width, height=image.original.height,
            size=len(image.original.data), thumbnail_name=thumbnail_name,
            thumbnail_mime_type=image.thumbnail.mime_type,
            thumbnail_width=image.thumbnail.width, thumbnail_height=image.thumbnail.height,
            blurhash=image.blurhash, description=text, focus_x=x, focus_y=y,
            created_at=svc.now())
    except BaseException:
        await asyncio.to_thread(_remove_paths, [folder / name, folder / thumbnail_name])
        raise


async def get_upload(svc: Services, account: Account, media_id: int) -> Media:
    """One of the account's uploads not yet attached to a status (as Mastodon, others are
    404 here: attached media are read through their status)."""
    media = await svc.storage.read(media_store.get_media, media_id)
    if media is None or media.account_id != account.id or media.status_id is not None:
        raise NotFound("Record not found")
    return media


async def update_upload(svc: Services, account: Account, media_id: int, *,
                        description: str | None = None, focus: str | None = None) -> Media:
    """Change the alt text and/or focal point of an unattached upload (None: unchanged)."""
    text = None if description is None else check_description(description)
    point = parse_focus(focus)
    media = await get_upload(svc, account, media_id)
    return await svc.storage.write(
        media_store.update_media, media.id,
        description=media.description if text is None else text,
        focus_x=media.focus_x if point is None else point[0],
        focus_y=media.focus_y if point is None else point[1])


async def delete_upload(svc: Services, account: Account, media_id: int) -> None:
    """Delete one of the account's uploads and its files; refused once it is attached."""
    media = await svc.storage.read(media_store.get_media, media_id)
    if media is None or media.account_id != account.id:
        raise NotFound("Record not found")
    if media.status_id is not None or \
            not await svc.storage.write(media_store.delete_unattached_media, media.id):
        raise Invalid("Media attachment is currently used by a status")
    await remove_files(svc, [media])


async def purge_unattached(svc: Services, older_than: timedelta = UNATTACHED_LIFETIME) -> int:
    """Delete uploads never attached to a status after ``older_than``; returns how many."""
    stale = await svc.storage.write(media_store.delete_unattached_before,
                                   svc.now() - older_than)
    await remove_files(svc, stale)
    return len(stale)


async def stored_file(svc: Services, name: str) -> StoredFile | None:
    """The file behind ``/media/{name}``, with the type we recorded; None when unknown."""
    if not FILE_NAME.match(name):
        return None
    media = await svc.storage.read(media_store.get_media_by_file_name, name)
    if media is None:
        return None
    mime_type = media.mime_type if media.file_name == name else media.thumbnail_mime_type
    path = svc.config.media_path / name
    if mime_type not in imaging.MIME_TYPES or not await asyncio.to_thread(path.is_file):
        return None
    return StoredFile(path, mime_type)
