"""Mastodon media endpoints (https://docs.joinmastodon.org/methods/media/): upload (v1 and v2,
both synchronous, so both answer 200 with a ``url``), read, describe and delete an upload not
yet attached to a status; and the stored files themselves under ``/media/{name}``, served
with the type recorded at upload and headers that keep a browser from running anything."""

from __future__ import annotations

from typing import Final

from aiohttp import BodyPartReader, web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Account, Invalid, NotFound, Unauthorized
from fediverse_mu.domain.media import IMAGE_SIZE_LIMIT
from fediverse_mu.services import media
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.auth import require_grant
from fediverse_mu.web.params import read_params

FIELD_LIMIT: Final = 64 * 1024  # bytes of a text field (descriptions are 1,500 characters)
MAX_PARTS: Final = 16
_CHUNK: Final = 64 * 1024
_FILE_HEADERS: Final = {
    "Cache-Control": "public, max-age=31536000, immutable",  # names are never reused
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Access-Control-Allow-Origin": "*",
}


async def _caller(request: web.Request) -> Account:
    grant = await require_grant(request, "write:media")
    if grant.account is None:
        raise Unauthorized("This method requires an authenticated user")
    return grant.account


def _media_id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound("Record not found")
    return int(text)


async def _read_capped(part: BodyPartReader, limit: int, too_large: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise Invalid(too_large)
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_upload(request: web.Request) -> tuple[bytes, dict[str, str]]:
    """The ``file`` part and the text fields of a multipart upload, every part bounded while
    it streams in (the body is never buffered whole)."""
    if request.content_type != "multipart/form-data":
        raise Invalid("Send the file as multipart/form-data, in a field named 'file'")
    try:
        return await _read_parts(request)
    except ValueError:  # aiohttp's word for a missing boundary or a truncated body
        raise web.HTTPBadRequest(text="The multipart body is malformed") from None


async def _read_parts(request: web.Request) -> tuple[bytes, dict[str, str]]:
    too_large = f"File size must be at most {IMAGE_SIZE_LIMIT // (1024 * 1024)} MB"
    reader = await request.multipart()
    data: bytes | None = None
    fields: dict[str, str] = {}
    for _ in range(MAX_PARTS):
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise Invalid("Nested multipart bodies are not accepted")
        if part.name == "file":
            data = await _read_capped(part, IMAGE_SIZE_LIMIT, too_large)
        elif part.name in ("description", "focus"):
            raw = await _read_capped(part, FIELD_LIMIT, f"The {part.name} is too long")
            try:
                fields[part.name] = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise Invalid(f"The {part.name} must be UTF-8 text") from None
        else:  # a custom "thumbnail" (we make our own) or an unknown field: read and dropped
            await _read_capped(part, IMAGE_SIZE_LIMIT, too_large)
    else:
        raise Invalid("Too many fields in the upload")
    if data is None:
        raise Invalid("The upload has no 'file' field")
    return data, fields


async def media_create(request: web.Request) -> web.Response:
    """``POST /api/v1/media`` and ``/api/v2/media``: upload an image."""
    account = await _caller(request)
    data, fields = await _read_upload(request)
    svc = request.app[services_key]
    uploaded = await media.upload(svc, account, data, fields.get("description"),
                                  fields.get("focus"))
    return web.json_response(entities.media_attachment(svc.config, uploaded))


async def media_get(request: web.Request) -> web.Response:
    """``GET /api/v1/media/{id}``: one of the caller's unattached uploads."""
    account = await _caller(request)
    svc = request.app[services_key]
    found = await media.get_upload(svc, account, _media_id(request))
    return web.json_response(entities.media_attachment(svc.config, found))


async def media_update(request: web.Request) -> web.Response:
    """``PUT /api/v1/media/{id}``: change the alt text and/or the focal point."""
    account = await _caller(request)
    params = await read_params(request)
    svc = request.app[services_key]
    updated = await media.update_upload(svc, account, _media_id(request),
                                        description=params.get("description"),
                                        focus=params.get("focus"))
    return web.json_response(entities.media_attachment(svc.config, updated))


async def media_delete(request: web.Request) -> web.Response:
    """``DELETE /api/v1/media/{id}``: delete an upload that no status uses."""
    account = await _caller(request)
    svc = request.app[services_key]
    await media.delete_upload(svc, account, _media_id(request))
    return web.json_response({})


async def media_file_get(request: web.Request) -> web.StreamResponse:
    """``GET /media/{name}``: a stored file, as the type we recorded, never sniffed."""
    found = await media.stored_file(request.app[services_key], request.match_info["name"])
    if found is None:
        raise NotFound("Record not found")
    return web.FileResponse(found.path, headers={"Content-Type": found.mime_type,
                                                 **_FILE_HEADERS})
