"""The Mastodon media API over HTTP: uploads (v1 and v2, multipart), reading, describing and
deleting an upload, scopes and ownership, refusals that store nothing, the stored files served
with a fixed type and no sniffing, and Mastodon.py end to end over a real socket."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from mastodon import Mastodon
from PIL import Image

from fediverse_mu.domain.media import IMAGE_SIZE_LIMIT
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from tests import media_samples as samples
from tests.conftest import RealServer, make_token

Schema = Callable[[Any, str], None]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _form(data: bytes, filename: str = "photo.jpg", content_type: str = "image/jpeg",
          **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=filename, content_type=content_type)
    for name, value in fields.items():
        form.add_field(name, value)
    return form


async def _upload(client: TestClient, token: str, data: bytes, path: str = "/api/v2/media",
                  **kwargs: Any) -> Any:
    return await client.post(path, data=_form(data, **kwargs), headers=_auth(token))


async def _stored(svc: Services) -> tuple[int, list[str]]:
    def count(db: Database) -> int:
        return int(db.execute("SELECT count(*) FROM media_attachments").fetchone()[0])
    folder = svc.config.media_path
    return await svc.storage.read(count), sorted(p.name for p in folder.iterdir())


def _path(url: str) -> str:
    return url.removeprefix("http://a.test")


async def test_upload_v2_returns_the_entity_and_serves_a_clean_file(
        client: TestClient, svc: Services, assert_schema: Schema) -> None:
    token = await make_token(svc, "alice")
    response = await _upload(client, token, samples.jpeg_with_gps(300, 200, orientation=6),
                             description="Le jardin partagé", focus="0.5,-0.5")
    assert response.status == 200, await response.text()
    entity = await response.json()
    assert_schema(entity, "MediaAttachment")
    assert entity["type"] == "image" and entity["description"] == "Le jardin partagé"
    assert entity["url"].startswith("http://a.test/media/") and entity["url"].endswith(".jpg")
    assert entity["preview_url"].startswith("http://a.test/media/")
    assert entity["remote_url"] is None and len(entity["blurhash"]) == 36
    assert entity["meta"]["original"] == {"width": 200, "height": 300, "size": "200x300",
                                          "aspect": 200 / 300}
    assert entity["meta"]["small"]["width"] == 200
    assert entity["meta"]["focus"] == {"x": 0.5, "y": -0.5}

    served = await client.get(_path(entity["url"]))
    assert served.status == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "immutable" in served.headers["Cache-Control"]
    body = await served.read()
    assert samples.has_metadata(body) == []
    with Image.open(io.BytesIO(body)) as image:
        assert image.size == (200, 300)
    preview = await client.get(_path(entity["preview_url"]))
    assert preview.status == 200 and preview.headers["Content-Type"] == "image/jpeg"
    head = await client.head(_path(entity["url"]))
    assert head.status == 200 and int(head.headers["Content-Length"]) == len(body)


async def test_upload_v1_png_and_read_it_back(client: TestClient, svc: Services,
                                              assert_schema: Schema) -> None:
    token = await make_token(svc, "alice", "write:media")
    response = await _upload(client, token, samples.png_with_metadata(alpha=True),
                             "/api/v1/media/", filename="x.png", content_type="image/png")
    assert response.status == 200, await response.text()
    entity = await response.json()
    assert entity["url"].endswith(".png") and entity["description"] is None
    stored = (svc.config.media_path / entity["url"].rsplit("/", 1)[1]).read_bytes()
    assert samples.has_metadata(stored) == []
    got = await client.get(f"/api/v1/media/{entity['id']}", headers=_auth(token))
    assert got.status == 200
    assert await got.json() == entity
    assert_schema(await got.json(), "MediaAttachment")


async def test_the_file_name_and_declared_type_are_ignored(client: TestClient,
                                                           svc: Services) -> None:
    token = await make_token(svc, "alice")
    response = await _upload(client, token, samples.webp(), filename="evil.html",
                             content_type="text/html")
    assert response.status == 200, await response.text()
    entity = await response.json()
    assert entity["url"].endswith(".webp")
    served = await client.get(_path(entity["url"]))
    assert served.headers["Content-Type"] == "image/webp"


async def test_fake_images_are_refused_and_nothing_is_stored(client: TestClient,
                                                             svc: Services) -> None:
    token = await make_token(svc, "alice")
    for data, filename in ((samples.HTML, "cat.png"), (samples.SVG, "cat.png"),
                           (samples.SVG, "cat.svg"), (samples.bmp(), "cat.png"),
                           (samples.png_bomb(5000, 5000), "bomb.png")):
        response = await _upload(client, token, data, filename=filename,
                                 content_type="image/png")
        assert response.status == 422, filename
        assert "error" in await response.json()
    assert await _stored(svc) == (0, [])


async def test_oversized_upload_is_refused_and_nothing_is_stored(client: TestClient,
                                                                 svc: Services) -> None:
    token = await make_token(svc, "alice")
    response = await _upload(client, token, b"\xff\xd8\xff" + b"\x00" * IMAGE_SIZE_LIMIT)
    assert response.status == 422
    assert "16 MB" in (await response.json())["error"]
    assert await _stored(svc) == (0, [])


async def test_malformed_uploads(client: TestClient, svc: Services) -> None:
    token = await make_token(svc, "alice")
    png = samples.png_with_metadata()
    cases: list[Any] = [
        await client.post("/api/v2/media", data={"description": "no file"},
                          headers=_auth(token)),
        await client.post("/api/v2/media", json={"file": "aGVsbG8="}, headers=_auth(token)),
        await _upload(client, token, png, description="x" * 1501),
        await _upload(client, token, png, focus="3,3"),
        await _upload(client, token, png, focus="left"),
    ]
    form = aiohttp.FormData()
    form.add_field("description", io.BytesIO(b"\xff\xfe"), content_type="text/plain")
    form.add_field("file", png, filename="a.png", content_type="image/png")
    cases.append(await client.post("/api/v2/media", data=form, headers=_auth(token)))
    for response in cases:
        assert response.status == 422, await response.text()
        assert "error" in await response.json()
    truncated = (b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\n'
                 + png[:100])
    for content_type, body in (("multipart/form-data", png),
                               ("multipart/form-data; boundary=xyz", b"garbage"),
                               ("multipart/form-data; boundary=xyz", truncated)):
        response = await client.post("/api/v2/media", data=body,
                                     headers={**_auth(token), "Content-Type": content_type})
        assert response.status == 400
        assert (await response.json())["error"] == "The multipart body is malformed"
    assert await _stored(svc) == (0, [])


async def test_a_custom_thumbnail_is_ignored(client: TestClient, svc: Services) -> None:
    token = await make_token(svc, "alice")
    form = _form(samples.png_with_metadata(), "a.png", "image/png")
    form.add_field("thumbnail", samples.HTML, filename="t.png", content_type="image/png")
    response = await client.post("/api/v2/media", data=form, headers=_auth(token))
    assert response.status == 200
    assert len((await _stored(svc))[1]) == 2  # the file and our own preview


async def test_tokens_and_scopes(client: TestClient, svc: Services) -> None:
    reader = await make_token(svc, "alice", "read")
    writer = await make_token(svc, "alice", "write:statuses")
    png = samples.png_with_metadata()
    response = await client.post("/api/v2/media", data=_form(png))
    assert response.status == 401
    response = await client.post("/api/v2/media", data=_form(png),
                                 headers=_auth("not-a-token"))
    assert response.status == 401
    for token in (reader, writer):
        response = await _upload(client, token, png)
        assert response.status == 403
    assert await _stored(svc) == (0, [])
    for method in ("GET", "PUT", "DELETE"):
        response = await client.request(method, "/api/v1/media/1")
        assert response.status == 401


async def test_another_residents_upload_is_not_found(client: TestClient,
                                                     svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    entity = await (await _upload(client, alice, samples.png_with_metadata(),
                                  description="à moi")).json()
    path = f"/api/v1/media/{entity['id']}"
    assert (await client.get(path, headers=_auth(bob))).status == 404
    response = await client.put(path, data={"description": "à bob"}, headers=_auth(bob))
    assert response.status == 404
    assert (await client.delete(path, headers=_auth(bob))).status == 404
    for other in ("/api/v1/media/999999", "/api/v1/media/abc", "/api/v1/media/-1",
                  "/api/v1/media/99999999999999999999999"):
        assert (await client.get(other, headers=_auth(alice))).status == 404
    mine = await (await client.get(path, headers=_auth(alice))).json()
    assert mine["description"] == "à moi"
    assert len((await _stored(svc))[1]) == 2


async def test_update_description_and_focus(client: TestClient, svc: Services,
                                            assert_schema: Schema) -> None:
    token = await make_token(svc, "alice")
    entity = await (await _upload(client, token, samples.png_with_metadata())).json()
    path = f"/api/v1/media/{entity['id']}"
    response = await client.put(path, data={"description": "Un four à pain", "focus": "0,1"},
                                headers=_auth(token))
    assert response.status == 200
    updated = await response.json()
    assert_schema(updated, "MediaAttachment")
    assert updated["description"] == "Un four à pain"
    assert updated["meta"]["focus"] == {"x": 0.0, "y": 1.0}
    assert updated["url"] == entity["url"]
    response = await client.put(path, json={"focus": "-1,-1"}, headers=_auth(token))
    assert (await response.json())["description"] == "Un four à pain"
    for bad in ({"focus": "2,0"}, {"description": "y" * 1501}):
        response = await client.put(path, json=bad, headers=_auth(token))
        assert response.status == 422
    current = await (await client.get(path, headers=_auth(token))).json()
    assert current["meta"]["focus"] == {"x": -1.0, "y": -1.0}
    assert current["description"] == "Un four à pain"


async def test_delete_removes_the_files(client: TestClient, svc: Services) -> None:
    token = await make_token(svc, "alice")
    entity = await (await _upload(client, token, samples.webp())).json()
    path = f"/api/v1/media/{entity['id']}"
    response = await client.delete(path, headers=_auth(token))
    assert response.status == 200
    assert await _stored(svc) == (0, [])
    assert (await client.get(_path(entity["url"]))).status == 404
    assert (await client.delete(path, headers=_auth(token))).status == 404


async def test_file_route_serves_only_our_own_files(client: TestClient, svc: Services) -> None:
    planted = "A" * 32 + ".png"  # on disk but never recorded
    (svc.config.media_path / planted).write_bytes(samples.png_with_metadata())
    for path in (f"/media/{planted}", "/media/unknown.png", "/media/..%2Ffediverse-mu.db",
                 "/media/%2e%2e/config.toml", "/media/../config.toml", "/media/",
                 "/media/" + "B" * 32 + ".svg"):
        response = await client.get(path)
        assert response.status == 404, path


# -- Mastodon.py, end to end over a real socket -------------------------------------------------

async def test_mastodon_py_uploads_describes_and_reads(tmp_path: Path,
                                                       real_server: RealServer) -> None:
    base = real_server.base_url
    svc = real_server.svc
    token = await make_token(svc, "alice", "read write")
    other = await make_token(svc, "bob", "read write")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(samples.jpeg_with_gps(640, 480))

    def client_session() -> tuple[Any, Any, Any, Any]:
        api = Mastodon(access_token=token, api_base_url=base)
        uploaded = api.media_post(str(photo), description="Atelier vélo",
                                  focus=(0.25, -0.75))
        from_bytes = api.media_post(samples.png_with_metadata(), mime_type="image/png")
        updated = api.media_update(uploaded["id"], description="Atelier vélo, samedi")
        again = api.media(uploaded["id"])
        return uploaded, from_bytes, updated, again

    uploaded, from_bytes, updated, again = await asyncio.to_thread(client_session)
    assert uploaded["type"] == "image" and uploaded["description"] == "Atelier vélo"
    assert uploaded["meta"]["original"]["width"] == 640
    assert uploaded["meta"]["focus"]["x"] == 0.25
    assert from_bytes["url"].endswith(".png")
    assert updated["description"] == again["description"] == "Atelier vélo, samedi"

    def stranger() -> int:
        api = Mastodon(access_token=other, api_base_url=base)
        try:
            api.media(uploaded["id"])
        except Exception as exc:  # MastodonNotFoundError
            return int(getattr(exc, "args", [None, 0])[1])
        return 200

    assert await asyncio.to_thread(stranger) == 404

    async with aiohttp.ClientSession() as http, http.get(str(uploaded["url"])) as served:
        assert served.status == 200 and served.content_type == "image/jpeg"
        assert samples.has_metadata(await served.read()) == []
