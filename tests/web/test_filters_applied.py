"""A resident's filters applied wherever a Mastodon client shows statuses: one status, a
thread (``thread``), an account's statuses (``account``), notifications v1 and v2
(``notifications``), home and lists (``home``), public and hashtag timelines (``public``).
A ``hide`` filter leaves a status out of the lists of its contexts only (never out of a
status asked for by id); every active match is listed in ``filtered``, whatever its context,
as Mastodon lists them; ``warn`` only lists; an expired filter never applies. Filters are
kept in memory: a change through the API applies at once, and so does one made elsewhere
once ``filters.changed`` is announced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain.filters import FilterAction, FilterContext
from fediverse_mu.events import FILTERS_CHANGED
from fediverse_mu.services import filters as filter_service
from fediverse_mu.services.context import Services
from fediverse_mu.storage import filters as filter_store
from tests.conftest import FakeClock, auth, make_token, ok, post

Schema = Callable[[Any, str], None]
CONTEXTS = ("home", "notifications", "public", "thread", "account")


async def new_filter(client: TestClient, token: str, **data: Any) -> dict[str, Any]:
    body: dict[str, Any] = await ok(await client.post("/api/v2/filters", json=data,
                                                      headers=auth(token)))
    return body


async def me(client: TestClient, token: str) -> str:
    account = await ok(await client.get("/api/v1/accounts/verify_credentials",
                                        headers=auth(token)))
    return str(account["id"])


def count_filter_reads(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The account ids of each read of residents' filters from the database, from now on."""
    reads: list[list[int]] = []
    real = filter_store.list_filters_of

    def counted(db: Any, account_ids: list[int]) -> Any:
        reads.append(sorted(account_ids))
        return real(db, account_ids)

    monkeypatch.setattr(filter_store, "list_filters_of", counted)
    return reads


class Scene:
    """Alice follows Bob (and has him in a list); Bob starts a thread and replies in it with
    ``#sujet`` and a mention of Alice, so that the reply is in every place a status shows."""

    def __init__(self, client: TestClient, alice: str, bob: str, list_id: str,
                 root: dict[str, Any], reply: dict[str, Any]) -> None:
        self.client, self.alice, self.bob, self.list_id = client, alice, bob, list_id
        self.root, self.reply = root, reply

    async def places(self, token: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Where the reply could show, each with the entities found there for it."""
        headers = auth(token or self.alice)
        reply_id = self.reply["id"]

        async def get(path: str) -> Any:
            return await ok(await self.client.get(path, headers=headers))

        context = await get(f"/api/v1/statuses/{self.root['id']}/context")
        v1 = await get("/api/v1/notifications")
        v2 = await get("/api/v2/notifications")
        pages = {
            "home": await get("/api/v1/timelines/home"),
            "list": await get(f"/api/v1/timelines/list/{self.list_id}"),
            "public": await get("/api/v1/timelines/public"),
            "tag": await get("/api/v1/timelines/tag/sujet"),
            "account": await get(f"/api/v1/accounts/{self.reply['account']['id']}/statuses"),
            "thread": context["descendants"],
            "notifications": [n["status"] for n in v1 if n["status"] is not None],
            "notifications_v2": v2["statuses"] if any(
                g["status_id"] == reply_id for g in v2["notification_groups"]) else [],
        }
        return {name: [s for s in found if s["id"] == reply_id]
                for name, found in pages.items()}


# Which places each context governs.
GOVERNS = {"home": {"home", "list"}, "public": {"public", "tag"}, "account": {"account"},
           "thread": {"thread"}, "notifications": {"notifications", "notifications_v2"}}


async def scene(client: TestClient, svc: Services) -> Scene:
    alice, bob = await make_token(svc, "alice"), await make_token(svc, "bob")
    bob_id = await me(client, bob)
    await ok(await client.post(f"/api/v1/accounts/{bob_id}/follow", headers=auth(alice)))
    lst = await ok(await client.post("/api/v1/lists", json={"title": "Bob"},
                                     headers=auth(alice)))
    await ok(await client.post(f"/api/v1/lists/{lst['id']}/accounts",
                               json={"account_ids": [bob_id]}, headers=auth(alice)))
    root = await post(client, bob, status="Qui a vu le dernier épisode ?")
    reply = await post(client, bob, status="@alice la fin est triste #sujet",
                       in_reply_to_id=root["id"])
    return Scene(client, alice, bob, str(lst["id"]), root, reply)


async def test_hide_leaves_out_only_in_its_context(client: TestClient, svc: Services,
                                                   assert_schema: Schema) -> None:
    s = await scene(client, svc)
    before = await s.places()
    assert all(len(found) == 1 and found[0]["filtered"] == [] for found in before.values())

    for context in CONTEXTS:
        hide = await new_filter(client, s.alice, title=f"Fins ({context})", context=[context],
                                filter_action="hide", keywords_attributes=[{"keyword": "FIN"}])
        found = await s.places()
        hidden = {name for name, entities in found.items() if not entities}
        assert hidden == GOVERNS[context], context
        # Everywhere else it shows, with the hide filter listed (its context tells clients).
        for name, entities in found.items():
            if name not in hidden:
                results = entities[0]["filtered"]
                assert [(r["filter"]["id"], r["filter"]["context"], r["keyword_matches"])
                        for r in results] == [(hide["id"], [context], ["FIN"])], name
                assert_schema(results[0], "FilterResult")
        # Asked for by id, it is never left out: the match is listed.
        one = await ok(await client.get(f"/api/v1/statuses/{s.reply['id']}",
                                        headers=auth(s.alice)))
        assert_schema(one, "Status")
        assert [r["filter"]["id"] for r in one["filtered"]] == [hide["id"]]
        await ok(await client.delete(f"/api/v2/filters/{hide['id']}", headers=auth(s.alice)))

    # With the filter gone, everything is as before; Bob (no filters) never saw a change.
    assert await s.places() == before
    bob_sees = await ok(await client.get(f"/api/v1/statuses/{s.reply['id']}",
                                         headers=auth(s.bob)))
    assert bob_sees["filtered"] == []


async def test_warn_only_annotates(client: TestClient, svc: Services,
                                   assert_schema: Schema) -> None:
    s = await scene(client, svc)
    warn = await new_filter(client, s.alice, title="Tristesse", context=["thread"],
                            keywords_attributes=[{"keyword": "triste", "whole_word": True}])
    by_status = await new_filter(client, s.alice, title="Ce fil", context=["home"],
                                 filter_action="warn")
    await ok(await client.post(f"/api/v2/filters/{by_status['id']}/statuses",
                               json={"status_id": s.reply["id"]}, headers=auth(s.alice)))
    for name, found in (await s.places()).items():
        assert len(found) == 1, name
        assert [(r["filter"]["id"], r["keyword_matches"], r["status_matches"])
                for r in found[0]["filtered"]] == [
            (warn["id"], ["triste"], None), (by_status["id"], None, [s.reply["id"]])], name
    # A notification read by id and the grouped one carry it too.
    listed = await ok(await client.get("/api/v1/notifications", headers=auth(s.alice)))
    one = await ok(await client.get(f"/api/v1/notifications/{listed[0]['id']}",
                                    headers=auth(s.alice)))
    assert_schema(one, "Notification")
    assert len(one["status"]["filtered"]) == 2
    v2 = await ok(await client.get("/api/v2/notifications", headers=auth(s.alice)))
    group = v2["notification_groups"][0]["group_key"]
    alone = await ok(await client.get(f"/api/v2/notifications/{group}",
                                      headers=auth(s.alice)))
    assert [len(st["filtered"]) for st in alone["statuses"]] == [2]
    # Favourites and bookmarks show the matches as well (a client's copy stays warned).
    for action in ("favourite", "bookmark"):
        acted = await ok(await client.post(f"/api/v1/statuses/{s.reply['id']}/{action}",
                                           headers=auth(s.alice)))
        assert len(acted["filtered"]) == 2, action
    for path in ("/api/v1/favourites", "/api/v1/bookmarks",
                 f"/api/v1/statuses?id[]={s.reply['id']}"):
        listed = await ok(await client.get(path, headers=auth(s.alice)))
        assert [len(st["filtered"]) for st in listed] == [2], path
    # Anonymous readers and Bob's own statuses are never filtered.
    anonymous = await ok(await client.get(f"/api/v1/statuses/{s.root['id']}/context"))
    assert anonymous["descendants"][0]["filtered"] == []
    await new_filter(client, s.bob, title="Moi", context=list(CONTEXTS),
                     filter_action="hide", keywords_attributes=[{"keyword": "triste"}])
    own = await ok(await client.get(f"/api/v1/statuses/{s.root['id']}/context",
                                    headers=auth(s.bob)))
    assert [(d["id"], d["filtered"]) for d in own["descendants"]] == [(s.reply["id"], [])]


async def test_hidden_ancestor_and_short_pages(client: TestClient, svc: Services) -> None:
    s = await scene(client, svc)
    last = await post(client, s.bob, status="et la suite ?", in_reply_to_id=s.reply["id"])
    await new_filter(client, s.alice, title="Fins", context=["thread", "notifications"],
                     filter_action="hide", keywords_attributes=[{"keyword": "fin"}])
    context = await ok(await client.get(f"/api/v1/statuses/{last['id']}/context",
                                        headers=auth(s.alice)))
    assert [a["id"] for a in context["ancestors"]] == [s.root["id"]]
    # A page of notifications keeps paging from what was read, hidden ones included.
    other = await post(client, s.bob, status="@alice rien à voir")
    response = await client.get("/api/v1/notifications?limit=2", headers=auth(s.alice))
    page = await ok(response)
    assert [n["status"]["id"] for n in page] == [other["id"]]
    assert "max_id=" in response.headers["Link"]
    below = response.headers["Link"].split("max_id=")[1].split(">")[0].split("&")[0]
    assert await ok(await client.get(f"/api/v1/notifications?max_id={below}",
                                     headers=auth(s.alice))) == []
    v2 = await client.get("/api/v2/notifications?limit=2", headers=auth(s.alice))
    assert [g["status_id"] for g in (await ok(v2))["notification_groups"]] == [other["id"]]
    assert "max_id=" in v2.headers["Link"]


async def test_expired_filters_never_apply(clocked: TestClient, clock: FakeClock) -> None:
    svc: Services = clocked.server.app[services_key]
    s = await scene(clocked, svc)
    hide = await new_filter(clocked, s.alice, title="Fins", context=list(CONTEXTS),
                            filter_action="hide", expires_in=60,
                            keywords_attributes=[{"keyword": "fin"}])
    assert all(found == [] for found in (await s.places()).values())
    clock.advance(61)  # the filter is kept in memory: its expiry is checked when applied
    after = await s.places()
    assert all(len(found) == 1 and found[0]["filtered"] == [] for found in after.values())
    one = await ok(await clocked.get(f"/api/v1/statuses/{s.reply['id']}",
                                     headers=auth(s.alice)))
    assert one["filtered"] == []
    listed = await ok(await clocked.get("/api/v2/filters", headers=auth(s.alice)))
    assert [f["id"] for f in listed] == [hide["id"]]  # still listed, just not applied


async def test_changes_apply_at_once(client: TestClient, svc: Services,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    s = await scene(client, svc)
    hide = await new_filter(client, s.alice, title="Fins", context=["home"],
                            filter_action="hide", keywords_attributes=[{"keyword": "fin"}])
    assert (await s.places())["home"] == []
    # Through the API (v2, then v1 on the same keyword): applied on the next read.
    await ok(await client.put(f"/api/v2/filters/{hide['id']}", json={"filter_action": "warn"},
                              headers=auth(s.alice)))
    assert [r["filter"]["filter_action"] for r in (await s.places())["home"][0]["filtered"]
            ] == ["warn"]
    keyword_id = hide["keywords"][0]["id"]
    await ok(await client.put(f"/api/v1/filters/{keyword_id}", json={"irreversible": True},
                              headers=auth(s.alice)))
    assert (await s.places())["home"] == []
    await ok(await client.put(f"/api/v2/filters/keywords/{keyword_id}",
                              json={"keyword": "joyeuse"}, headers=auth(s.alice)))
    assert len((await s.places())["home"]) == 1

    # A change made by another process (straight in the database) is seen once it announces
    # filters.changed, which the relay brings to this process's bus.
    reads = count_filter_reads(monkeypatch)
    assert len((await s.places())["home"]) == 1
    assert reads == []  # kept in memory since the last change

    alice_id = int(await me(client, s.alice))

    def elsewhere(db: Any) -> None:
        filter_store.update_keyword(db, keyword_id, "fin", False)

    await svc.storage.write(elsewhere)
    assert len((await s.places())["home"]) == 1  # not announced yet: still the old keyword
    svc.events.publish(FILTERS_CHANGED, {"account_id": alice_id})
    assert (await s.places())["home"] == []
    assert reads == [[alice_id]]


async def test_a_notification_without_a_status_is_never_hidden(client: TestClient,
                                                                svc: Services) -> None:
    s = await scene(client, svc)
    alice_id = int(await me(client, s.alice))
    assert await filter_service.filters_of(svc, [alice_id]) == {alice_id: ()}
    await new_filter(client, s.alice, title="Tout", context=["notifications"],
                     filter_action="hide", keywords_attributes=[{"keyword": "a"}])
    carol = await make_token(svc, "carol")
    await ok(await client.post(f"/api/v1/accounts/{alice_id}/follow", headers=auth(carol)))
    listed = await ok(await client.get("/api/v1/notifications", headers=auth(s.alice)))
    assert [n["type"] for n in listed] == ["follow"]  # the mention ("la fin…") is hidden
    [only] = (await filter_service.filters_of(svc, [alice_id]))[alice_id]
    assert (only.action, only.context) == (FilterAction.HIDE, (FilterContext.NOTIFICATIONS,))


async def test_poll_options_are_matched(client: TestClient, svc: Services) -> None:
    s = await scene(client, svc)
    warn = await new_filter(client, s.alice, title="Légumes", context=["home"],
                            keywords_attributes=[{"keyword": "brocoli", "whole_word": True}])
    poll = await post(client, s.bob, status="Le meilleur légume ?",
                      poll={"options": ["carotte", "Brocoli"], "expires_in": 3600})
    home = await ok(await client.get("/api/v1/timelines/home", headers=auth(s.alice)))
    [entity] = [h for h in home if h["id"] == poll["id"]]
    assert [(r["filter"]["id"], r["keyword_matches"]) for r in entity["filtered"]] == [
        (warn["id"], ["brocoli"])]
