"""Polls: creating a status with a poll (JSON and form), reading and voting, the ``Question``
a poll is federated as, refusals that change nothing (too few or many options, over-long or
repeated ones, durations out of range, a poll with media; voting twice, in one's own poll,
for an unknown option, after the end), the ``poll`` notifications when a poll ends (a durable
job on a hand-moved clock), votes across two instances over real HTTP (a remote vote counted,
counts coming back in an Update of the Question), and Mastodon.py."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from fediverse_mu.activitypub.polls import parse_poll
from fediverse_mu.appkeys import federation_key, services_key, worker_key
from fediverse_mu.domain.polls import MAX_EXPIRATION
from fediverse_mu.services import following, polls, posting
from fediverse_mu.services.context import Services
from fediverse_mu.services.polls import check_new_poll
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
    settle,
)
from tests.web.test_accounts_api import remote_account

POLL = {"options": ["Samedi", "Dimanche"], "expires_in": 3600}


async def _votes(svc: Services) -> list[Any]:
    return await svc.storage.read(lambda db: [tuple(r) for r in db.execute(
        "SELECT votes, voters_count FROM polls").fetchall()])


async def test_a_poll_is_created_read_and_voted_in(client: TestClient, svc: Services,
                                                   assert_schema: Any) -> None:
    alice, bob, carol = [await make_token(svc, n) for n in ("alice", "bob", "carol")]
    status = await post(client, alice, status="Quand faire le vide-grenier ?", poll=POLL)
    assert_schema(status, "Status")
    poll = status["poll"]
    assert_schema(poll, "Poll")
    assert poll["id"] == status["id"] and poll["multiple"] is False
    assert [o["title"] for o in poll["options"]] == ["Samedi", "Dimanche"]
    assert poll["votes_count"] == 0 and poll["voted"] is False and poll["own_votes"] == []
    assert poll["expired"] is False and poll["expires_at"] is not None

    voted = await ok(await client.post(f"/api/v1/polls/{poll['id']}/votes",
                                       json={"choices": [1]}, headers=auth(bob)))
    assert_schema(voted, "Poll")
    assert voted["voted"] is True and voted["own_votes"] == [1]
    assert [o["votes_count"] for o in voted["options"]] == [0, 1]
    assert voted["voters_count"] == 1

    # A form, as older clients send it, and a multiple-choice poll.
    form = await ok(await client.post("/api/v1/statuses", headers=auth(carol), data=[
        ("status", "Quels légumes ?"), ("poll[options][]", "Poireaux"),
        ("poll[options][]", "Courges"), ("poll[options][]", "Navets"),
        ("poll[expires_in]", "86400"), ("poll[multiple]", "true"),
        ("poll[hide_totals]", "true")]))
    assert form["poll"]["multiple"] is True
    assert [o["votes_count"] for o in form["poll"]["options"]] == [None] * 3  # hidden
    both = await ok(await client.post(f"/api/v1/polls/{form['id']}/votes", headers=auth(bob),
                                      data=[("choices[]", "0"), ("choices[]", "2")]))
    assert both["own_votes"] == [0, 2] and both["votes_count"] == 2
    assert both["voters_count"] == 1

    # Reading: anyone for a public poll, without voted/own_votes when anonymous.
    anonymous = await ok(await client.get(f"/api/v1/polls/{poll['id']}"))
    assert_schema(anonymous, "Poll")
    assert "voted" not in anonymous and anonymous["votes_count"] == 1
    mine = await ok(await client.get(f"/api/v1/polls/{poll['id']}", headers=auth(bob)))
    assert mine["own_votes"] == [1]
    seen = await ok(await client.get(f"/api/v1/statuses/{status['id']}", headers=auth(bob)))
    assert seen["poll"]["own_votes"] == [1]

    # Federated as a Question.
    question = await ok(await client.get(
        f"/users/alice/statuses/{status['id']}",
        headers={"Accept": "application/activity+json"}))
    assert question["type"] == "Question"
    assert question["oneOf"] == [
        {"type": "Note", "name": "Samedi", "replies": {"type": "Collection", "totalItems": 0}},
        {"type": "Note", "name": "Dimanche",
         "replies": {"type": "Collection", "totalItems": 1}}]
    assert question["votersCount"] == 1 and "endTime" in question and "closed" not in question
    parsed = parse_poll(question)
    assert parsed is not None and parsed.options == ("Samedi", "Dimanche")
    assert parsed.votes == (0, 1) and not parsed.multiple and not parsed.closed


async def test_bad_polls_change_nothing(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bad: list[dict[str, Any]] = [
        {"options": ["Seul"], "expires_in": 3600},
        {"options": ["a", "b", "c", "d", "e"], "expires_in": 3600},
        {"options": ["a", "x" * 51], "expires_in": 3600},
        {"options": ["a", "a"], "expires_in": 3600},
        {"options": ["a", " "], "expires_in": 3600},
        {"options": ["a", "b"], "expires_in": 299},
        {"options": ["a", "b"], "expires_in": MAX_EXPIRATION + 1},
        {"options": ["a", "b"], "expires_in": "demain"},
        {"options": ["a", "b"]},
        {"expires_in": 3600},
    ]
    for poll in bad:
        response = await client.post("/api/v1/statuses", json={"status": "?", "poll": poll},
                                     headers=auth(alice))
        assert response.status == 422, poll
        assert "error" in await response.json()
    response = await client.post("/api/v1/statuses", json={
        "status": "?", "poll": POLL, "media_ids": ["1"]}, headers=auth(alice))
    assert response.status == 422
    assert await count(svc, "SELECT count(*) FROM statuses") == 0
    assert await count(svc, "SELECT count(*) FROM polls") == 0
    assert await count(svc, "SELECT count(*) FROM jobs") == 0


async def test_bad_votes_change_nothing(client: TestClient, svc: Services) -> None:
    alice, bob, eve = [await make_token(svc, n) for n in ("alice", "bob", "eve")]
    poll_id = (await post(client, alice, status="?", poll=POLL))["id"]
    private = (await post(client, alice, status="!", poll=POLL, visibility="private"))["id"]
    await ok(await client.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]},
                               headers=auth(bob)))
    before = await _votes(svc)
    cases = [
        (bob, poll_id, {"choices": [1]}, 422),  # twice
        (eve, poll_id, {"choices": [2]}, 422),  # unknown option
        (eve, poll_id, {"choices": [-1]}, 422),
        (eve, poll_id, {"choices": [0, 1]}, 422),  # two choices, single-choice poll
        (eve, poll_id, {"choices": []}, 422),
        (eve, poll_id, {"choices": ["x"]}, 422),
        (alice, poll_id, {"choices": [0]}, 422),  # one's own poll
        (eve, private, {"choices": [0]}, 404),  # cannot see it
        (eve, "123456789", {"choices": [0]}, 404),
        (eve, "abc", {"choices": [0]}, 404),
    ]
    for token, target, body, status in cases:
        response = await client.post(f"/api/v1/polls/{target}/votes", json=body,
                                     headers=auth(token))
        assert response.status == status, (target, body)
        assert "error" in await response.json()
    assert await _votes(svc) == before
    assert await count(svc, "SELECT count(*) FROM poll_votes") == 1
    assert (await client.get(f"/api/v1/polls/{private}", headers=auth(eve))).status == 404
    assert (await client.post(f"/api/v1/polls/{poll_id}/votes",
                              json={"choices": [0]})).status == 401


async def test_a_poll_ends_with_notifications(clocked: TestClient, clock: FakeClock,
                                              assert_schema: Any) -> None:
    svc: Services = clocked.app[services_key]
    alice, bob, carol = [await make_token(svc, n) for n in ("alice", "bob", "carol")]
    status = await post(clocked, alice, status="Pique-nique ?", poll=POLL)
    await ok(await clocked.post(f"/api/v1/polls/{status['id']}/votes", json={"choices": [0]},
                                headers=auth(bob)))
    worker = clocked.app[worker_key]
    await worker.run_until_idle()
    assert await count(svc, "SELECT count(*) FROM notifications WHERE type = 'poll'") == 0

    clock.advance(3601)
    response = await clocked.post(f"/api/v1/polls/{status['id']}/votes",
                                  json={"choices": [1]}, headers=auth(carol))
    assert response.status == 422 and "ended" in (await response.json())["error"]
    await worker.run_until_idle()
    for token in (alice, bob):
        listed = await ok(await clocked.get("/api/v1/notifications?types[]=poll",
                                            headers=auth(token)))
        assert len(listed) == 1
        assert_schema(listed[0], "Notification")
        assert listed[0]["type"] == "poll" and listed[0]["status"]["id"] == status["id"]
        assert listed[0]["status"]["poll"]["expired"] is True
    assert await ok(await clocked.get("/api/v1/notifications", headers=auth(carol))) == []
    ended = await ok(await clocked.get(f"/api/v1/polls/{status['id']}"))
    assert ended["expired"] is True and ended["votes_count"] == 1
    # A second run of the job (a crash after the commit) notifies nobody twice.
    assert await polls.end_poll(svc, int(status["id"])) == 0
    assert await count(svc, "SELECT count(*) FROM notifications WHERE type = 'poll'") == 2


async def test_votes_across_instances(instances: Any) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    await make_user(a.svc, "carol")
    remote_alice = await b.app[federation_key].resolve_handle("alice@a.test")
    await following.follow(b.svc, bob, remote_alice)
    await settle(a, b)

    draft = await posting.prepare(a.svc, alice, text="Quel jour pour la fête ?",
                                  poll=check_new_poll(["Samedi", "Dimanche", "Lundi"], 7200,
                                                      multiple=True))
    created = await posting.create_status(a.svc, alice, draft)
    await settle(a, b)
    copy = await posting.get_view_by_uri(b.svc, created.status.uri, bob)
    assert copy is not None and copy.poll is not None
    assert copy.poll.options == ("Samedi", "Dimanche", "Lundi") and copy.poll.multiple

    # bob votes on b.test: two Notes named after the options go to alice's server.
    token_b = await make_token(b.svc, "bob")
    status, voted = await _post_json(b, f"/api/v1/polls/{copy.status.id}/votes", token_b,
                                     {"choices": [0, 2]})
    assert status == 200 and voted["own_votes"] == [0, 2]
    await settle(a, b)
    token_a = await make_token(a.svc, "carol")
    status, there = await a.get_json(f"/api/v1/polls/{created.status.id}",
                                     headers=auth(token_a))
    assert [o["votes_count"] for o in there["options"]] == [1, 0, 1]
    assert there["voters_count"] == 1

    # carol votes on a.test; the new counts reach b.test in an Update of the Question.
    status, _ = await _post_json(a, f"/api/v1/polls/{created.status.id}/votes", token_a,
                                 {"choices": [1]})
    assert status == 200
    await settle(a, b)
    status, here = await b.get_json(f"/api/v1/polls/{copy.status.id}", headers=auth(token_b))
    assert [o["votes_count"] for o in here["options"]] == [1, 1, 1]
    assert here["voters_count"] == 2 and here["own_votes"] == [0, 2]
    assert await count(b.svc, "SELECT count(*) FROM status_edits") == 0  # not an edit

    # A repeated or forged vote is not counted twice.
    status, _ = await _post_json(b, f"/api/v1/polls/{copy.status.id}/votes", token_b,
                                 {"choices": [1]})
    assert status == 422
    await settle(a, b)
    assert await count(a.svc, "SELECT count(*) FROM poll_votes") == 3


async def _post_json(inst: Any, path: str, token: str, body: Any) -> tuple[int, Any]:
    async with inst.http.post(inst.base_url + path, json=body, headers=auth(token)) as r:
        return r.status, await r.json()


async def test_mastodon_py_polls(real_server: RealServer) -> None:
    await make_user(real_server.svc, "alice")
    await make_user(real_server.svc, "bob")
    base = real_server.base_url

    def flow() -> tuple[Any, Any, Any]:
        alice, bob = login(base, "alice"), login(base, "bob")
        status = alice.status_post("Thé ou café ?", poll=alice.make_poll(
            ["Thé", "Café"], expires_in=600))
        voted = bob.poll_vote(status["poll"], [0])
        return status, voted, alice.poll(status["poll"])

    status, voted, seen = await asyncio.to_thread(flow)
    assert [o["title"] for o in status["poll"]["options"]] == ["Thé", "Café"]
    assert voted["own_votes"] == [0]
    assert seen["votes_count"] == 1 and seen["voted"] is False


async def test_received_votes_are_checked(clocked: TestClient, clock: FakeClock) -> None:
    svc: Services = clocked.app[services_key]
    alice = await make_token(svc, "alice")
    zoe = await remote_account(svc, "zoe", "c.test")
    single = await post(clocked, alice, status="Un seul choix", poll=POLL)
    multi = await post(clocked, alice, status="Plusieurs", poll={**POLL, "multiple": True})
    hidden = await post(clocked, alice, status="Privé", poll=POLL, visibility="private")

    def vote(status: dict[str, Any], name: str, n: int = 0, **extra: Any) -> dict[str, Any]:
        return {"id": f"http://c.test/users/zoe#votes/{status['id']}/{n}", "type": "Note",
                "name": name, "attributedTo": zoe.actor_uri, "inReplyTo": status["uri"],
                **extra}

    assert await polls.receive_vote(svc, zoe, vote(single, "Samedi")) is None
    assert await polls.receive_vote(svc, zoe, vote(single, "Dimanche", 1)) == "repeated vote"
    assert await polls.receive_vote(svc, zoe, vote(multi, "Samedi")) is None
    assert await polls.receive_vote(svc, zoe, vote(multi, "Dimanche", 1)) is None
    assert await polls.receive_vote(svc, zoe, vote(multi, "Samedi", 2)) == "repeated vote"
    assert await polls.receive_vote(svc, zoe, vote(multi, "Mardi", 3)) == \
        "vote for an unknown option"
    assert await polls.receive_vote(svc, zoe, vote(hidden, "Samedi")) == \
        "vote in a poll the voter cannot see"
    assert await polls.receive_vote(svc, zoe, vote(single, "Samedi", content="<p>Hé</p>")) == \
        "not a vote"
    unknown = {**vote(single, "Samedi"), "inReplyTo": "http://a.test/users/alice/statuses/1"}
    assert await polls.receive_vote(svc, zoe, unknown) == "vote in an unknown poll"
    clock.advance(3601)
    assert await polls.receive_vote(svc, zoe, vote(multi, "Samedi", 9)) == \
        "vote in an ended poll"
    seen = await ok(await clocked.get(f"/api/v1/polls/{single['id']}"))
    assert [o["votes_count"] for o in seen["options"]] == [1, 0]
    seen = await ok(await clocked.get(f"/api/v1/polls/{multi['id']}"))
    assert [o["votes_count"] for o in seen["options"]] == [1, 1]
    assert seen["voters_count"] == 1
    assert await count(svc, "SELECT count(*) FROM poll_votes") == 3
