"""The Mastodon filter API: filters v2 with their keywords and statuses, the v1 compatibility
endpoints, and filters applied to timelines (``hide`` ones leave out what they match in their
contexts, every match shows in the Status entity's ``filtered``; whole words, case, spoiler
text, boosts, expiry and one's own statuses); raw requests checked against the OpenAPI shapes,
bad input refused without changing anything, and Mastodon.py driving it over a real socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from fediverse_mu.appkeys import services_key
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
HOME = "/api/v1/timelines/home"


async def new_filter(client: TestClient, token: str, **data: Any) -> dict[str, Any]:
    body: dict[str, Any] = await ok(await client.post("/api/v2/filters", json=data,
                                                      headers=auth(token)))
    return body


async def timeline(client: TestClient, token: str, path: str = HOME) -> dict[str, Any]:
    """Statuses of a timeline by id."""
    return {s["id"]: s for s in await ok(await client.get(path, headers=auth(token)))}


async def reader_and_author(client: TestClient, svc: Services) -> tuple[str, str]:
    alice, bob = await make_token(svc, "alice"), await make_token(svc, "bob")
    bob_id = (await ok(await client.get("/api/v1/accounts/verify_credentials",
                                        headers=auth(bob))))["id"]
    await ok(await client.post(f"/api/v1/accounts/{bob_id}/follow", headers=auth(alice)))
    return alice, bob


async def filters_count(svc: Services) -> tuple[int, int, int]:
    return (await count(svc, "SELECT count(*) FROM filters"),
            await count(svc, "SELECT count(*) FROM filter_keywords"),
            await count(svc, "SELECT count(*) FROM filter_statuses"))


# -- filters v2 --------------------------------------------------------------------------------


async def test_filter_v2_crud(client: TestClient, svc: Services, assert_schema: Schema) -> None:
    alice = await make_token(svc, "alice")
    created = await new_filter(client, alice, title="Politique", context=["home", "public"],
                               filter_action="hide", keywords_attributes=[
                                   {"keyword": "élection", "whole_word": True},
                                   {"keyword": "sondage"}])
    assert_schema(created, "Filter")
    assert (created["title"], created["context"], created["filter_action"]) == (
        "Politique", ["home", "public"], "hide")
    assert created["expires_at"] is None and created["statuses"] == []
    assert [(k["keyword"], k["whole_word"]) for k in created["keywords"]] == [
        ("élection", True), ("sondage", False)]
    fid = created["id"]

    # Form-encoded, as Mastodon's own web client sends it; warn is the default action.
    form = await ok(await client.post("/api/v2/filters", data={
        "title": "Spoilers", "context[]": "thread", "expires_in": "3600",
        "keywords_attributes[][keyword]": "fin de saison"}, headers=auth(alice)))
    assert_schema(form, "Filter")
    assert form["filter_action"] == "warn" and form["expires_at"] is not None
    assert [k["keyword"] for k in form["keywords"]] == ["fin de saison"]

    every = await ok(await client.get("/api/v2/filters", headers=auth(alice)))
    assert [f["id"] for f in every] == [fid, form["id"]]
    assert await ok(await client.get(f"/api/v2/filters/{fid}", headers=auth(alice))) == created

    # Update: rename, change contexts, change one keyword, destroy another, add a third.
    first, second = created["keywords"]
    updated = await ok(await client.put(f"/api/v2/filters/{fid}", json={
        "title": "Élections", "context": ["home"], "expires_in": 600,
        "keywords_attributes": [
            {"id": first["id"], "whole_word": False},
            {"id": second["id"], "_destroy": True},
            {"keyword": "scrutin", "whole_word": True}]}, headers=auth(alice)))
    assert_schema(updated, "Filter")
    assert (updated["title"], updated["context"], updated["filter_action"]) == (
        "Élections", ["home"], "hide")
    assert updated["expires_at"] is not None
    assert [(k["keyword"], k["whole_word"]) for k in updated["keywords"]] == [
        ("élection", False), ("scrutin", True)]
    cleared = await ok(await client.put(f"/api/v2/filters/{fid}", json={"expires_in": ""},
                                        headers=auth(alice)))
    assert cleared["expires_at"] is None and cleared["title"] == "Élections"

    # Keywords one by one.
    keywords = await ok(await client.get(f"/api/v2/filters/{fid}/keywords",
                                         headers=auth(alice)))
    for keyword in keywords:
        assert_schema(keyword, "FilterKeyword")
    added = await ok(await client.post(f"/api/v2/filters/{fid}/keywords",
                                       json={"keyword": "urne", "whole_word": True},
                                       headers=auth(alice)))
    assert_schema(added, "FilterKeyword")
    assert await ok(await client.get(f"/api/v2/filters/keywords/{added['id']}",
                                     headers=auth(alice))) == added
    changed = await ok(await client.put(f"/api/v2/filters/keywords/{added['id']}",
                                        data={"keyword": "urnes"}, headers=auth(alice)))
    assert (changed["keyword"], changed["whole_word"]) == ("urnes", True)
    assert await ok(await client.delete(f"/api/v2/filters/keywords/{added['id']}",
                                        headers=auth(alice))) == {}
    assert (await client.get(f"/api/v2/filters/keywords/{added['id']}",
                             headers=auth(alice))).status == 404

    # Statuses.
    bob = await make_token(svc, "bob")
    status = await post(client, bob, status="un post à masquer")
    entry = await ok(await client.post(f"/api/v2/filters/{fid}/statuses",
                                       json={"status_id": status["id"]}, headers=auth(alice)))
    assert_schema(entry, "FilterStatus")
    assert entry["status_id"] == status["id"]
    listed = await ok(await client.get(f"/api/v2/filters/{fid}/statuses", headers=auth(alice)))
    assert listed == [entry]
    assert await ok(await client.get(f"/api/v2/filters/statuses/{entry['id']}",
                                     headers=auth(alice))) == entry
    assert (await ok(await client.get(f"/api/v2/filters/{fid}",
                                      headers=auth(alice))))["statuses"] == [entry]
    assert await ok(await client.delete(f"/api/v2/filters/statuses/{entry['id']}",
                                        headers=auth(alice))) == {}
    assert await ok(await client.get(f"/api/v2/filters/{fid}/statuses",
                                     headers=auth(alice))) == []

    assert await ok(await client.delete(f"/api/v2/filters/{fid}", headers=auth(alice))) == {}
    assert (await client.get(f"/api/v2/filters/{fid}", headers=auth(alice))).status == 404
    assert await count(svc, "SELECT count(*) FROM filter_keywords WHERE filter_id = ?",
                       int(fid)) == 0


# -- filters applied -----------------------------------------------------------------------------


async def test_filters_in_timelines(clocked: TestClient, clock: FakeClock,
                                    assert_schema: Schema) -> None:
    client = clocked
    svc: Services = client.server.app[services_key]
    alice, bob = await reader_and_author(client, svc)
    cats = await post(client, bob, status="J'adore les CHATS")
    cat = await post(client, bob, status="Un chat, un seul")
    reply = await post(client, bob, status="Le chat dort", in_reply_to_id=cat["id"])
    hidden = await post(client, bob, status="Résultats du match", spoiler_text="football")
    plain = await post(client, bob, status="Rien à signaler")
    mine = await post(client, alice, status="mon chat et le football")
    boost = await ok(await client.post(f"/api/v1/statuses/{cats['id']}/reblog",
                                       headers=auth(bob)))

    warn = await new_filter(client, alice, title="Chats", context=["home", "public"],
                            keywords_attributes=[{"keyword": "chat", "whole_word": True}])
    hide = await new_filter(client, alice, title="Sport", context=["home"],
                            filter_action="hide", expires_in=3600,
                            keywords_attributes=[{"keyword": "FOOTBALL"}])
    await ok(await client.post(f"/api/v2/filters/{warn['id']}/statuses",
                               json={"status_id": cats["id"]}, headers=auth(alice)))

    home = await timeline(client, alice)
    # "football" in the spoiler text, any case: hidden at home; one's own post never is.
    assert hidden["id"] not in home
    assert set(home) == {boost["id"], mine["id"], plain["id"], reply["id"], cat["id"],
                         cats["id"]}
    assert home[mine["id"]]["filtered"] == [] and home[plain["id"]]["filtered"] == []
    # Whole word: "chat" matches "Un chat" and not "CHATS"; the filtered status matches too.
    results = home[cat["id"]]["filtered"]
    for result in results:
        assert_schema(result, "FilterResult")
    assert [(r["filter"]["id"], r["keyword_matches"], r["status_matches"])
            for r in results] == [(warn["id"], ["chat"], None)]
    assert "keywords" not in results[0]["filter"]
    assert [(r["keyword_matches"], r["status_matches"]) for r in
            home[cats["id"]]["filtered"]] == [(None, [cats["id"]])]
    # A boost of a filtered status is filtered too, outside and inside.
    assert [r["filter"]["id"] for r in home[boost["id"]]["filtered"]] == [warn["id"]]
    assert [r["filter"]["id"] for r in home[boost["id"]]["reblog"]["filtered"]] == [warn["id"]]

    # The hide filter is for home only: elsewhere the status shows, with its match listed
    # (as on Mastodon, every matching filter is listed; clients act on its context).
    public = await timeline(client, alice, "/api/v1/timelines/public")
    assert hidden["id"] in public
    assert [r["filter"]["filter_action"] for r in public[hidden["id"]]["filtered"]] == ["hide"]
    bob_id = cats["account"]["id"]
    account = await timeline(client, alice, f"/api/v1/accounts/{bob_id}/statuses")
    assert hidden["id"] in account
    # Anonymous readers and other residents are unaffected.
    anonymous = {s["id"]: s for s in await ok(await client.get("/api/v1/timelines/public"))}
    assert anonymous[cat["id"]]["filtered"] == []
    # In a thread, matches are listed (a client warns or hides by the filter's context).
    context = await ok(await client.get(f"/api/v1/statuses/{cat['id']}/context",
                                        headers=auth(alice)))
    assert [[r["filter"]["id"] for r in s["filtered"]] for s in context["descendants"]] == [
        [warn["id"]]]

    # An hour later the hide filter has expired: the status is back.
    clock.now += 3601
    home = await timeline(client, alice)
    assert hidden["id"] in home and home[hidden["id"]]["filtered"] == []
    assert hide["expires_at"] is not None


async def test_hide_filter_in_lists_and_short_pages(client: TestClient, svc: Services) -> None:
    alice, bob = await reader_and_author(client, svc)
    posted = [await post(client, bob, status=text) for text in (
        "un", "deux spoiler", "trois", "quatre spoiler")]
    await new_filter(client, alice, title="x", context=["home"], filter_action="hide",
                     keywords_attributes=[{"keyword": "spoiler"}])
    # A page of two read statuses, one of them hidden: the Link still goes on from both.
    response = await client.get(f"{HOME}?limit=2", headers=auth(alice))
    assert [s["id"] for s in await ok(response)] == [posted[2]["id"]]
    assert f"max_id={posted[2]['id']}" in response.headers["Link"]
    lst = await ok(await client.post("/api/v1/lists", json={"title": "Bob"},
                                     headers=auth(alice)))
    await ok(await client.post(f"/api/v1/lists/{lst['id']}/accounts",
                               json={"account_ids": [posted[0]["account"]["id"]]},
                               headers=auth(alice)))
    in_list = await timeline(client, alice, f"/api/v1/timelines/list/{lst['id']}")
    assert set(in_list) == {posted[0]["id"], posted[2]["id"]}


# -- filters v1 --------------------------------------------------------------------------------


async def test_filters_v1(client: TestClient, svc: Services, assert_schema: Schema) -> None:
    alice, bob = await reader_and_author(client, svc)
    created = await ok(await client.post("/api/v1/filters", json={
        "phrase": "météo", "context": ["home", "thread"], "irreversible": True,
        "whole_word": True}, headers=auth(alice)))
    assert_schema(created, "V1Filter")
    assert (created["phrase"], created["context"], created["irreversible"],
            created["whole_word"], created["expires_at"]) == (
        "météo", ["home", "thread"], True, True, None)
    # In v2 it is a hide filter with one keyword, whose id is the v1 filter's.
    v2 = await ok(await client.get("/api/v2/filters", headers=auth(alice)))
    assert [(f["title"], f["filter_action"], [k["id"] for k in f["keywords"]]) for f in v2] == [
        ("météo", "hide", [created["id"]])]
    status = await post(client, bob, status="La MÉTÉO de demain")
    assert status["id"] not in await timeline(client, alice)

    listed = await ok(await client.get("/api/v1/filters", headers=auth(alice)))
    for item in listed:
        assert_schema(item, "V1Filter")
    assert listed == [created]
    assert await ok(await client.get(f"/api/v1/filters/{created['id']}",
                                     headers=auth(alice))) == created
    updated = await ok(await client.put(f"/api/v1/filters/{created['id']}", json={
        "phrase": "pluie", "context": ["public"], "irreversible": False, "expires_in": 60},
        headers=auth(alice)))
    assert_schema(updated, "V1Filter")
    assert (updated["phrase"], updated["context"], updated["irreversible"],
            updated["whole_word"]) == ("pluie", ["public"], False, True)
    assert updated["expires_at"] is not None
    assert status["id"] in await timeline(client, alice)

    # A filter with two keywords cannot be changed through v1 (it shows only one of them).
    await ok(await client.post(f"/api/v2/filters/{v2[0]['id']}/keywords",
                               json={"keyword": "orage"}, headers=auth(alice)))
    refused = await client.put(f"/api/v1/filters/{created['id']}", json={
        "context": ["home"]}, headers=auth(alice))
    assert refused.status == 422
    assert (await ok(await client.get(f"/api/v1/filters/{created['id']}",
                                      headers=auth(alice))))["context"] == ["public"]
    assert len(await ok(await client.get("/api/v1/filters", headers=auth(alice)))) == 2

    # Deleting a v1 filter deletes its keyword, and the filter once it is empty.
    assert await ok(await client.delete(f"/api/v1/filters/{created['id']}",
                                        headers=auth(alice))) == {}
    assert await filters_count(svc) == (1, 1, 0)
    other = (await ok(await client.get("/api/v1/filters", headers=auth(alice))))[0]
    await ok(await client.delete(f"/api/v1/filters/{other['id']}", headers=auth(alice)))
    assert await filters_count(svc) == (0, 0, 0)


# -- bad input ---------------------------------------------------------------------------------


async def test_bad_input_changes_nothing(client: TestClient, svc: Services) -> None:
    alice, bob = await reader_and_author(client, svc)
    mine = await new_filter(client, alice, title="Mien", context=["home"],
                            keywords_attributes=[{"keyword": "secret"}])
    keyword_id = mine["keywords"][0]["id"]
    before = await filters_count(svc)

    for data in (
            {"title": "x", "context": ["home", "timeline"]},  # unknown context
            {"title": "x", "context": []},
            {"title": "x"},
            {"title": " ", "context": ["home"]},
            {"title": "x", "context": ["home"], "filter_action": "blur"},
            {"title": "x", "context": ["home"], "expires_in": "demain"},
            {"title": "x", "context": ["home"], "expires_in": -5},
            {"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": "a"},
                                                                        {"keyword": " "}]},
            {"title": "x", "context": ["home"], "keywords_attributes": [
                {"keyword": "a", "whole_word": "souvent"}]}):
        response = await client.post("/api/v2/filters", json=data, headers=auth(alice))
        assert response.status == 422, (data, await response.text())
        assert "error" in await response.json()
    response = await client.post("/api/v2/filters", json={
        "title": "x", "context": ["home"], "keywords_attributes": [{"id": keyword_id,
                                                                    "keyword": "a"}]},
        headers=auth(alice))
    assert response.status == 404
    response = await client.post("/api/v1/filters", json={"phrase": "x", "context": ["moon"]},
                                 headers=auth(alice))
    assert response.status == 422
    assert await filters_count(svc) == before

    # Updates that fail change nothing, not even their valid parts.
    for data in ({"title": "Nouveau", "context": ["home", "nowhere"]},
                 {"title": "Nouveau", "keywords_attributes": [{"keyword": "neuf"},
                                                               {"id": "999999",
                                                                "keyword": "x"}]},
                 {"filter_action": "delete"}):
        response = await client.put(f"/api/v2/filters/{mine['id']}", json=data,
                                    headers=auth(alice))
        assert response.status in (404, 422), data
    assert await ok(await client.get(f"/api/v2/filters/{mine['id']}",
                                     headers=auth(alice))) == mine

    # Another resident's filter, keyword or status does not exist for bob.
    status = await post(client, bob, status="x")
    entry = await ok(await client.post(f"/api/v2/filters/{mine['id']}/statuses",
                                       json={"status_id": status["id"]}, headers=auth(alice)))
    before = await filters_count(svc)
    for method, path, body in (
            ("GET", f"/api/v2/filters/{mine['id']}", None),
            ("PUT", f"/api/v2/filters/{mine['id']}", {"title": "À moi"}),
            ("DELETE", f"/api/v2/filters/{mine['id']}", None),
            ("GET", f"/api/v2/filters/{mine['id']}/keywords", None),
            ("POST", f"/api/v2/filters/{mine['id']}/keywords", {"keyword": "x"}),
            ("GET", f"/api/v2/filters/keywords/{keyword_id}", None),
            ("PUT", f"/api/v2/filters/keywords/{keyword_id}", {"keyword": "x"}),
            ("DELETE", f"/api/v2/filters/keywords/{keyword_id}", None),
            ("GET", f"/api/v2/filters/{mine['id']}/statuses", None),
            ("POST", f"/api/v2/filters/{mine['id']}/statuses", {"status_id": status["id"]}),
            ("GET", f"/api/v2/filters/statuses/{entry['id']}", None),
            ("DELETE", f"/api/v2/filters/statuses/{entry['id']}", None),
            ("GET", f"/api/v1/filters/{keyword_id}", None),
            ("PUT", f"/api/v1/filters/{keyword_id}", {"phrase": "x"}),
            ("DELETE", f"/api/v1/filters/{keyword_id}", None)):
        response = await client.request(method, path, json=body, headers=auth(bob))
        assert response.status == 404, (method, path, await response.text())
    assert await ok(await client.get("/api/v2/filters", headers=auth(bob))) == []
    assert await filters_count(svc) == before

    # Statuses: twice, unknown, or not visible.
    direct = await post(client, bob, status="@bob moi-même", visibility="direct")
    for value in (status["id"], "123", "abc", direct["id"]):
        response = await client.post(f"/api/v2/filters/{mine['id']}/statuses",
                                     json={"status_id": value}, headers=auth(alice))
        assert response.status == 422, value
    assert await filters_count(svc) == before

    # Scopes: read:filters to read, write:filters to write.
    reader = await make_token(svc, "alice", "read:filters")
    statuses_only = await make_token(svc, "alice", "read:statuses")
    for method, path in (("POST", "/api/v2/filters"), ("DELETE", f"/api/v2/filters/{mine['id']}"),
                         ("POST", "/api/v1/filters"),
                         ("PUT", f"/api/v2/filters/keywords/{keyword_id}")):
        response = await client.request(method, path, json={
            "title": "x", "phrase": "x", "context": ["home"]}, headers=auth(reader))
        assert response.status == 403, (method, path)
    for path in ("/api/v2/filters", "/api/v1/filters", f"/api/v2/filters/{mine['id']}"):
        assert (await client.get(path, headers=auth(statuses_only))).status == 403
        assert (await client.get(path)).status == 401
        assert (await client.get(path, headers=auth(reader))).status == 200
    assert await filters_count(svc) == before


# -- Mastodon.py, end to end over a real socket -----------------------------------------------


async def test_mastodon_py_filter_flow(real_server: RealServer) -> None:
    base = real_server.base_url
    svc = real_server.svc
    for name in ("alice", "bob"):
        await make_user(svc, name)

    def flow() -> dict[str, Any]:
        alice, bob = login(base, "alice"), login(base, "bob")
        alice.account_follow(alice.account_lookup("bob"))
        warned = bob.status_post("Les épinards, quelle horreur")
        hidden = bob.status_post("Le brocoli aussi")
        kept = bob.status_post("Vive les frites")
        warn = alice.create_filter_v2("Légumes", ["home"], "warn", keywords_attributes=[
            {"keyword": "épinards", "whole_word": True}])
        hide = alice.create_filter_v2("Brocoli", ["home", "public"], "hide",
                                      expires_in=3600)
        keyword = alice.add_filter_keyword_v2(hide, "brocoli", whole_word=False)
        result = {"warned": warned, "hidden": hidden, "kept": kept, "warn": warn,
                  "hide": hide, "keyword": keyword, "home": alice.timeline_home(),
                  "filters": alice.filters_v2(),
                  "keywords": alice.filter_keywords_v2(hide)}
        alice.delete_filter_v2(hide)
        result["after"] = alice.filters_v2()
        result["home_after"] = alice.timeline_home()
        return result

    r = await asyncio.to_thread(flow)
    home = {s["id"]: s for s in r["home"]}
    assert set(home) == {r["warned"]["id"], r["kept"]["id"]}
    assert [f["filter"]["title"] for f in home[r["warned"]["id"]]["filtered"]] == ["Légumes"]
    assert home[r["warned"]["id"]]["filtered"][0]["keyword_matches"] == ["épinards"]
    assert home[r["kept"]["id"]]["filtered"] == []
    assert r["hide"]["expires_at"] is not None
    assert [f["title"] for f in r["filters"]] == ["Légumes", "Brocoli"]
    assert [k["keyword"] for k in r["keywords"]] == ["brocoli"]
    assert [f["id"] for f in r["after"]] == [r["warn"]["id"]]
    assert r["hidden"]["id"] in {s["id"] for s in r["home_after"]}
