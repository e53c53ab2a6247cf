"""A group's avatar and header, uploaded by a moderator from the group's settings page:
re-encoded and cropped by the profile image pipeline, shown as the actor's ``icon``/``image``
and in the Mastodon account entity, logged, and sent to members' instances in an Update of the
group actor. Bad images (not an image, too big, empty), an empty form and a non-moderator are
refused with a clear error and change nothing."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from PIL import Image

from fediverse_mu.appkeys import federation_key
from fediverse_mu.domain import Account
from fediverse_mu.domain.groups import GroupAction
from fediverse_mu.services import following, groups
from fediverse_mu.services.context import Services
from tests import media_samples as samples
from tests.conftest import Instance, count, make_user, ok, settle
from tests.web.test_groups_web import hidden, log_in

AS2 = {"Accept": "application/activity+json"}
Start = Callable[..., Awaitable[list[Instance]]]


def _files(svc: Services) -> set[str]:
    folder: Path = svc.config.media_path
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


async def _upload(client: TestClient, **files: bytes) -> aiohttp.ClientResponse:
    token = hidden(await (await client.get("/groups/ecoute/settings")).text())["csrf_token"]
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    for name, data in files.items():
        form.add_field(name, data, filename=f"{name}.jpg", content_type="image/jpeg")
    return await client.post("/groups/ecoute/images", data=form, allow_redirects=False)


async def _state(client: TestClient, svc: Services, group_id: int) -> tuple[Any, ...]:
    entity = await ok(await client.get(f"/api/v1/accounts/{group_id}"))
    actor = await ok(await client.get("/users/ecoute", headers=AS2))
    return (entity["avatar"], entity["header"], actor["icon"], actor.get("image"),
            await count(svc, "SELECT count(*) FROM media_attachments"), _files(svc),
            await count(svc, "SELECT count(*) FROM group_log"))


async def _setup(svc: Services) -> tuple[Account, int]:
    alice = (await make_user(svc, "alice")).account
    await make_user(svc, "anna")
    group = await groups.create_group(svc, "ecoute", title="Écoute", creator=alice)
    return alice, group.account.id


async def test_a_moderator_uploads_the_groups_avatar_and_header(
        client: TestClient, svc: Services, assert_schema: Any) -> None:
    alice, group_id = await _setup(svc)
    await log_in(client, "alice")
    page = await (await client.get("/groups/ecoute/settings")).text()
    assert 'enctype="multipart/form-data"' in page and "Avatar et bannière" in page

    response = await _upload(client, avatar=samples.jpeg_with_gps(600, 300),
                             header=samples.jpeg_with_gps(900, 900))
    assert response.status == 303, await response.text()
    entity = await ok(await client.get(f"/api/v1/accounts/{group_id}"))
    assert_schema(entity, "Account")
    assert "/media/" in entity["avatar"] and "/media/" in entity["header"]
    actor = await ok(await client.get("/users/ecoute", headers=AS2))
    assert actor["type"] == "Group"
    assert actor["icon"] == {"type": "Image", "mediaType": "image/jpeg",
                             "url": entity["avatar"]}
    assert actor["image"] == {"type": "Image", "mediaType": "image/jpeg",
                              "url": entity["header"]}
    path = "/" + entity["avatar"].split("://", 1)[1].split("/", 1)[1]
    avatar = await (await client.get(path)).read()
    assert Image.open(io.BytesIO(avatar)).size == (400, 400)
    assert samples.has_metadata(avatar) == []  # the GPS position is gone
    assert entity["avatar"] in await (await client.get("/groups/ecoute/settings")).text()
    group = await groups.get_group(svc, "ecoute")
    log = await groups.moderation_log(svc, alice, group)
    assert log[0].action is GroupAction.SETTINGS and log[0].detail == "avatar, header"

    # A new avatar replaces the old one (its files go); the header stays.
    old_files = _files(svc)
    assert (await _upload(client, avatar=samples.webp(500, 500))).status == 303
    again = await ok(await client.get(f"/api/v1/accounts/{group_id}"))
    assert again["avatar"] != entity["avatar"] and again["header"] == entity["header"]
    assert entity["avatar"].rsplit("/", 1)[1] not in _files(svc)
    assert len(_files(svc)) == len(old_files)
    assert await count(svc, "SELECT count(*) FROM media_attachments"
                       " WHERE profile_image IS NOT NULL") == 2


async def test_bad_images_change_nothing(client: TestClient, svc: Services) -> None:
    _, group_id = await _setup(svc)
    await log_in(client, "alice")
    assert (await _upload(client, avatar=samples.jpeg_with_gps())).status == 303
    before = await _state(client, svc, group_id)
    cases: list[tuple[dict[str, bytes], str]] = [
        ({"avatar": samples.HTML}, "avatar"),  # a fake: HTML named avatar.jpg
        ({"header": samples.SVG}, "header"),
        ({"avatar": b"\xff\xd8\xff" + b"\x00" * (8 * 1024 * 1024)}, "8 MB"),  # too big
        ({"avatar": samples.png_bomb(20_000, 20_000)}, "avatar"),
        ({"header": samples.jpeg_with_gps(), "avatar": samples.HTML}, "avatar"),
        ({}, "choose an avatar or a header"),  # nothing chosen
    ]
    for files, message in cases:
        response = await _upload(client, **files)
        text = await response.text()
        assert response.status == 422, (files.keys(), text)
        assert message in text and 'role="alert"' in text
        assert await _state(client, svc, group_id) == before
    assert await count(svc, "SELECT count(*) FROM jobs WHERE kind = 'deliver'") == 0

    # Someone who is not a moderator cannot, whatever the image.
    await client.post("/logout", data={"csrf_token": hidden(
        await (await client.get("/")).text())["csrf_token"]})
    await log_in(client, "anna")
    form = aiohttp.FormData()
    form.add_field("csrf_token", hidden(await (await client.get("/groups/ecoute")).text()).get(
        "csrf_token", ""))
    form.add_field("avatar", samples.jpeg_with_gps(), filename="a.jpg",
                   content_type="image/jpeg")
    response = await client.post("/groups/ecoute/images", data=form, allow_redirects=False)
    assert response.status == 403
    assert await _state(client, svc, group_id) == before


async def test_members_instances_get_the_new_avatar(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    group = await groups.create_group(a.svc, "ecoute", title="Écoute", creator=alice)
    remote_group = await b.app[federation_key].resolve_handle("ecoute@a.test")
    await following.follow(b.svc, bob, remote_group)
    await settle(a, b)
    updated = await groups.update_images(a.svc, alice, group,
                                         {"avatar": samples.jpeg_with_gps()})
    assert updated.account.avatar_url is not None
    await settle(a, b)
    seen = await b.app[federation_key].fetch_actor(remote_group.actor_uri)
    assert seen.avatar_url == updated.account.avatar_url
