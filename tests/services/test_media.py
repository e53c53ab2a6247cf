"""Media below the web face: the image pipeline (identification by content, refusals, metadata
stripping, orientation, previews, animations), the BlurHash encoder, the upload use cases
(a refusal stores nothing) and the storage functions statuses use (attach, list, remote
media, clean-up)."""

from __future__ import annotations

import io
import math
import struct
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from fediverse_mu.domain import Account, Invalid, MediaType, NotFound, RemoteMedia
from fediverse_mu.domain.media import IMAGE_SIZE_LIMIT
from fediverse_mu.services import blurhash, imaging
from fediverse_mu.services import media as media_service
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import media as media_store
from tests import media_samples as samples
from tests.conftest import make_user

# -- BlurHash ------------------------------------------------------------------------------------

_B83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def _decode83(text: str) -> int:
    value = 0
    for char in text:
        value = value * 83 + _B83.index(char)
    return value


def _decode(hash_: str, width: int, height: int) -> list[tuple[int, int, int]]:
    """An independent reading of the spec's decoder (woltapp/blurhash, Algorithm.md)."""
    size = _B83.index(hash_[0])
    nx, ny = size % 9 + 1, size // 9 + 1
    assert len(hash_) == 4 + 2 * nx * ny
    maximum = (_decode83(hash_[1]) + 1) / 166

    def linear(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    def signed(q: int) -> float:
        v = (q - 9) / 9
        return math.copysign(v * v, v) * maximum

    dc = _decode83(hash_[2:6])
    colours = [(linear(dc >> 16), linear(dc >> 8 & 255), linear(dc & 255))]
    for i in range(1, nx * ny):
        v = _decode83(hash_[4 + 2 * i: 6 + 2 * i])
        colours.append((signed(v // 361), signed(v // 19 % 19), signed(v % 19)))
    pixels = []
    for y in range(height):
        for x in range(width):
            rgb = [0.0, 0.0, 0.0]
            for j in range(ny):
                for i in range(nx):
                    basis = math.cos(math.pi * x * i / width) * math.cos(math.pi * y * j / height)
                    for c in range(3):
                        rgb[c] += colours[j * nx + i][c] * basis
            srgb = [round(255 * (12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055))
                    for v in (min(1.0, max(0.0, c)) for c in rgb)]
            pixels.append((srgb[0], srgb[1], srgb[2]))
    return pixels


def test_blurhash_of_a_plain_colour_decodes_to_that_colour() -> None:
    hash_ = blurhash.encode(bytes([200, 30, 90]) * 32 * 32, 32, 32)
    assert len(hash_) == 4 + 2 * 16 and hash_[0] == _B83[3 + 3 * 9]  # 4×4 components
    dc = _decode83(hash_[2:6])
    assert (dc >> 16, dc >> 8 & 255, dc & 255) == (200, 30, 90)
    # The spec samples cosines at pixel corners, not centres, so a flat colour leaks a little
    # into the first components: the placeholder is close, not exact.
    for pixel in _decode(hash_, 32, 32):
        assert all(abs(got - want) <= 0.15 * want + 3
                   for got, want in zip(pixel, (200, 30, 90), strict=True))


def test_blurhash_of_a_gradient_decodes_to_a_gradient() -> None:
    width, height = 32, 4
    pixels = bytes(v for _ in range(height) for x in range(width)
                   for v in [x * 255 // (width - 1)] * 3)
    hash_ = blurhash.encode(pixels, width, height, 4, 1)
    assert len(hash_) == 4 + 2 * 4
    row = [pixel[0] for pixel in _decode(hash_, width, 1)]
    assert row[0] < 30 and row[-1] > 200  # dark on the left, bright on the right
    assert row == sorted(row)
    with pytest.raises(ValueError):
        blurhash.encode(pixels, width, height, 10, 1)
    with pytest.raises(ValueError):
        blurhash.encode(pixels[:-1], width, height)


# -- the image pipeline -----------------------------------------------------------------------

def test_jpeg_is_reencoded_without_any_metadata_and_upright() -> None:
    data = samples.jpeg_with_gps(300, 200, orientation=6)  # "rotate 90° clockwise to view"
    assert samples.has_metadata(data)
    result = imaging.process_image(data)
    original = result.original
    assert (original.mime_type, original.extension) == ("image/jpeg", "jpg")
    assert samples.has_metadata(original.data) == []
    assert samples.has_metadata(result.thumbnail.data) == []
    with Image.open(io.BytesIO(original.data)) as image:
        assert image.format == "JPEG" and image.size == (200, 300) == (original.width,
                                                                       original.height)
        # The red square was top left; after turning 90° clockwise it is top right.
        red, green, blue = image.convert("RGB").getpixel((195, 5))  # type: ignore[misc]
        assert red > 200 and green < 60 and blue < 60
    assert len(result.blurhash) == 36 and not result.animated


def test_png_keeps_transparency_loses_text_chunks_and_exif() -> None:
    result = imaging.process_image(samples.png_with_metadata(alpha=True))
    assert result.original.mime_type == "image/png"
    assert samples.has_metadata(result.original.data) == []
    with Image.open(io.BytesIO(result.original.data)) as image:
        assert image.mode == "RGBA" and image.getpixel((60, 40))[3] == 128  # type: ignore[index]
    assert result.thumbnail.mime_type == "image/png"  # a transparent preview stays PNG


def test_large_image_gets_a_preview_that_fits_in_640() -> None:
    result = imaging.process_image(samples.jpeg_with_gps(2000, 1000))
    assert (result.original.width, result.original.height) == (2000, 1000)
    assert (result.thumbnail.width, result.thumbnail.height) == (640, 320)
    assert result.thumbnail.mime_type == "image/jpeg"
    with Image.open(io.BytesIO(result.thumbnail.data)) as image:
        assert image.size == (640, 320)
    small = imaging.process_image(samples.png_with_metadata(120, 80))
    assert (small.thumbnail.width, small.thumbnail.height) == (120, 80)  # never enlarged


def test_webp_and_animated_gif() -> None:
    result = imaging.process_image(samples.webp())
    assert result.original.mime_type == "image/webp"
    assert samples.has_metadata(result.original.data) == []
    animated = imaging.process_image(samples.animated_gif())
    assert animated.animated and animated.original.mime_type == "image/gif"
    assert samples.has_metadata(animated.original.data) == []
    with Image.open(io.BytesIO(animated.original.data)) as image:
        assert getattr(image, "n_frames", 1) == 3
        durations = []
        for index in range(3):
            image.seek(index)
            durations.append(image.info["duration"])
        assert durations == [100, 200, 300]
    assert animated.thumbnail.mime_type in ("image/png", "image/jpeg")


def test_corrupt_exif_does_not_make_a_good_image_unacceptable() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (50, 40), (10, 20, 30)).save(buffer, "JPEG")
    payload = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\x01" * 40
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    data = buffer.getvalue()[:2] + segment + buffer.getvalue()[2:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow says "Corrupt EXIF data"
        result = imaging.process_image(data)
    assert (result.original.width, result.original.height) == (50, 40)
    assert b"Exif" not in result.original.data


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (samples.HTML, "could not be verified"),
    (samples.SVG, "could not be verified"),
    (samples.bmp(), "could not be verified"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "could not be verified"),  # a JPEG header, no image
    (samples.jpeg_with_gps()[:400], "could not be verified"),  # truncated
    (samples.png_bomb(5000, 5000), "dimensions"),  # 25 Mpx > the 16.7 Mpx limit
    (samples.png_bomb(20_000, 10), "dimensions"),  # a side beyond 16,384
    (samples.png_bomb(100_000, 100_000), "dimensions"),  # Pillow's own bomb guard
])
def test_refusals(data: bytes, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        imaging.process_image(data)


def test_oversized_bytes_are_refused_before_decoding() -> None:
    with pytest.raises(Invalid, match="16 MB"):
        imaging.process_image(b"\x89PNG" + b"\x00" * IMAGE_SIZE_LIMIT)


# -- the upload use cases -----------------------------------------------------------------------

def _files(svc: Services) -> list[str]:
    folder = svc.config.media_path
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def _rows(svc: Services) -> int:
    def count(db: Database) -> int:
        return int(db.execute("SELECT count(*) FROM media_attachments").fetchone()[0])
    return await svc.storage.read(count)


async def _status(svc: Services, account: Account, status_id: int) -> int:
    def put(db: Database) -> int:
        db.execute("INSERT INTO statuses (id, uri, account_id, local, visibility, created_at)"
                   " VALUES (?, ?, ?, 1, 'public', ?)",
                   [status_id, f"http://a.test/statuses/{status_id}", account.id,
                    datetime.now(UTC).isoformat()])
        return status_id
    return await svc.storage.write(put)


async def test_upload_stores_a_clean_file_and_its_record(svc: Services) -> None:
    alice = (await make_user(svc, "alice")).account
    media = await media_service.upload(svc, alice, samples.jpeg_with_gps(), "Un chat", "0.5,-0.25")
    assert media.account_id == alice.id and media.status_id is None
    assert media.type is MediaType.IMAGE and media.mime_type == "image/jpeg"
    assert (media.width, media.height, media.description) == (300, 200, "Un chat")
    assert (media.focus_x, media.focus_y) == (0.5, -0.25)
    assert media.blurhash and len(media.blurhash) == 36
    assert media.file_name and media_service.FILE_NAME.match(media.file_name)
    assert media.thumbnail_name and media.thumbnail_name != media.file_name
    assert _files(svc) == sorted([media.file_name, media.thumbnail_name])
    stored = (svc.config.media_path / media.file_name).read_bytes()
    assert len(stored) == media.size and samples.has_metadata(stored) == []
    found = await media_service.stored_file(svc, media.file_name)
    assert found is not None and found.mime_type == "image/jpeg"
    preview = await media_service.stored_file(svc, media.thumbnail_name)
    assert preview is not None and preview.mime_type == "image/jpeg"


@pytest.mark.parametrize(("data", "description", "focus"), [
    (samples.HTML, None, None),
    (samples.SVG, "", ""),
    (b"\x89PNG" + b"\x00" * IMAGE_SIZE_LIMIT, None, None),
    (samples.png_with_metadata(), "x" * 1501, None),
    (samples.png_with_metadata(), "nul\x00", None),
    (samples.png_with_metadata(), None, "2,0"),
    (samples.png_with_metadata(), None, "0.5"),
    (samples.png_with_metadata(), None, "nan,0"),
    (samples.png_with_metadata(), None, "a,b"),
])
async def test_a_refused_upload_stores_nothing(svc: Services, data: bytes,
                                               description: str | None,
                                               focus: str | None) -> None:
    alice = (await make_user(svc, "alice")).account
    with pytest.raises(Invalid):
        await media_service.upload(svc, alice, data, description, focus)
    assert await _rows(svc) == 0
    assert _files(svc) == []


async def test_a_failed_record_removes_the_files(svc: Services) -> None:
    ghost = Account(id=999, username="ghost", domain=None, actor_uri="http://a.test/users/g",
                    actor_type="Person", display_name="", note="", locked=False, bot=False,
                    discoverable=False, created_at=datetime.now(UTC))
    with pytest.raises(Exception, match="FOREIGN KEY"):  # no such account: the insert fails
        await media_service.upload(svc, ghost, samples.png_with_metadata())
    assert await _rows(svc) == 0 and _files(svc) == []


async def test_get_update_delete_only_own_unattached_uploads(svc: Services) -> None:
    alice = (await make_user(svc, "alice")).account
    bob = (await make_user(svc, "bob")).account
    media = await media_service.upload(svc, alice, samples.png_with_metadata(), "avant")
    assert (await media_service.get_upload(svc, alice, media.id)).id == media.id
    for call in (media_service.get_upload(svc, bob, media.id),
                 media_service.update_upload(svc, bob, media.id, description="pirate"),
                 media_service.delete_upload(svc, bob, media.id),
                 media_service.get_upload(svc, alice, media.id + 1000)):
        with pytest.raises(NotFound):
            await call
    updated = await media_service.update_upload(svc, alice, media.id, focus="-1,1")
    assert (updated.description, updated.focus_x, updated.focus_y) == ("avant", -1.0, 1.0)
    updated = await media_service.update_upload(svc, alice, media.id, description="après")
    assert (updated.description, updated.focus_x) == ("après", -1.0)
    with pytest.raises(Invalid):
        await media_service.update_upload(svc, alice, media.id, description="y" * 2000)
    assert (await media_service.get_upload(svc, alice, media.id)).description == "après"

    status_id = await _status(svc, alice, 1)
    await svc.storage.write(media_store.attach_media, alice.id, [media.id], status_id)
    with pytest.raises(NotFound):  # attached media are read through their status
        await media_service.get_upload(svc, alice, media.id)
    with pytest.raises(Invalid, match="used by a status"):
        await media_service.delete_upload(svc, alice, media.id)
    assert len(_files(svc)) == 2

    other = await media_service.upload(svc, alice, samples.webp())
    await media_service.delete_upload(svc, alice, other.id)
    assert await svc.storage.read(media_store.get_media, other.id) is None
    assert other.file_name not in _files(svc) and len(_files(svc)) == 2


async def test_stored_file_refuses_foreign_names(svc: Services) -> None:
    folder = svc.config.media_path
    planted = "A" * 32 + ".png"  # a well-formed name with a file but no record
    (folder / planted).write_bytes(samples.png_with_metadata())
    for name in (planted, "../fediverse-mu.db", "config.toml", "x.png", "A" * 32 + ".svg",
                 "A" * 32 + ".png/../../config.toml", ""):
        assert await media_service.stored_file(svc, name) is None


async def test_unattached_uploads_are_purged_after_a_day(svc: Services) -> None:
    alice = (await make_user(svc, "alice")).account
    old = await media_service.upload(svc, alice, samples.png_with_metadata())
    kept = await media_service.upload(svc, alice, samples.webp())
    status_id = await _status(svc, alice, 7)
    await svc.storage.write(media_store.attach_media, alice.id, [kept.id], status_id)
    assert await media_service.purge_unattached(svc, timedelta(0)) == 1
    assert await svc.storage.read(media_store.get_media, old.id) is None
    assert _files(svc) == sorted([kept.file_name or "", kept.thumbnail_name or ""])
    assert await media_service.purge_unattached(svc) == 0


# -- what statuses use ----------------------------------------------------------------------------

async def test_attach_media_in_order_and_list_them(svc: Services) -> None:
    alice = (await make_user(svc, "alice")).account
    uploads = [await media_service.upload(svc, alice, samples.png_with_metadata())
               for _ in range(3)]
    first, second = await _status(svc, alice, 10), await _status(svc, alice, 11)
    ids = [uploads[2].id, uploads[0].id, uploads[2].id]  # listed twice: counts once
    attached = await svc.storage.write(media_store.attach_media, alice.id, ids, first)
    assert [m.id for m in attached] == [uploads[2].id, uploads[0].id]
    assert all(m.status_id == first for m in attached)
    # Attaching again to the same status (an edit) is fine and can reorder.
    again = await svc.storage.write(media_store.attach_media, alice.id,
                                    [uploads[0].id, uploads[2].id], first)
    assert [m.position for m in again] == [0, 1]
    listed = await svc.storage.read(media_store.list_media_for_statuses, [first, second, 99])
    assert [m.id for m in listed[first]] == [uploads[0].id, uploads[2].id]
    assert listed[second] == [] and listed[99] == []
    assert await svc.storage.read(media_store.list_media_for_statuses, []) == {}


async def test_attach_media_refusals_change_nothing(svc: Services) -> None:
    alice = (await make_user(svc, "alice")).account
    bob = (await make_user(svc, "bob")).account
    mine = [await media_service.upload(svc, alice, samples.png_with_metadata())
            for _ in range(5)]
    bobs = await media_service.upload(svc, bob, samples.png_with_metadata())
    status_id, other_status = await _status(svc, alice, 20), await _status(svc, alice, 21)
    await svc.storage.write(media_store.attach_media, alice.id, [mine[4].id], other_status)
    cases: list[tuple[list[int], str]] = [
        ([m.id for m in mine[:4]] + [bobs.id], "more than 4"),
        ([mine[0].id, bobs.id], str(bobs.id)),  # someone else's
        ([mine[0].id, 123456], "123456"),  # unknown
        ([mine[0].id, mine[4].id], str(mine[4].id)),  # attached to another status
    ]
    for ids, message in cases:
        with pytest.raises(Invalid, match=message):
            await svc.storage.write(media_store.attach_media, alice.id, ids, status_id)
    listed = await svc.storage.read(media_store.list_media_for_statuses, [status_id])
    assert listed[status_id] == []
    still = await svc.storage.read(media_store.get_media, bobs.id)
    assert still is not None and still.status_id is None
    assert await svc.storage.write(media_store.attach_media, alice.id, [], status_id) == []


async def test_remote_media_are_referenced_by_url(svc: Services) -> None:
    alice = (await make_user(svc, "alice")).account
    status_id = await _status(svc, alice, 30)
    remote = RemoteMedia(url="https://b.example/files/cat.jpg", mime_type="image/jpeg",
                         type=MediaType.IMAGE, description="un chat", blurhash="L00000fQfQfQ"
                         "fQfQfQfQfQfQfQfQ", width=800, height=600, focus_x=0.1,
                         focus_y=-0.2)
    first = await svc.storage.write(media_store.put_remote_media, status_id, alice.id, remote)
    video = RemoteMedia(url="https://b.example/v.mp4", mime_type="video/mp4",
                        type=MediaType.VIDEO)
    second = await svc.storage.write(media_store.put_remote_media, status_id, alice.id, video)
    assert first.is_remote and first.remote_url == remote.url and first.file_name is None
    assert first.url("http://a.test") == first.preview_url("http://a.test") == remote.url
    assert second.preview_url("http://a.test") is None
    assert (first.position, second.position) == (0, 1)
    assert (first.width, first.height, first.aspect) == (800, 600, 800 / 600)
    assert _files(svc) == []  # nothing downloaded
    listed = await svc.storage.read(media_store.list_media_for_statuses, [status_id])
    assert [m.id for m in listed[status_id]] == [first.id, second.id]
    # A remote medium is never one a resident can attach.
    with pytest.raises(Invalid):
        await svc.storage.write(media_store.attach_media, alice.id, [first.id], status_id)
    removed = await svc.storage.write(media_store.delete_media_of_status, status_id)
    assert sorted(m.id for m in removed) == sorted([first.id, second.id])
    await media_service.remove_files(svc, removed)  # no files: nothing to do, no error


def test_focus_parsing() -> None:
    assert media_service.parse_focus(None) is None
    assert media_service.parse_focus(" ") is None
    assert media_service.parse_focus("1,-1") == (1.0, -1.0)
    assert media_service.parse_focus("0.25, 0.5") == (0.25, 0.5)
    for bad in ("1,2", "inf,0", "0,0,0", "x,1", ","):
        with pytest.raises(Invalid):
            media_service.parse_focus(bad)
    assert math.isclose(media_service.parse_focus("-0.5,0.5")[0], -0.5)  # type: ignore[index]

