"""Avatars, headers and profile fields: uploads through ``update_credentials`` (re-encoded,
cropped, EXIF gone, kept out of the purge of stale uploads and out of statuses), refusals that
change nothing, the AS2 actor's ``icon``/``image``/``PropertyValue`` attachments, remote actors'
pictures and fields (parsed, validated, sanitised, shown by URL) across two instances, and
Mastodon.py end to end."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from PIL import Image

from fediverse_mu.activitypub.actors import parse_actor
from fediverse_mu.appkeys import federation_key
from fediverse_mu.domain.profiles import ProfileField, ProfileUpdate
from fediverse_mu.services import accounts, following, profiles
from fediverse_mu.services import media as media_service
from fediverse_mu.services.context import Services
from tests import media_samples as samples
from tests.conftest import RealServer, auth, count, login, make_token, make_user, ok, settle


def _form(**parts: Any) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in parts.items():
        if isinstance(value, bytes):
            form.add_field(name, value, filename=f"{name}.jpg", content_type="image/jpeg")
        else:
            form.add_field(name, str(value))
    return form


async def _patch(client: TestClient, token: str, status: int = 200, **parts: Any) -> Any:
    return await ok(await client.patch("/api/v1/accounts/update_credentials",
                                       data=_form(**parts), headers=auth(token)), status)


async def _fetch(client: TestClient, url: str) -> bytes:
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = await client.get("/" + path)
    assert response.status == 200
    return await response.read()


def _files(svc: Services) -> set[str]:
    folder: Path = svc.config.media_path
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


async def test_avatar_and_header_are_cleaned_cropped_and_kept(
        client: TestClient, svc: Services, assert_schema: Any) -> None:
    token = await make_token(svc, "alice")
    me = await _patch(client, token, avatar=samples.jpeg_with_gps(600, 300),
                      header=samples.jpeg_with_gps(900, 900), display_name="Alice")
    assert_schema(me, "CredentialAccount")
    assert me["display_name"] == "Alice"
    assert "/media/" in me["avatar"] and me["avatar"] == me["avatar_static"]
    assert "/media/" in me["header"] and me["header"] == me["header_static"]
    avatar = await _fetch(client, me["avatar"])
    header = await _fetch(client, me["header"])
    assert Image.open(io.BytesIO(avatar)).size == (400, 400)
    assert Image.open(io.BytesIO(header)).size == (1500, 500)
    for data in (avatar, header):
        assert samples.has_metadata(data) == []
        assert samples.SECRET.encode() not in data

    # Seen by others too, as an Account entity.
    other = await make_token(svc, "bob")
    entity = await ok(await client.get(f"/api/v1/accounts/{me['id']}", headers=auth(other)))
    assert_schema(entity, "Account")
    assert (entity["avatar"], entity["header"]) == (me["avatar"], me["header"])

    # Profile images are no stale uploads: the purge leaves them, statuses cannot take them.
    assert await media_service.purge_unattached(svc, timedelta(0)) == 0
    ids = [r["id"] for r in await svc.storage.read(lambda db: db.execute(
        "SELECT id FROM media_attachments").fetchall())]
    refused = await client.post("/api/v1/statuses", json={"status": "x", "media_ids": [
        str(ids[0])]}, headers=auth(token))
    assert refused.status == 422
    assert await count(svc, "SELECT count(*) FROM statuses") == 0
    deleted = await client.delete(f"/api/v1/media/{ids[0]}", headers=auth(token))
    assert deleted.status in (404, 422)
    assert await count(svc, "SELECT count(*) FROM media_attachments") == 2

    # A new avatar replaces the old one, whose files go; the header stays.
    before = _files(svc)
    again = await _patch(client, token, avatar=samples.png_with_metadata(50, 50, alpha=True))
    assert again["avatar"] != me["avatar"] and again["header"] == me["header"]
    assert Image.open(io.BytesIO(await _fetch(client, again["avatar"]))).size == (400, 400)
    assert await count(svc, "SELECT count(*) FROM media_attachments") == 2
    old_name = me["avatar"].rsplit("/", 1)[1]
    assert old_name in before and old_name not in _files(svc)
    assert (await client.get(f"/media/{old_name}")).status == 404


async def test_default_pictures_without_uploads(client: TestClient, svc: Services) -> None:
    token = await make_token(svc, "alice")
    me = await ok(await client.get("/api/v1/accounts/verify_credentials", headers=auth(token)))
    assert me["avatar"].endswith("/static/avatar.png")
    assert me["header"].endswith("/static/header.png")
    actor = await ok(await client.get("/users/alice",
                                      headers={"Accept": "application/activity+json"}))
    assert actor["icon"]["url"].endswith("/static/avatar.png")
    assert "image" not in actor


async def test_bad_images_change_nothing(client: TestClient, svc: Services) -> None:
    token = await make_token(svc, "alice")
    await _patch(client, token, display_name="Alice")
    fake = samples.HTML
    cases: list[dict[str, Any]] = [
        {"avatar": fake},
        {"header": samples.SVG},
        {"avatar": b""},
        {"avatar": b"\xff\xd8\xff" + b"\x00" * (8 * 1024 * 1024)},  # over the 8 MB cap
        {"avatar": samples.png_bomb(20_000, 20_000)},
        # A good avatar with a bad field: the whole change is refused, the avatar too.
        {"avatar": samples.jpeg_with_gps(), "display_name": "x" * 31},
        {"avatar": samples.jpeg_with_gps(), "header": fake},
    ]
    for parts in cases:
        before = _files(svc)
        body = await _patch(client, token, 422, **parts)
        assert "error" in body
        me = await ok(await client.get("/api/v1/accounts/verify_credentials",
                                       headers=auth(token)))
        assert me["display_name"] == "Alice"
        assert me["avatar"].endswith("/static/avatar.png")
        assert me["header"].endswith("/static/header.png")
        assert await count(svc, "SELECT count(*) FROM media_attachments") == 0
        assert _files(svc) == before
    assert await count(svc, "SELECT count(*) FROM jobs WHERE kind = 'deliver'") == 0


async def test_actor_document_has_pictures_and_fields(client: TestClient,
                                                      svc: Services) -> None:
    token = await make_token(svc, "alice")
    form = _form(avatar=samples.jpeg_with_gps(), header=samples.jpeg_with_gps())
    form.add_field("fields_attributes[0][name]", "Site")
    form.add_field("fields_attributes[0][value]", "https://example.test/alice")
    form.add_field("fields_attributes[1][name]", "Ville")
    form.add_field("fields_attributes[1][value]", "Lyon <b>centre</b>")
    me = await ok(await client.patch("/api/v1/accounts/update_credentials", data=form,
                                     headers=auth(token)))
    actor = await ok(await client.get("/users/alice",
                                      headers={"Accept": "application/activity+json"}))
    assert actor["icon"] == {"type": "Image", "mediaType": "image/jpeg", "url": me["avatar"]}
    assert actor["image"] == {"type": "Image", "mediaType": "image/jpeg", "url": me["header"]}
    values = {a["name"]: a["value"] for a in actor["attachment"]}
    assert [a["type"] for a in actor["attachment"]] == ["PropertyValue"] * 2
    assert 'href="https://example.test/alice"' in values["Site"]
    assert values["Ville"] == "Lyon &lt;b&gt;centre&lt;/b&gt;"


PEM = "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----"


def _remote_actor(**extra: Any) -> dict[str, Any]:
    return {"id": "https://b.test/users/bob", "type": "Person", "preferredUsername": "bob",
            "inbox": "https://b.test/users/bob/inbox",
            "publicKey": {"id": "https://b.test/users/bob#main-key",
                          "owner": "https://b.test/users/bob",
                          "publicKeyPem": PEM},
            **extra}


def test_remote_pictures_and_fields_are_validated_and_sanitised() -> None:
    actor = parse_actor(_remote_actor(
        icon={"type": "Image", "url": "https://cdn.b.test/a.png"},
        image=[{"type": "Image", "url": {"type": "Link", "href": "https://cdn.b.test/h.jpg"}}],
        attachment=[
            {"type": "PropertyValue", "name": "Site <i>web</i>",
             "value": '<a href="https://b.test" onclick="x()">b.test</a><script>x()</script>'},
            {"type": "PropertyValue", "name": "", "value": "nameless"},
            {"type": "IdentityProof", "name": "keybase", "value": "x"},
            "junk", *[{"type": "PropertyValue", "name": f"n{i}", "value": "v"}
                      for i in range(40)],
        ]), fetched_from="https://b.test/users/bob")
    assert actor.icon_url == "https://cdn.b.test/a.png"
    assert actor.image_url == "https://cdn.b.test/h.jpg"
    name, value = actor.fields[0]
    assert name == "Site web"
    assert "onclick" not in value and "<script" not in value and "b.test</a>" in value
    assert len(actor.fields) == 16
    for bad in ("javascript:alert(1)", "data:image/png;base64,AAAA", 'https://x"><script>',
                "//cdn.b.test/a.png", 42, {"url": None}):
        parsed = parse_actor(_remote_actor(icon={"type": "Image", "url": bad}, image=bad),
                             fetched_from="https://b.test/users/bob")
        assert parsed.icon_url is None and parsed.image_url is None


async def test_remote_avatar_and_fields_across_instances(instances: Any) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    await profiles.update_profile(
        b.svc, bob, ProfileUpdate(fields=(ProfileField("Site", "https://b.test/~bob"),)),
        {"avatar": samples.jpeg_with_gps()})
    remote_bob = await a.app[federation_key].resolve_handle("bob@b.test")
    assert remote_bob is not None
    assert remote_bob.avatar_url is not None and \
        remote_bob.avatar_url.startswith("http://b.test/media/")
    fields = await profiles.fields_of(a.svc, [remote_bob])
    assert fields[remote_bob.id][0].name == "Site"
    assert 'href="https://b.test/~bob"' in fields[remote_bob.id][0].value

    # alice follows bob; bob's new header reaches a.test in an Update of the actor.
    await following.follow(a.svc, alice, remote_bob)
    await settle(a, b)
    bob_now = await accounts.get_account_by_uri(b.svc, bob.actor_uri)
    assert bob_now is not None
    await profiles.update_profile(b.svc, bob_now, ProfileUpdate(),
                                  {"header": samples.jpeg_with_gps()})
    await settle(a, b)
    status, entity = await a.get_json(f"/api/v1/accounts/{remote_bob.id}")
    assert status == 200
    assert entity["header"].startswith("http://b.test/media/")
    assert entity["avatar"] == remote_bob.avatar_url
    assert entity["fields"][0]["name"] == "Site"


async def test_mastodon_py_updates_avatar(real_server: RealServer) -> None:
    await make_user(real_server.svc, "alice")
    base = real_server.base_url

    def flow() -> dict[str, Any]:
        api = login(base, "alice")
        return dict(api.account_update_credentials(
            avatar=samples.jpeg_with_gps(), avatar_mime_type="image/jpeg",
            header=samples.webp(300, 300), header_mime_type="image/webp", note="Bonjour"))

    me = await asyncio.to_thread(flow)
    assert "/media/" in me["avatar"] and "/media/" in me["header"]
    assert me["source"]["note"] == "Bonjour"
