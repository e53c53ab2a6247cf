"""Streaming of a local group's boosts: a member's post to a local group is relayed in the
post's own transaction, and the group's boost reaches the other members' streams at once:
the ``list`` stream of their (exclusive) group list, or their ``user`` stream when they made
that list non-exclusive. Messages are awaited, never slept for."""

from __future__ import annotations

import json

from aiohttp.test_utils import TestClient

from fediverse_mu.appkeys import worker_key
from fediverse_mu.services import accounts, following, groups
from fediverse_mu.services.context import Services
from tests.conftest import auth, make_token, ok, post
from tests.web.test_streaming import event, synced


async def _group_list(client: TestClient, token: str) -> dict[str, str]:
    found = [lst for lst in await ok(await client.get("/api/v1/lists", headers=auth(token)))
             if lst["title"] == "Écoute"]
    assert len(found) == 1
    return dict(found[0])


async def test_a_local_groups_boost_is_streamed_to_its_members(client: TestClient,
                                                                svc: Services) -> None:
    tokens = {name: await make_token(svc, name) for name in ("alice", "bob", "carol", "dave")}
    alice = await accounts.get_local_account(svc, "alice")
    assert alice is not None
    group = await groups.create_group(svc, "ecoute", title="Écoute", creator=alice)
    for name in ("bob", "carol", "dave"):
        member = await accounts.get_local_account(svc, name)
        assert member is not None
        await following.follow(svc, member, group.account)
    await client.server.app[worker_key].run_until_idle()  # the welcome: each member's list
    bob_list = await _group_list(client, tokens["bob"])
    assert bob_list["exclusive"]
    carol_list = await _group_list(client, tokens["carol"])
    await ok(await client.put(f"/api/v1/lists/{carol_list['id']}", headers=auth(
        tokens["carol"]), json={"title": "Écoute", "exclusive": False}))

    bob = await client.ws_connect("/api/v1/streaming", headers=auth(tokens["bob"]))
    await bob.send_json({"type": "subscribe", "stream": "list", "list": bob_list["id"]})
    await bob.send_json({"type": "subscribe", "stream": "user"})
    await synced(bob)
    carol = await client.ws_connect("/api/v1/streaming?stream=user",
                                    headers=auth(tokens["carol"]))

    status = await post(client, tokens["dave"], status="@ecoute Je me sens seul ce soir")
    for ws, stream in ((bob, ["list", bob_list["id"]]), (carol, ["user"])):
        got = await event(ws)
        assert got["stream"] == stream and got["event"] == "update", got
        entity = json.loads(got["payload"])
        assert entity["account"]["acct"] == "ecoute"
        assert entity["reblog"]["id"] == status["id"]
    # The list is exclusive: nothing reached bob's home stream (the next message he gets
    # is the answer to this sync, not an update).
    await synced(bob)
    for ws in (bob, carol):
        await ws.close()
