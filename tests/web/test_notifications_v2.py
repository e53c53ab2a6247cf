"""Mastodon 4.3's grouped notifications: favourites and boosts of one status and follows
grouped under Mastodon's keys (with the 12-hour span), the deduplicated results, types and
grouped-types filters, partial avatars, paging across groups with the Link header, one group,
its accounts, dismissing a group, the unread group count, the v2 policy and the empty
notification requests; someone else's group, bad parameters (nothing changed), and
Mastodon.py's grouped-notification methods on a real socket."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from fediverse_mu.appkeys import services_key
from fediverse_mu.services import accounts
from fediverse_mu.services.context import Services
from tests.conftest import (
    FakeClock,
    RealServer,
    auth,
    count,
    login,
    make_token,
    make_user,
    ok,
    post,
)

Schema = Callable[[Any, str], None]
V2 = "/api/v2/notifications"


async def account_id(svc: Services, username: str) -> str:
    account = await accounts.get_local_account(svc, username)
    assert account is not None
    return str(account.id)


async def grouped(client: TestClient, token: str, query: str = "") -> dict[str, Any]:
    found: dict[str, Any] = await ok(await client.get(f"{V2}{query}", headers=auth(token)))
    return found


def summary(results: dict[str, Any]) -> list[tuple[str, int, list[str]]]:
    """(type, count, sample accounts' acct) per group, newest first."""
    acct = {a["id"]: a["acct"] for a in results["accounts"] + results.get("partial_accounts", [])}
    return [(g["type"], g["notifications_count"], [acct[i] for i in g["sample_account_ids"]])
            for g in results["notification_groups"]]


async def favourite(client: TestClient, token: str, status_id: str) -> None:
    await ok(await client.post(f"/api/v1/statuses/{status_id}/favourite", headers=auth(token)))


async def boost(client: TestClient, token: str, status_id: str) -> None:
    await ok(await client.post(f"/api/v1/statuses/{status_id}/reblog", headers=auth(token)))


async def follow(client: TestClient, token: str, target_id: str) -> None:
    await ok(await client.post(f"/api/v1/accounts/{target_id}/follow", headers=auth(token)))


async def scene(client: TestClient, svc: Services) -> dict[str, Any]:
    """Alice's notifications: favourites and boosts of her first post from several people,
    one favourite of her second, two follows, then a mention."""
    tokens = {name: await make_token(svc, name) for name in
              ("alice", "bob", "carol", "dave", "erin")}
    first = await post(client, tokens["alice"], status="la fête du pain, samedi")
    second = await post(client, tokens["alice"], status="et dimanche, la soupe")
    alice_id = await account_id(svc, "alice")
    await favourite(client, tokens["bob"], first["id"])
    await favourite(client, tokens["carol"], first["id"])
    await boost(client, tokens["bob"], first["id"])
    await favourite(client, tokens["erin"], second["id"])
    await boost(client, tokens["carol"], first["id"])
    await favourite(client, tokens["dave"], first["id"])
    await follow(client, tokens["bob"], alice_id)
    await follow(client, tokens["carol"], alice_id)
    mention = await post(client, tokens["dave"], status="@alice j'apporte le four")
    v1 = await ok(await client.get("/api/v1/notifications", headers=auth(tokens["alice"])))
    return {"tokens": tokens, "first": first, "second": second, "mention": mention, "v1": v1}


async def test_groups_favourites_boosts_and_follows(client: TestClient, svc: Services,
                                                     assert_schema: Schema) -> None:
    s = await scene(client, svc)
    alice, first, second = s["tokens"]["alice"], s["first"], s["second"]
    results = await grouped(client, alice)
    assert_schema(results, "GroupedNotificationsResults")
    assert summary(results) == [
        ("mention", 1, ["dave"]),
        ("follow", 2, ["carol", "bob"]),
        ("favourite", 3, ["dave", "carol", "bob"]),
        ("reblog", 2, ["carol", "bob"]),
        ("favourite", 1, ["erin"]),
    ]
    groups = results["notification_groups"]
    v1 = {(n["type"], n["account"]["acct"], (n.get("status") or {}).get("id")): n
          for n in s["v1"]}
    mention = v1[("mention", "dave", s["mention"]["id"])]
    assert groups[0]["group_key"] == f"ungrouped-{mention['id']}"
    assert groups[0]["status_id"] == s["mention"]["id"]
    bucket = r"\d{6,}"
    assert re.fullmatch(f"follow-{bucket}", groups[1]["group_key"])
    assert "status_id" not in groups[1]
    assert re.fullmatch(f"favourite-{first['id']}-{bucket}", groups[2]["group_key"])
    assert re.fullmatch(f"reblog-{first['id']}-{bucket}", groups[3]["group_key"])
    assert re.fullmatch(f"favourite-{second['id']}-{bucket}", groups[4]["group_key"])
    assert groups[2]["status_id"] == groups[3]["status_id"] == first["id"]

    # The most recent notification of each group (a number, as Mastodon sends it), and the
    # part of it on this page (here, all of it).
    newest_fav = v1[("favourite", "dave", first["id"])]
    oldest_fav = v1[("favourite", "bob", first["id"])]
    assert groups[2]["most_recent_notification_id"] == int(newest_fav["id"])
    assert groups[2]["page_max_id"] == newest_fav["id"]
    assert groups[2]["page_min_id"] == oldest_fav["id"]
    assert groups[2]["latest_page_notification_at"] == newest_fav["created_at"]
    assert groups[0]["page_min_id"] == groups[0]["page_max_id"] == mention["id"]

    # Every status and account once.
    assert sorted(st["id"] for st in results["statuses"]) == sorted(
        [first["id"], second["id"], s["mention"]["id"]])
    assert sorted(a["acct"] for a in results["accounts"]) == ["bob", "carol", "dave", "erin"]
    assert "partial_accounts" not in results
    assert all(a["statuses_count"] >= 0 for a in results["accounts"])

    # Only some types group when the client says so; the others come one by one.
    only_favs = await grouped(client, alice, "?grouped_types[]=favourite")
    assert [(t, n) for t, n, _ in summary(only_favs)] == [
        ("mention", 1), ("follow", 1), ("follow", 1), ("favourite", 3), ("reblog", 1),
        ("favourite", 1), ("reblog", 1)]
    assert all(g["group_key"].startswith("ungrouped-") for g in only_favs["notification_groups"]
               if g["type"] != "favourite")
    unknown = await grouped(client, alice, "?grouped_types[]=poll")  # nothing groups
    assert len(unknown["notification_groups"]) == len(s["v1"]) == 9

    # Partial avatars: the newest account of each group in full, the others in short.
    partial = await grouped(client, alice, "?expand_accounts=partial_avatars")
    assert_schema(partial, "GroupedNotificationsResults")
    for item in partial["partial_accounts"]:
        assert_schema(item, "PartialAccountWithAvatar")
    assert sorted(a["acct"] for a in partial["accounts"]) == ["carol", "dave", "erin"]
    assert [a["acct"] for a in partial["partial_accounts"]] == ["bob"]
    assert summary(partial) == summary(results)


async def test_type_and_account_filters(client: TestClient, svc: Services,
                                        assert_schema: Schema) -> None:
    s = await scene(client, svc)
    alice = s["tokens"]["alice"]
    favs = await grouped(client, alice, "?types[]=favourite")
    assert_schema(favs, "GroupedNotificationsResults")
    assert summary(favs) == [("favourite", 3, ["dave", "carol", "bob"]),
                             ("favourite", 1, ["erin"])]
    assert sorted(st["id"] for st in favs["statuses"]) == sorted(
        [s["first"]["id"], s["second"]["id"]])
    rest = await grouped(client, alice, "?exclude_types[]=favourite&exclude_types[]=reblog")
    assert [t for t, _, _ in summary(rest)] == ["mention", "follow"]
    # From one account only: its notifications, and the groups count only them.
    carol = await grouped(client, alice, f"?account_id={await account_id(svc, 'carol')}")
    assert summary(carol) == [("follow", 1, ["carol"]), ("reblog", 1, ["carol"]),
                              ("favourite", 1, ["carol"])]
    assert (await grouped(client, alice, "?types[]=poll"))["notification_groups"] == []


async def test_paging_across_groups(client: TestClient, svc: Services,
                                    assert_schema: Schema) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    carol = await make_token(svc, "carol")
    posts = [await post(client, alice, status=f"recette n°{i}") for i in range(5)]
    for item in posts:  # each post favourited by bob, then carol: five groups of two
        await favourite(client, bob, item["id"])
        await favourite(client, carol, item["id"])
    v1 = await ok(await client.get("/api/v1/notifications", headers=auth(alice)))
    ids = [n["id"] for n in v1]  # newest first: carol's and bob's on post 4, then post 3…

    response = await client.get(f"{V2}?limit=2", headers=auth(alice))
    page = await ok(response)
    assert_schema(page, "GroupedNotificationsResults")
    assert [g["status_id"] for g in page["notification_groups"]] == [posts[4]["id"],
                                                                    posts[3]["id"]]
    assert [g["notifications_count"] for g in page["notification_groups"]] == [2, 2]
    link = response.headers["Link"]
    # Pages go by the notification standing for each group (its newest one on the page).
    assert f"max_id={ids[2]}" in link and 'rel="next"' in link
    assert f"min_id={ids[0]}" in link and 'rel="prev"' in link
    assert "limit=2" in link

    # Walking "next" reaches every group; a group cut by a page shows its older part again
    # on the next one (as on Mastodon: clients merge by group_key).
    seen: list[tuple[str, int]] = []
    url: str | None = f"{V2}?limit=2"
    while url:
        response = await client.get(url, headers=auth(alice))
        body = await ok(response)
        seen += [(g["status_id"], g["notifications_count"]) for g in body["notification_groups"]]
        found = re.search(r'<http://a\.test([^>]+)>; rel="next"', response.headers.get("Link", ""))
        url = found.group(1) if found else None
    p = [item["id"] for item in posts]
    assert seen == [(p[4], 2), (p[3], 2), (p[3], 1), (p[2], 2), (p[2], 1), (p[1], 2), (p[1], 1),
                    (p[0], 2), (p[0], 1)]

    # Newer than a notification: the groups just above it (walked oldest first), newest first.
    newer = await grouped(client, alice, f"?min_id={ids[6]}&limit=2")
    assert [(g["status_id"], g["notifications_count"]) for g in newer["notification_groups"]
            ] == [(posts[3]["id"], 1), (posts[2]["id"], 2)]
    since = await grouped(client, alice, f"?since_id={ids[4]}")
    assert [(g["status_id"], g["page_min_id"]) for g in since["notification_groups"]] == [
        (posts[4]["id"], ids[1]), (posts[3]["id"], ids[3])]
    # A cut group counts what is at or below the page's newest notification.
    below = await grouped(client, alice, f"?max_id={ids[0]}&limit=1")
    assert [(g["status_id"], g["notifications_count"], g["most_recent_notification_id"])
            for g in below["notification_groups"]] == [(posts[4]["id"], 1, int(ids[1]))]


async def test_one_group_its_accounts_and_dismissing_it(client: TestClient, svc: Services,
                                                         assert_schema: Schema) -> None:
    s = await scene(client, svc)
    alice, bob = s["tokens"]["alice"], s["tokens"]["bob"]
    groups = (await grouped(client, alice))["notification_groups"]
    favs = groups[2]
    key = favs["group_key"]

    one = await ok(await client.get(f"{V2}/{key}", headers=auth(alice)))
    assert_schema(one, "GroupedNotificationsResults")
    assert summary(one) == [("favourite", 3, ["dave", "carol", "bob"])]
    assert "page_min_id" not in one["notification_groups"][0]
    assert [st["id"] for st in one["statuses"]] == [s["first"]["id"]]
    single = await ok(await client.get(f"{V2}/{groups[0]['group_key']}", headers=auth(alice)))
    assert summary(single) == [("mention", 1, ["dave"])]

    response = await client.get(f"{V2}/{key}/accounts", headers=auth(alice))
    people = await ok(response)
    for item in people:
        assert_schema(item, "Account")
    assert [a["acct"] for a in people] == ["dave", "carol", "bob"]
    paged = await client.get(f"{V2}/{key}/accounts?limit=2", headers=auth(alice))
    assert [a["acct"] for a in await ok(paged)] == ["dave", "carol"]
    assert 'rel="next"' in paged.headers["Link"]

    # Someone else's group, or no such group: 404, and nothing changes.
    await favourite(client, alice, (await post(client, bob, status="mon pain"))["id"])
    bobs = (await grouped(client, bob))["notification_groups"][0]["group_key"]
    mention_key = groups[0]["group_key"]
    for path in (f"{V2}/{key}", f"{V2}/{key}/accounts", f"{V2}/{mention_key}",
                 f"{V2}/{key}x", f"{V2}/favourite-1-2", f"{V2}/ungrouped-x"):
        response = await client.get(path, headers=auth(bob))
        assert response.status == 404, path
        assert "error" in await response.json()
    for token, target in ((bob, key), (bob, mention_key), (alice, bobs),
                          (alice, "favourite-1-2")):
        refused = await client.post(f"{V2}/{target}/dismiss", headers=auth(token))
        assert refused.status == 404, target
    assert len((await grouped(client, bob))["notification_groups"]) == 1
    assert len((await grouped(client, alice))["notification_groups"]) == 5

    # Dismissing a group removes its notifications and nothing else.
    before = await count(svc, "SELECT count(*) FROM notifications")
    assert await ok(await client.post(f"{V2}/{key}/dismiss", headers=auth(alice))) == {}
    assert await count(svc, "SELECT count(*) FROM notifications") == before - 3
    assert summary(await grouped(client, alice)) == [
        ("mention", 1, ["dave"]), ("follow", 2, ["carol", "bob"]),
        ("reblog", 2, ["carol", "bob"]), ("favourite", 1, ["erin"])]
    assert (await client.get(f"{V2}/{key}", headers=auth(alice))).status == 404
    # An ungrouped key dismisses that one notification.
    await ok(await client.post(f"{V2}/{groups[0]['group_key']}/dismiss", headers=auth(alice)))
    assert [t for t, _, _ in summary(await grouped(client, alice))] == [
        "follow", "reblog", "favourite"]
    assert len((await grouped(client, bob))["notification_groups"]) == 1

    # Clearing (v2 too) empties alice's notifications only.
    assert await ok(await client.post(f"{V2}/clear", headers=auth(alice))) == {}
    assert (await grouped(client, alice))["notification_groups"] == []
    assert len((await grouped(client, bob))["notification_groups"]) == 1


async def test_unread_group_count(client: TestClient, svc: Services) -> None:
    s = await scene(client, svc)
    alice = s["tokens"]["alice"]

    async def unread(query: str = "") -> int:
        body = await ok(await client.get(f"{V2}/unread_count{query}", headers=auth(alice)))
        return int(body["count"])

    assert await unread() == 5  # no marker yet: every group is unread
    assert await unread("?grouped_types[]=favourite") == 7
    assert await unread("?limit=2") == 2
    assert await unread("?types[]=favourite") == 2
    assert await unread("?exclude_types[]=mention&exclude_types[]=follow") == 3
    # After the marker: the groups the newer notifications make (the follows and the mention).
    marker = next(n for n in s["v1"] if n["type"] == "favourite")["id"]
    await ok(await client.post("/api/v1/markers", headers=auth(alice),
                               data={"notifications[last_read_id]": marker}))
    assert await unread() == 2


async def test_groups_span_twelve_hours_at_most(clocked: TestClient, clock: FakeClock) -> None:
    svc: Services = clocked.server.app[services_key]
    alice = await make_token(svc, "alice")
    names = ["bob", "carol", "dave", "erin"]
    tokens = {name: await make_token(svc, name) for name in names}
    mine = await post(clocked, alice, status="le pain de demain")
    start = int(clock.now) // 3600
    await favourite(clocked, tokens["bob"], mine["id"])
    clock.advance(5 * 3600)
    await favourite(clocked, tokens["carol"], mine["id"])  # 5 h later: same group
    clock.advance(7 * 3600)
    await favourite(clocked, tokens["dave"], mine["id"])  # 12 h after the first: a new one
    clock.advance(3600)
    await favourite(clocked, tokens["erin"], mine["id"])
    results = await grouped(clocked, alice)
    assert [(g["group_key"], g["notifications_count"]) for g in results["notification_groups"]
            ] == [(f"favourite-{mine['id']}-{start + 12}", 2),
                  (f"favourite-{mine['id']}-{start}", 2)]


async def test_bad_parameters_change_nothing(client: TestClient, svc: Services,
                                             assert_schema: Schema) -> None:
    s = await scene(client, svc)
    alice = s["tokens"]["alice"]
    before = await grouped(client, alice)
    for query in ("?expand_accounts=everything", "?max_id=abc", "?limit=many",
                  "?account_id=bob", "/unread_count?limit=lots"):
        response = await client.get(f"{V2}{query}", headers=auth(alice))
        assert response.status == 422, query
        assert "error" in await response.json()
    # Scopes: reading needs read:notifications, dismissing write:notifications.
    reader = await make_token(svc, "alice", scopes="read:notifications")
    key = before["notification_groups"][1]["group_key"]
    refused = await client.post(f"{V2}/{key}/dismiss", headers=auth(reader))
    assert refused.status == 403
    assert (await client.get(V2)).status == 401
    assert await grouped(client, reader) == before

    # The policy: Mastodon 4.3's defaults, a change kept, a bad value refused.
    policy = await ok(await client.get(f"{V2}/policy", headers=auth(alice)))
    assert_schema(policy, "NotificationPolicy")
    assert policy == {"for_not_following": "accept", "for_not_followers": "accept",
                      "for_new_accounts": "accept", "for_private_mentions": "filter",
                      "for_limited_accounts": "filter",
                      "summary": {"pending_requests_count": 0, "pending_notifications_count": 0}}
    changed = await ok(await client.patch(f"{V2}/policy", headers=auth(alice),
                                          json={"for_not_following": "drop",
                                                "for_private_mentions": "accept"}))
    again = await ok(await client.put(f"{V2}/policy", headers=auth(alice),
                                      data={"for_limited_accounts": "accept"}))
    assert again["for_limited_accounts"] == "accept"
    assert again["for_not_following"] == "drop"  # the earlier change is kept
    changed = await ok(await client.patch(f"{V2}/policy", headers=auth(alice),
                                          json={"for_limited_accounts": "filter"}))
    assert_schema(changed, "NotificationPolicy")
    assert (changed["for_not_following"], changed["for_private_mentions"]) == ("drop", "accept")
    bad = await client.patch(f"{V2}/policy", headers=auth(alice),
                             data={"for_new_accounts": "filter", "for_not_followers": "maybe"})
    assert bad.status == 422
    assert await ok(await client.get(f"{V2}/policy", headers=auth(alice))) == changed
    assert (await client.patch(f"{V2}/policy", headers=auth(reader),
                               json={"for_new_accounts": "drop"})).status == 403
    bob_policy = await ok(await client.get(f"{V2}/policy", headers=auth(s["tokens"]["bob"])))
    assert bob_policy["for_not_following"] == "accept"

    # Notification requests: nothing is filtered here, so there are none.
    assert await ok(await client.get("/api/v1/notifications/requests",
                                     headers=auth(alice))) == []
    assert await ok(await client.get("/api/v1/notifications/requests/merged",
                                     headers=auth(alice))) == {"merged": True}


async def test_mastodon_py_grouped_notifications(real_server: RealServer) -> None:
    for name in ("alice", "bob", "carol"):
        await make_user(real_server.svc, name)
    base = real_server.base_url

    def flow() -> dict[str, Any]:
        alice, bob, carol = login(base, "alice"), login(base, "bob"), login(base, "carol")
        mine = alice.status_post("la fournée du jour")
        for who in (bob, carol):
            who.status_favourite(mine)
            who.account_follow(alice.me())
        page = alice.grouped_notifications(limit=1)
        result: dict[str, Any] = {
            "mine": mine, "page": page,
            "next": alice.fetch_next(page),
            "all": alice.grouped_notifications(),
            "full": alice.grouped_notifications(expand_accounts="full",
                                                types=["favourite"]),
            "unread": alice.unread_grouped_notifications_count(),
        }
        key = result["all"]["notification_groups"][1]["group_key"]
        result["one"] = alice.grouped_notification(key)
        result["accounts"] = alice.grouped_notification_accounts(key)
        alice.dismiss_grouped_notification(key)
        result["after"] = alice.grouped_notifications()
        result["policy"] = alice.update_notifications_policy(for_new_accounts="filter")
        result["requests"] = alice.notification_requests()
        return result

    r = await asyncio.to_thread(flow)
    groups = r["all"]["notification_groups"]
    assert [(g["type"], g["notifications_count"]) for g in groups] == [("follow", 2),
                                                                       ("favourite", 2)]
    # Mastodon.py asks for partial avatars by default: the newest account in full.
    assert [a["acct"] for a in r["all"]["accounts"]] == ["carol"]
    assert [a["acct"] for a in r["all"]["partial_accounts"]] == ["bob"]
    assert [g["type"] for g in r["page"]["notification_groups"]] == ["follow"]
    assert [g["type"] for g in r["next"]["notification_groups"]] == ["favourite"]
    assert [g["type"] for g in r["full"]["notification_groups"]] == ["favourite"]
    assert sorted(a["acct"] for a in r["full"]["accounts"]) == ["bob", "carol"]
    assert r["unread"] == 2
    assert r["one"]["notification_groups"][0]["group_key"] == groups[1]["group_key"]
    assert [a["acct"] for a in r["accounts"]] == ["carol", "bob"]
    assert [g["type"] for g in r["after"]["notification_groups"]] == ["follow"]
    assert r["policy"]["for_new_accounts"] == "filter"
    assert r["requests"] == []
