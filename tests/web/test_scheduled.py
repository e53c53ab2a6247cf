"""Scheduled statuses on a hand-moved clock: scheduling (with media and a poll), listing,
reading, moving and cancelling; the durable job publishing at the time, once, and never
before; refusals that schedule nothing (too soon, malformed, invalid text, someone else's id);
the uploads kept from the purge meanwhile; and Mastodon.py over a real socket."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from PIL import Image

from fediverse_mu.appkeys import services_key, worker_key
from fediverse_mu.services import media as media_service
from fediverse_mu.services.context import Services
from tests.conftest import FakeClock, RealServer, auth, count, login, make_token, make_user, ok


def _at(clock: FakeClock, minutes: float) -> str:
    return datetime.fromtimestamp(clock() + minutes * 60, UTC).isoformat().replace(
        "+00:00", "Z")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


async def _published(svc: Services) -> int:
    return await count(svc, "SELECT count(*) FROM statuses")


async def test_schedule_publish_move_and_cancel(clocked: TestClient, clock: FakeClock,
                                                assert_schema: Any) -> None:
    svc: Services = clocked.app[services_key]
    worker = clocked.app[worker_key]
    alice = await make_token(svc, "alice")
    me = await ok(await clocked.get("/api/v1/accounts/verify_credentials", headers=auth(alice)))
    mine = f"/api/v1/accounts/{me['id']}/statuses"
    form = aiohttp.FormData()
    form.add_field("file", _png(), filename="a.png", content_type="image/png")
    media = await ok(await clocked.post("/api/v2/media", data=form, headers=auth(alice)))

    item = await ok(await clocked.post("/api/v1/statuses", headers=auth(alice), json={
        "status": "Rappel : marché demain", "media_ids": [media["id"]],
        "scheduled_at": _at(clock, 10), "visibility": "unlisted", "language": "fr"}))
    assert_schema(item, "ScheduledStatus")
    assert item["params"]["text"] == "Rappel : marché demain"
    assert item["params"]["visibility"] == "unlisted"
    assert item["params"]["media_ids"] == [media["id"]]
    assert [m["id"] for m in item["media_attachments"]] == [media["id"]]
    polled = await ok(await clocked.post("/api/v1/statuses", headers=auth(alice), json={
        "status": "Sondage du lundi", "scheduled_at": _at(clock, 60),
        "poll": {"options": ["Oui", "Non"], "expires_in": 600}}))
    assert_schema(polled, "ScheduledStatus")
    assert polled["params"]["poll"]["options"] == ["Oui", "Non"]
    assert await _published(svc) == 0

    listed = await ok(await clocked.get("/api/v1/scheduled_statuses", headers=auth(alice)))
    assert [x["id"] for x in listed] == [polled["id"], item["id"]]
    one = await ok(await clocked.get(f"/api/v1/scheduled_statuses/{item['id']}",
                                     headers=auth(alice)))
    assert one == item

    # Kept from the purge of stale uploads while waiting.
    assert await media_service.purge_unattached(svc, timedelta(0)) == 0

    # Not before its time; then once.
    clock.advance(5 * 60)
    await worker.run_until_idle()
    assert await _published(svc) == 0
    clock.advance(6 * 60)
    await worker.run_until_idle()
    home = await ok(await clocked.get(mine, headers=auth(alice)))
    assert len(home) == 1 and "marché demain" in home[0]["content"]
    assert home[0]["visibility"] == "unlisted" and home[0]["language"] == "fr"
    assert [m["id"] for m in home[0]["media_attachments"]] == [media["id"]]
    await worker.run_until_idle()
    assert await _published(svc) == 1
    remaining = await ok(await clocked.get("/api/v1/scheduled_statuses", headers=auth(alice)))
    assert [x["id"] for x in remaining] == [polled["id"]]
    gone = await clocked.get(f"/api/v1/scheduled_statuses/{item['id']}", headers=auth(alice))
    assert gone.status == 404

    # Moved later: nothing at the first time, published at the second.
    moved = await ok(await clocked.put(f"/api/v1/scheduled_statuses/{polled['id']}",
                                       json={"scheduled_at": _at(clock, 120)},
                                       headers=auth(alice)))
    assert moved["scheduled_at"] != polled["scheduled_at"]
    clock.advance(60 * 60)
    await worker.run_until_idle()
    assert await _published(svc) == 1
    clock.advance(61 * 60)
    await worker.run_until_idle()
    assert await _published(svc) == 2
    statuses = await ok(await clocked.get(mine, headers=auth(alice)))
    assert statuses[0]["poll"]["options"][0]["title"] == "Oui"

    # Cancelled: never published.
    late = await ok(await clocked.post("/api/v1/statuses", headers=auth(alice), json={
        "status": "Jamais", "scheduled_at": _at(clock, 30)}))
    await ok(await clocked.delete(f"/api/v1/scheduled_statuses/{late['id']}",
                                  headers=auth(alice)))
    clock.advance(31 * 60)
    await worker.run_until_idle()
    assert await _published(svc) == 2
    assert await ok(await clocked.get("/api/v1/scheduled_statuses",
                                      headers=auth(alice))) == []


async def test_bad_schedules_change_nothing(clocked: TestClient, clock: FakeClock) -> None:
    svc: Services = clocked.app[services_key]
    alice, eve = await make_token(svc, "alice"), await make_token(svc, "eve")
    for body in ({"status": "trop tôt", "scheduled_at": _at(clock, 4)},
                 {"status": "passé", "scheduled_at": _at(clock, -60)},
                 {"status": "?", "scheduled_at": "demain matin"},
                 {"status": "?", "scheduled_at": "2027-13-45T99:00:00Z"},
                 {"status": "x" * 501, "scheduled_at": _at(clock, 10)},
                 {"status": "", "scheduled_at": _at(clock, 10)},
                 {"status": "?", "scheduled_at": _at(clock, 10), "media_ids": ["424242"]},
                 {"status": "?", "scheduled_at": _at(clock, 10),
                  "poll": {"options": ["seul"], "expires_in": 600}}):
        response = await clocked.post("/api/v1/statuses", json=body, headers=auth(alice))
        assert response.status == 422, body
        assert "error" in await response.json()
    assert await count(svc, "SELECT count(*) FROM scheduled_statuses") == 0
    assert await count(svc, "SELECT count(*) FROM jobs") == 0
    assert await _published(svc) == 0

    item = await ok(await clocked.post("/api/v1/statuses", headers=auth(alice), json={
        "status": "Le mien", "scheduled_at": _at(clock, 30)}))
    path = f"/api/v1/scheduled_statuses/{item['id']}"
    for method, body in (("GET", None), ("PUT", {"scheduled_at": _at(clock, 60)}),
                         ("DELETE", None)):
        response = await clocked.request(method, path, json=body, headers=auth(eve))
        assert response.status == 404
    for body in ({"scheduled_at": _at(clock, 2)}, {"scheduled_at": "bientôt"}, {}):
        response = await clocked.put(path, json=body, headers=auth(alice))
        assert response.status == 422, body
    assert await ok(await clocked.get(path, headers=auth(alice))) == item
    assert (await clocked.get("/api/v1/scheduled_statuses")).status == 401


async def test_mastodon_py_scheduled(real_server: RealServer) -> None:
    await make_user(real_server.svc, "alice")
    base = real_server.base_url

    def flow() -> tuple[Any, Any, Any, Any]:
        api = login(base, "alice")
        when = datetime.now(UTC) + timedelta(hours=2)
        item = api.status_post("Plus tard", scheduled_at=when)
        listed = api.scheduled_statuses()
        moved = api.scheduled_status_update(item, when + timedelta(hours=1))
        api.scheduled_status_delete(item)
        return item, listed, moved, api.scheduled_statuses()

    item, listed, moved, after = await asyncio.to_thread(flow)
    assert item["params"]["text"] == "Plus tard"
    assert [x["id"] for x in listed] == [item["id"]]
    assert moved["scheduled_at"] > item["scheduled_at"]
    assert after == []
