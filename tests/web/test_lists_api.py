"""The Mastodon list API: lists and their members, the lists an account is in, list timelines
with Link pagination and replies policies, exclusive lists keeping their members out of the
home timeline, follows ending and statuses deleted leaving lists; raw requests checked against
the OpenAPI shapes, bad input refused without changing anything, a remote author's posts
reaching a list over real HTTP, and Mastodon.py driving it all over a real socket."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from mastodon.errors import MastodonAPIError

from fediverse_mu.appkeys import federation_key
from fediverse_mu.domain import Account
from fediverse_mu.domain.pagination import Page
from fediverse_mu.services import following, posting
from fediverse_mu.services import lists as list_service
from fediverse_mu.services.context import Services
from tests.conftest import (
    Instance,
    RealServer,
    auth,
    count,
    login,
    make_token,
    make_user,
    ok,
    post,
    settle,
)

Schema = Callable[[Any, str], None]


async def account_id(client: TestClient, token: str) -> str:
    me = await ok(await client.get("/api/v1/accounts/verify_credentials", headers=auth(token)))
    return str(me["id"])


async def follow(client: TestClient, token: str, target_id: str) -> None:
    await ok(await client.post(f"/api/v1/accounts/{target_id}/follow", headers=auth(token)))


async def ids(client: TestClient, token: str, path: str) -> list[str]:
    return [s["id"] for s in await ok(await client.get(path, headers=auth(token)))]


async def new_list(client: TestClient, token: str, **data: Any) -> dict[str, Any]:
    body: dict[str, Any] = await ok(await client.post("/api/v1/lists", json=data,
                                                      headers=auth(token)))
    return body


async def add(client: TestClient, token: str, list_id: str, *account_ids: str,
              status: int = 200) -> Any:
    return await ok(await client.post(f"/api/v1/lists/{list_id}/accounts",
                                      json={"account_ids": list(account_ids)},
                                      headers=auth(token)), status)


class People:
    """alice (the reader), who follows bob and carol; dave, whom nobody follows."""

    def __init__(self, tokens: dict[str, str], account_ids: dict[str, str]) -> None:
        self.token = tokens
        self.id = account_ids


async def people(client: TestClient, svc: Services) -> People:
    tokens = {name: await make_token(svc, name) for name in ("alice", "bob", "carol", "dave")}
    found = {name: await account_id(client, token) for name, token in tokens.items()}
    await follow(client, tokens["alice"], found["bob"])
    await follow(client, tokens["alice"], found["carol"])
    return People(tokens, found)


# -- lists -------------------------------------------------------------------------------------


async def test_list_crud(client: TestClient, svc: Services, assert_schema: Schema) -> None:
    alice = await make_token(svc, "alice")
    created = await new_list(client, alice, title="  Voisins  ")
    assert_schema(created, "List")
    assert created["title"] == "Voisins"
    assert created["replies_policy"] == "list" and created["exclusive"] is False
    other = await new_list(client, alice, title="Jardin", replies_policy="none",
                           exclusive=True)
    assert (other["replies_policy"], other["exclusive"]) == ("none", True)

    every = await ok(await client.get("/api/v1/lists", headers=auth(alice)))
    for item in every:
        assert_schema(item, "List")
    assert [x["title"] for x in every] == ["Voisins", "Jardin"]
    one = await ok(await client.get(f"/api/v1/lists/{created['id']}", headers=auth(alice)))
    assert one == created

    # A form-encoded PUT changes only what it sends.
    updated = await ok(await client.put(f"/api/v1/lists/{created['id']}",
                                        data={"replies_policy": "followed"},
                                        headers=auth(alice)))
    assert_schema(updated, "List")
    assert (updated["title"], updated["replies_policy"], updated["exclusive"]) == (
        "Voisins", "followed", False)
    updated = await ok(await client.put(f"/api/v1/lists/{created['id']}",
                                        json={"title": "Voisines", "exclusive": True},
                                        headers=auth(alice)))
    assert (updated["title"], updated["replies_policy"], updated["exclusive"]) == (
        "Voisines", "followed", True)

    assert await ok(await client.delete(f"/api/v1/lists/{created['id']}",
                                        headers=auth(alice))) == {}
    gone = await client.get(f"/api/v1/lists/{created['id']}", headers=auth(alice))
    assert gone.status == 404
    assert [x["id"] for x in await ok(await client.get("/api/v1/lists",
                                                       headers=auth(alice)))] == [other["id"]]


async def test_members_and_list_timeline(client: TestClient, svc: Services,
                                         assert_schema: Schema) -> None:
    p = await people(client, svc)
    alice = p.token["alice"]
    early = await post(client, p.token["bob"], status="avant la liste")
    lst = await new_list(client, alice, title="Bob")
    assert await add(client, alice, lst["id"], p.id["bob"]) == {}

    # What alice already had from bob joins the list at once.
    timeline = f"/api/v1/timelines/list/{lst['id']}"
    assert await ids(client, alice, timeline) == [early["id"]]

    later = [await post(client, p.token["bob"], status=f"bob {i}") for i in range(3)]
    from_carol = await post(client, p.token["carol"], status="carol n'est pas dans la liste")
    boost = await ok(await client.post(f"/api/v1/statuses/{early['id']}/reblog",
                                       headers=auth(p.token["bob"])))
    await post(client, p.token["bob"], status="@alice en privé", visibility="direct")
    expected = [boost["id"], *[s["id"] for s in reversed(later)], early["id"]]
    body = await ok(await client.get(timeline, headers=auth(alice)))
    for status in body:
        assert_schema(status, "Status")
    assert [s["id"] for s in body] == expected  # boosts included, direct messages not
    assert body[0]["reblog"]["id"] == early["id"]

    # Pagination: newest first, Link towards older (next) and newer (prev) pages.
    response = await client.get(f"{timeline}?limit=2", headers=auth(alice))
    assert [s["id"] for s in await ok(response)] == expected[:2]
    link = response.headers["Link"]
    assert f"max_id={expected[1]}" in link and f"min_id={expected[0]}" in link
    assert await ids(client, alice, f"{timeline}?max_id={expected[1]}&limit=2") == \
        expected[2:4]
    assert await ids(client, alice, f"{timeline}?min_id={expected[3]}&limit=2") == \
        expected[1:3]
    assert await ids(client, alice, f"{timeline}?since_id={expected[1]}") == expected[:1]

    # Members, and the lists an account is in; carol's status joins with her.
    await add(client, alice, lst["id"], p.id["carol"])
    assert await ids(client, alice, timeline) == [expected[0], from_carol["id"], *expected[1:]]
    members = await ok(await client.get(f"/api/v1/lists/{lst['id']}/accounts",
                                        headers=auth(alice)))
    for member in members:
        assert_schema(member, "Account")
    assert [m["username"] for m in members] == ["carol", "bob"]
    response = await client.get(f"/api/v1/lists/{lst['id']}/accounts?limit=1",
                                headers=auth(alice))
    assert [m["username"] for m in await ok(response)] == ["carol"]
    assert 'rel="next"' in response.headers["Link"]
    every = await ok(await client.get(f"/api/v1/lists/{lst['id']}/accounts?limit=0",
                                      headers=auth(alice)))
    assert len(every) == 2
    await new_list(client, alice, title="Autre")  # without bob
    in_lists = await ok(await client.get(f"/api/v1/accounts/{p.id['bob']}/lists",
                                         headers=auth(alice)))
    assert [x["id"] for x in in_lists] == [lst["id"]]

    # Removing bob takes his statuses out of the list.
    await ok(await client.delete(f"/api/v1/lists/{lst['id']}/accounts",
                                 json={"account_ids": [p.id["bob"]]}, headers=auth(alice)))
    assert await ids(client, alice, timeline) == [from_carol["id"]]
    assert [m["username"] for m in await ok(await client.get(
        f"/api/v1/lists/{lst['id']}/accounts", headers=auth(alice)))] == ["carol"]


async def test_replies_policy(client: TestClient, svc: Services) -> None:
    p = await people(client, svc)
    alice, bob = p.token["alice"], p.token["bob"]
    lst = await new_list(client, alice, title="Bob")
    await add(client, alice, lst["id"], p.id["bob"])
    to_carol_root = await post(client, p.token["carol"], status="carol")
    to_dave_root = await post(client, p.token["dave"], status="dave")
    to_alice_root = await post(client, alice, status="alice")
    root = await post(client, bob, status="fil")
    self_reply = await post(client, bob, status="suite", in_reply_to_id=root["id"])
    to_carol = await post(client, bob, status="@carol oui", in_reply_to_id=to_carol_root["id"])
    to_dave = await post(client, bob, status="@dave non", in_reply_to_id=to_dave_root["id"])
    to_alice = await post(client, bob, status="@alice ok", in_reply_to_id=to_alice_root["id"])
    timeline = f"/api/v1/timelines/list/{lst['id']}"

    async def shown(policy: str) -> list[str]:
        await ok(await client.put(f"/api/v1/lists/{lst['id']}",
                                  json={"replies_policy": policy}, headers=auth(alice)))
        return await ids(client, alice, timeline)

    # Replies to the owner and self-replies always show; the policy decides the rest.
    assert await shown("none") == [to_alice["id"], self_reply["id"], root["id"]]
    assert await shown("list") == [to_alice["id"], self_reply["id"], root["id"]]
    assert await shown("followed") == [to_alice["id"], to_carol["id"], self_reply["id"],
                                       root["id"]]
    await add(client, alice, lst["id"], p.id["carol"])
    assert await shown("list") == [to_alice["id"], to_carol["id"], self_reply["id"],
                                   root["id"], to_carol_root["id"]]
    assert to_dave["id"] not in await shown("followed")


async def test_exclusive_lists_keep_members_out_of_home(client: TestClient,
                                                        svc: Services) -> None:
    p = await people(client, svc)
    alice = p.token["alice"]
    home = "/api/v1/timelines/home"
    before = await post(client, p.token["bob"], status="bob avant")
    lst = await new_list(client, alice, title="Bob seul", exclusive=True)
    await add(client, alice, lst["id"], p.id["bob"])
    assert await ids(client, alice, home) == []  # bob's status moved to the list

    from_bob = await post(client, p.token["bob"], status="bob après")
    from_carol = await post(client, p.token["carol"], status="carol")
    mine = await post(client, alice, status="moi")
    assert await ids(client, alice, home) == [mine["id"], from_carol["id"]]
    timeline = f"/api/v1/timelines/list/{lst['id']}"
    assert await ids(client, alice, timeline) == [from_bob["id"], before["id"]]
    # bob, who has no such list, has his own statuses at home as ever.
    assert await ids(client, p.token["bob"], home) == [from_bob["id"], before["id"]]

    # Not exclusive any more: bob's statuses are back at home.
    await ok(await client.put(f"/api/v1/lists/{lst['id']}", json={"exclusive": False},
                              headers=auth(alice)))
    assert await ids(client, alice, home) == [mine["id"], from_carol["id"], from_bob["id"],
                                              before["id"]]
    # Exclusive again, then deleted: they come back once more.
    await ok(await client.put(f"/api/v1/lists/{lst['id']}", json={"exclusive": True},
                              headers=auth(alice)))
    assert await ids(client, alice, home) == [mine["id"], from_carol["id"]]
    await ok(await client.delete(f"/api/v1/lists/{lst['id']}", headers=auth(alice)))
    assert await ids(client, alice, home) == [mine["id"], from_carol["id"], from_bob["id"],
                                              before["id"]]
    assert await count(svc, "SELECT count(*) FROM list_feed") == 0


async def test_unfollow_and_delete_leave_lists(client: TestClient, svc: Services) -> None:
    p = await people(client, svc)
    alice = p.token["alice"]
    lst = await new_list(client, alice, title="Amis")
    await add(client, alice, lst["id"], p.id["bob"], p.id["carol"])
    gone = await post(client, p.token["carol"], status="bientôt effacé")
    kept = await post(client, p.token["carol"], status="reste")
    await post(client, p.token["bob"], status="bob")
    await ok(await client.delete(f"/api/v1/statuses/{gone['id']}",
                                 headers=auth(p.token["carol"])))
    await ok(await client.post(f"/api/v1/accounts/{p.id['bob']}/unfollow",
                               headers=auth(alice)))
    timeline = f"/api/v1/timelines/list/{lst['id']}"
    assert await ids(client, alice, timeline) == [kept["id"]]
    members = await ok(await client.get(f"/api/v1/lists/{lst['id']}/accounts",
                                        headers=auth(alice)))
    assert [m["username"] for m in members] == ["carol"]
    assert await count(svc, "SELECT count(*) FROM list_feed") == 1


async def test_ensure_list_for_other_services(client: TestClient, svc: Services) -> None:
    alice = (await make_user(svc, "alice")).account
    first = await list_service.ensure_list(svc, alice, "Groupe : vélo", exclusive=True)
    again = await list_service.ensure_list(svc, alice, "Groupe : vélo", exclusive=True)
    assert first == again and first.exclusive
    relaxed = await list_service.ensure_list(svc, alice, "Groupe : vélo", exclusive=False)
    assert relaxed.id == first.id and not relaxed.exclusive
    assert len(await list_service.lists_of(svc, alice)) == 1


# -- bad input ---------------------------------------------------------------------------------


async def test_bad_input_changes_nothing(client: TestClient, svc: Services) -> None:
    p = await people(client, svc)
    alice, dave = p.token["alice"], p.token["dave"]
    lst = await new_list(client, alice, title="Bob")
    await add(client, alice, lst["id"], p.id["bob"])
    await post(client, p.token["bob"], status="bob")
    members_sql = "SELECT count(*) FROM list_accounts"

    # dave is not followed: 422, and carol (followed) in the same request is not added either.
    refused = await add(client, alice, lst["id"], p.id["carol"], p.id["dave"], status=422)
    assert "follow" in refused["error"]
    assert await add(client, alice, lst["id"], p.id["bob"], status=422)  # already there
    await add(client, alice, lst["id"], "99999", status=404)
    await add(client, alice, lst["id"], "pas-un-id", status=404)
    assert await count(svc, members_sql) == 1

    # Another resident's list does not exist for dave.
    for method, path, body in (
            ("GET", f"/api/v1/lists/{lst['id']}", None),
            ("PUT", f"/api/v1/lists/{lst['id']}", {"title": "À moi"}),
            ("DELETE", f"/api/v1/lists/{lst['id']}", None),
            ("GET", f"/api/v1/lists/{lst['id']}/accounts", None),
            ("POST", f"/api/v1/lists/{lst['id']}/accounts", {"account_ids": [p.id["alice"]]}),
            ("DELETE", f"/api/v1/lists/{lst['id']}/accounts", {"account_ids": [p.id["bob"]]}),
            ("GET", f"/api/v1/timelines/list/{lst['id']}", None),
            ("GET", "/api/v1/timelines/list/abc", None)):
        response = await client.request(method, path, json=body, headers=auth(dave))
        assert response.status == 404, (method, path, await response.text())
        assert "error" in await response.json()
    assert await ok(await client.get(f"/api/v1/lists/{lst['id']}", headers=auth(alice))) == lst
    assert await count(svc, members_sql) == 1

    # Bad titles and policies; the list stays as it was.
    for data in ({"title": "  "}, {"title": "x" * 300}, {"replies_policy": "everyone"},
                 {"exclusive": "peut-être"}):
        response = await client.put(f"/api/v1/lists/{lst['id']}", json=data,
                                    headers=auth(alice))
        assert response.status == 422, data
    assert await ok(await client.get(f"/api/v1/lists/{lst['id']}", headers=auth(alice))) == lst
    for data in ({}, {"title": ""}, {"title": "ok", "replies_policy": "all"}):
        response = await client.post("/api/v1/lists", json=data, headers=auth(alice))
        assert response.status == 422, data
    assert await count(svc, "SELECT count(*) FROM lists") == 1

    # Scopes: read:lists to read, write:lists to write; no token at all is 401.
    reader = await make_token(svc, "alice", "read:lists")
    statuses_only = await make_token(svc, "alice", "read:statuses write:statuses")
    response = await client.post("/api/v1/lists", json={"title": "x"}, headers=auth(reader))
    assert response.status == 403
    response = await client.post(f"/api/v1/lists/{lst['id']}/accounts",
                                 json={"account_ids": [p.id["carol"]]}, headers=auth(reader))
    assert response.status == 403
    for path in ("/api/v1/lists", f"/api/v1/timelines/list/{lst['id']}",
                 f"/api/v1/accounts/{p.id['bob']}/lists"):
        assert (await client.get(path, headers=auth(statuses_only))).status == 403
        assert (await client.get(path)).status == 401
    assert (await client.get("/api/v1/lists", headers=auth(reader))).status == 200
    assert await count(svc, "SELECT count(*) FROM lists") == 1
    assert await count(svc, members_sql) == 1


# -- a remote author's posts reach a list ------------------------------------------------------
async def _post(inst: Instance, author: Account, text: str) -> Any:
    draft = await posting.prepare(inst.svc, author, text=text)
    return await posting.create_status(inst.svc, author, draft)



async def test_remote_posts_and_boosts_reach_lists(
        instances: Callable[..., Awaitable[list[Instance]]]) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    remote_bob = await a.app[federation_key].resolve_handle("bob@b.test")
    await following.follow(a.svc, alice, remote_bob)
    await settle(a, b)
    lst = await list_service.create_list(a.svc, alice, title="Là-bas", exclusive=True)
    await list_service.add_accounts(a.svc, alice, lst.id, [remote_bob.id])

    own = await _post(b, bob, "Bonjour de b.test")
    other = (await make_user(b.svc, "zoe")).account
    zoe_post = await _post(b, other, "Zoé écrit")
    await posting.reblog(b.svc, bob, zoe_post.status.id)
    await settle(a, b)

    views = await list_service.timeline(a.svc, alice, lst.id, Page(limit=20))
    # (ActivityPub dates are to the second: the two may come in either order.)
    assert sorted(v.reblog.status.uri if v.reblog else v.status.uri for v in views) == sorted(
        [zoe_post.status.uri, own.status.uri])
    assert sum(v.reblog is not None for v in views) == 1
    home = await posting.home_timeline(a.svc, alice, Page(limit=20))
    assert home == []  # the list is exclusive


# -- Mastodon.py, end to end over a real socket -----------------------------------------------


async def test_mastodon_py_list_flow(real_server: RealServer) -> None:
    base = real_server.base_url
    svc = real_server.svc
    for name in ("alice", "bob", "dave"):
        await make_user(svc, name)

    def flow() -> dict[str, Any]:
        alice, bob = login(base, "alice"), login(base, "bob")
        bob_account = alice.account_lookup("bob")
        dave_account = alice.account_lookup("dave")
        alice.account_follow(bob_account)
        created = alice.list_create("Voisins", replies_policy="followed", exclusive=True)
        alice.list_accounts_add(created, [bob_account])
        posted = bob.status_post("Salut les voisins")
        try:
            alice.list_accounts_add(created, [dave_account])
            refused = None
        except MastodonAPIError as exc:
            refused = exc
        result = {"created": created, "posted": posted, "refused": refused,
                  "timeline": alice.timeline_list(created),
                  "home": alice.timeline_home(),
                  "members": alice.list_accounts(created),
                  "lists": alice.lists(),
                  "account_lists": alice.account_lists(bob_account)}
        alice.list_delete(created)
        result["after"] = alice.lists()
        return result

    r = await asyncio.to_thread(flow)
    assert r["created"]["title"] == "Voisins" and r["created"]["exclusive"] is True
    assert [s["id"] for s in r["timeline"]] == [r["posted"]["id"]]
    assert r["home"] == []
    assert [a["acct"] for a in r["members"]] == ["bob"]
    assert [x["id"] for x in r["lists"]] == [r["created"]["id"]]
    assert [x["id"] for x in r["account_lists"]] == [r["created"]["id"]]
    assert r["refused"] is not None and r["refused"].args[1] == 422
    assert r["after"] == []
