"""The Mastodon status and timeline endpoints, with raw requests: posting, threads,
favourites, boosts, bookmarks, pins, edits with history, deletes, timelines and pagination,
each response checked against the OpenAPI shapes, and the bad inputs that change nothing."""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Callable
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient
from PIL import Image

from fediverse_mu.services import housekeeping
from fediverse_mu.services.context import Services
from tests.conftest import auth as _auth
from tests.conftest import make_token
from tests.conftest import post as _post


async def test_post_and_read_a_status(client: TestClient, svc: Services,
                                      assert_schema: Callable[[Any, str], None]) -> None:
    alice = await make_token(svc, "alice")
    await make_token(svc, "bob")
    status = await _post(client, alice, status="Salut @bob, le #Marché est calme https://ex.org",
                         spoiler_text="", language="fr")
    assert_schema(status, "Status")
    assert status["account"]["username"] == "alice"
    assert status["visibility"] == "public"
    assert [m["acct"] for m in status["mentions"]] == ["bob"]
    assert [t["name"] for t in status["tags"]] == ["marché"]
    assert 'class="u-url mention"' in status["content"]
    assert 'href="https://ex.org"' in status["content"]
    assert status["uri"].endswith(f"/users/alice/statuses/{status['id']}")

    response = await client.get(f"/api/v1/statuses/{status['id']}")
    assert response.status == 200
    assert (await response.json())["id"] == status["id"]

    public = await (await client.get("/api/v1/timelines/public")).json()
    assert [s["id"] for s in public] == [status["id"]]
    tagged = await (await client.get("/api/v1/timelines/tag/MARCHÉ")).json()
    assert [s["id"] for s in tagged] == [status["id"]]


async def test_home_timeline_and_mentions(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    first = await _post(client, alice, status="premier")
    mention = await _post(client, alice, status="@bob tu viens ?", visibility="direct")
    home_bob = await (await client.get("/api/v1/timelines/home", headers=_auth(bob))).json()
    assert [s["id"] for s in home_bob] == [mention["id"]]  # bob follows nobody: only the DM
    home_alice = await (await client.get("/api/v1/timelines/home",
                                         headers=_auth(alice))).json()
    assert [s["id"] for s in home_alice] == [mention["id"], first["id"]]
    # A direct status is invisible to others and absent from public timelines.
    carol = await make_token(svc, "carol")
    hidden = await client.get(f"/api/v1/statuses/{mention['id']}", headers=_auth(carol))
    assert hidden.status == 404
    public = await (await client.get("/api/v1/timelines/public")).json()
    assert mention["id"] not in [s["id"] for s in public]


async def test_thread_favourite_boost_bookmark_pin(
        client: TestClient, svc: Services, assert_schema: Callable[[Any, str], None]) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    root = await _post(client, alice, status="racine")
    reply = await _post(client, bob, status="@alice réponse", in_reply_to_id=root["id"])
    assert reply["in_reply_to_id"] == root["id"]
    context = await (await client.get(f"/api/v1/statuses/{root['id']}/context")).json()
    assert_schema(context, "Context")
    assert [s["id"] for s in context["descendants"]] == [reply["id"]]
    context = await (await client.get(f"/api/v1/statuses/{reply['id']}/context")).json()
    assert [s["id"] for s in context["ancestors"]] == [root["id"]]

    fav = await client.post(f"/api/v1/statuses/{root['id']}/favourite", headers=_auth(bob))
    body = await fav.json()
    assert body["favourited"] is True and body["favourites_count"] == 1
    boost = await (await client.post(f"/api/v1/statuses/{root['id']}/reblog",
                                     headers=_auth(bob))).json()
    assert_schema(boost, "Status")
    assert boost["reblog"]["id"] == root["id"] and boost["reblog"]["reblogged"] is True
    by = await (await client.get(f"/api/v1/statuses/{root['id']}/reblogged_by")).json()
    assert [a["username"] for a in by] == ["bob"]
    by = await (await client.get(f"/api/v1/statuses/{root['id']}/favourited_by")).json()
    assert [a["username"] for a in by] == ["bob"]
    again = await (await client.post(f"/api/v1/statuses/{root['id']}/reblog",
                                     headers=_auth(bob))).json()
    assert again["id"] == boost["id"]  # boosting twice is the same boost

    await client.post(f"/api/v1/statuses/{root['id']}/bookmark", headers=_auth(bob))
    marks = await (await client.get("/api/v1/bookmarks", headers=_auth(bob))).json()
    assert [s["id"] for s in marks] == [root["id"]]
    favs = await (await client.get("/api/v1/favourites", headers=_auth(bob))).json()
    assert [s["id"] for s in favs] == [root["id"]]

    pinned = await (await client.post(f"/api/v1/statuses/{root['id']}/pin",
                                      headers=_auth(alice))).json()
    assert pinned["pinned"] is True
    account_id = root["account"]["id"]
    pins = await (await client.get(f"/api/v1/accounts/{account_id}/statuses?pinned=true")
                  ).json()
    assert [s["id"] for s in pins] == [root["id"]]
    not_mine = await client.post(f"/api/v1/statuses/{root['id']}/pin", headers=_auth(bob))
    assert not_mine.status == 403

    undone = await (await client.post(f"/api/v1/statuses/{root['id']}/unreblog",
                                      headers=_auth(bob))).json()
    assert undone["id"] == root["id"] and undone["reblogged"] is False
    undone = await (await client.post(f"/api/v1/statuses/{root['id']}/unfavourite",
                                      headers=_auth(bob))).json()
    assert undone["favourited"] is False and undone["favourites_count"] == 0


async def test_edit_keeps_history_and_delete_returns_source(
        client: TestClient, svc: Services, assert_schema: Callable[[Any, str], None]) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    status = await _post(client, alice, status="version une")
    edited = await client.put(f"/api/v1/statuses/{status['id']}",
                              json={"status": "version deux", "spoiler_text": "cw"},
                              headers=_auth(alice))
    body = await edited.json()
    assert edited.status == 200 and "version deux" in body["content"]
    assert body["edited_at"] is not None and body["spoiler_text"] == "cw"
    history = await (await client.get(f"/api/v1/statuses/{status['id']}/history")).json()
    assert ["une" in h["content"] for h in history] == [True, False]
    for item in history:
        assert_schema(item, "StatusEdit")
    source = await (await client.get(f"/api/v1/statuses/{status['id']}/source",
                                     headers=_auth(alice))).json()
    assert source["text"] == "version deux"

    forbidden = await client.put(f"/api/v1/statuses/{status['id']}", json={"status": "pirate"},
                                 headers=_auth(bob))
    assert forbidden.status == 403
    refused = await client.delete(f"/api/v1/statuses/{status['id']}", headers=_auth(bob))
    assert refused.status == 403
    still = await (await client.get(f"/api/v1/statuses/{status['id']}")).json()
    assert "version deux" in still["content"]

    deleted = await client.delete(f"/api/v1/statuses/{status['id']}", headers=_auth(alice))
    assert deleted.status == 200
    assert (await deleted.json())["text"] == "version deux"
    gone = await client.get(f"/api/v1/statuses/{status['id']}")
    assert gone.status == 404


async def test_pagination_with_link_header(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    ids = [(await _post(client, alice, status=f"n°{i}"))["id"] for i in range(5)]
    response = await client.get("/api/v1/timelines/home?limit=2", headers=_auth(alice))
    page = [s["id"] for s in await response.json()]
    assert page == ids[::-1][:2]
    assert 'rel="next"' in response.headers["Link"]
    older = await (await client.get(f"/api/v1/timelines/home?limit=2&max_id={page[-1]}",
                                    headers=_auth(alice))).json()
    assert [s["id"] for s in older] == ids[::-1][2:4]
    newer = await (await client.get(f"/api/v1/timelines/home?limit=2&min_id={ids[0]}",
                                    headers=_auth(alice))).json()
    assert [s["id"] for s in newer] == [ids[2], ids[1]]
    since = await (await client.get(f"/api/v1/timelines/home?limit=2&since_id={ids[0]}",
                                    headers=_auth(alice))).json()
    assert [s["id"] for s in since] == [ids[4], ids[3]]


async def test_idempotency_key_posts_once(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    headers = {**_auth(alice), "Idempotency-Key": "abc"}
    first = await (await client.post("/api/v1/statuses", json={"status": "une fois"},
                                     headers=headers)).json()
    second = await (await client.post("/api/v1/statuses", json={"status": "une fois"},
                                      headers=headers)).json()
    assert first["id"] == second["id"]
    home = await (await client.get("/api/v1/timelines/home", headers=_auth(alice))).json()
    assert len(home) == 1


async def test_bad_statuses_change_nothing(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    reader = await make_token(svc, "reader", scopes="read")
    cases = [
        ({"status": "x" * 501}, 422),
        ({"status": ""}, 422),
        ({"status": "ok", "visibility": "everyone"}, 422),
        ({"status": "ok", "in_reply_to_id": "999999"}, 404),
        ({"status": "ok", "media_ids": ["12345"]}, 422),
        ({"status": "ok", "language": "not a language"}, 422),
    ]
    for data, expected in cases:
        response = await client.post("/api/v1/statuses", json=data, headers=_auth(alice))
        assert response.status == expected, (data, await response.text())
        assert "error" in await response.json()
    no_token = await client.post("/api/v1/statuses", json={"status": "ok"})
    assert no_token.status == 401
    no_scope = await client.post("/api/v1/statuses", json={"status": "ok"},
                                 headers=_auth(reader))
    assert no_scope.status == 403
    home = await (await client.get("/api/v1/timelines/home", headers=_auth(alice))).json()
    assert home == []
    assert (await client.get("/api/v1/statuses/123")).status == 404
    assert (await client.get("/api/v1/statuses/abc")).status == 404
    # A link counts as 23 characters: a long URL does not push a post over the limit.
    long_link = "https://example.org/" + "a" * 600
    ok = await client.post("/api/v1/statuses", json={"status": f"voir {long_link}"},
                           headers=_auth(alice))
    assert ok.status == 200


async def test_blocked_and_muted_accounts_leave_the_timelines(client: TestClient,
                                                              svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    carol = await make_token(svc, "carol")
    post = await _post(client, alice, status="bonjour #quartier")
    for token in (bob, carol):
        seen = await (await client.get("/api/v1/timelines/public", headers=_auth(token))).json()
        assert [s["id"] for s in seen] == [post["id"]]
    alice_id = post["account"]["id"]
    assert (await client.post(f"/api/v1/accounts/{alice_id}/block",
                              headers=_auth(bob))).status == 200
    assert (await client.post(f"/api/v1/accounts/{alice_id}/mute",
                              headers=_auth(carol))).status == 200
    for token in (bob, carol):
        for path in ("/api/v1/timelines/public", "/api/v1/timelines/tag/quartier"):
            seen = await (await client.get(path, headers=_auth(token))).json()
            assert seen == [], path
    anonymous = await (await client.get("/api/v1/timelines/public")).json()
    assert [s["id"] for s in anonymous] == [post["id"]]


async def test_followers_who_asked_are_notified_of_each_post(client: TestClient,
                                                             svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    carol = await make_token(svc, "carol")
    first = await _post(client, alice, status="avant")
    alice_id = first["account"]["id"]
    assert (await client.post(f"/api/v1/accounts/{alice_id}/follow", json={"notify": True},
                              headers=_auth(bob))).status == 200
    assert (await client.post(f"/api/v1/accounts/{alice_id}/follow",
                              headers=_auth(carol))).status == 200
    headers = {**_auth(alice), "Idempotency-Key": "k1"}
    post = await (await client.post("/api/v1/statuses", json={"status": "nouveau"},
                                    headers=headers)).json()
    await client.post("/api/v1/statuses", json={"status": "nouveau"}, headers=headers)
    await _post(client, alice, status="en privé @carol", visibility="direct")

    def of_type(items: list[dict[str, Any]], kind: str) -> list[str]:
        return [n["status"]["id"] for n in items if n["type"] == kind]

    bob_notes = await (await client.get("/api/v1/notifications", headers=_auth(bob))).json()
    assert of_type(bob_notes, "status") == [post["id"]]
    carol_notes = await (await client.get("/api/v1/notifications",
                                          headers=_auth(carol))).json()
    assert of_type(carol_notes, "status") == []


async def test_delete_and_redraft_reuses_media_and_housekeeping_purges_leftovers(
        client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    png = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(png, "PNG")

    async def upload() -> str:
        form = FormData()
        form.add_field("file", png.getvalue(), filename="x.png", content_type="image/png")
        response = await client.post("/api/v2/media", data=form, headers=_auth(alice))
        assert response.status == 200, await response.text()
        return str((await response.json())["id"])

    media_id = await upload()
    post = await _post(client, alice, status="avec photo", media_ids=[media_id])
    deleted = await (await client.delete(f"/api/v1/statuses/{post['id']}",
                                         headers=_auth(alice))).json()
    assert [m["id"] for m in deleted["media_attachments"]] == [media_id]
    redraft = await _post(client, alice, status=deleted["text"], media_ids=[media_id])
    assert [m["id"] for m in redraft["media_attachments"]] == [media_id]

    leftover = await upload()
    later = dataclasses.replace(svc, clock=lambda: time.time() + 2 * 86400)
    assert await housekeeping.tidy(later) == {"unattached_media": 1}
    gone = await client.get(f"/api/v1/media/{leftover}", headers=_auth(alice))
    assert gone.status == 404
    kept = await (await client.get(f"/api/v1/statuses/{redraft['id']}")).json()
    assert [m["id"] for m in kept["media_attachments"]] == [media_id]
