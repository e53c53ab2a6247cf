"""Listening groups across three instances over real HTTP (FEP-1b12): a group on a.test,
members on b.test and c.test. Joining (open and on approval, with the charter sent as a
direct message and an exclusive list per member), posts by mention reaching every member
through the group's Announce, replies staying in the group, removal by a moderator honoured
everywhere, members-only groups never showing their posts to anyone else, bans; and the bad
input that must change nothing: a non-member or banned author, a forged Announce, a removal
by someone who is not a moderator."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fediverse_mu.activitypub.vocab import AS_PUBLIC
from fediverse_mu.appkeys import federation_key
from fediverse_mu.domain import Account, FollowState
from fediverse_mu.domain.groups import Group, GroupAction
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.statuses import StatusView
from fediverse_mu.services import following, groups, lists, posting
from tests.conftest import Instance, auth, count, make_token, make_user, ok, settle

Start = Callable[..., Awaitable[list[Instance]]]
AS2 = "application/activity+json"
CHARTER = "Ici on écoute sans juger.\n\nOn parle de soi, pas des autres."


async def _post(inst: Instance, author: Account, text: str, **options: Any) -> StatusView:
    fed = inst.app[federation_key]

    async def resolve(handle: str) -> Account | None:
        return await fed.resolve_handle(handle)

    draft = await posting.prepare(inst.svc, author, text=text, resolve=resolve, **options)
    return await posting.create_status(inst.svc, author, draft)


async def _join(inst: Instance, member: Account, handle: str = "ecoute@a.test") -> Account:
    group = await inst.app[federation_key].resolve_handle(handle)
    await following.follow(inst.svc, member, group)
    return group


async def _group_list_ids(inst: Instance, member: Account) -> list[str]:
    """The URIs of the posts in the member's list for the group (boosts unwrapped)."""
    found = [lst for lst in await lists.lists_of(inst.svc, member) if lst.title == "Écoute"]
    assert len(found) == 1 and found[0].exclusive
    views = await lists.timeline(inst.svc, member, found[0].id, Page(limit=40))
    return [(v.reblog or v).status.uri for v in views]


async def _home_ids(inst: Instance, member: Account) -> list[str]:
    views = await posting.home_timeline(inst.svc, member, Page(limit=40))
    return [(v.reblog or v).status.uri for v in views]


async def _group_posts(inst: Instance) -> int:
    return await count(inst.svc, "SELECT count(*) FROM group_posts")


async def _statuses(inst: Instance) -> int:
    return await count(inst.svc, "SELECT count(*) FROM statuses")


async def signed_post(sender: Instance, signer: Account, url: str, body: bytes) -> int:
    """POST ``body`` to ``url`` signed as ``signer``."""
    fed = sender.app[federation_key]
    response = await fed.transport.post(url, body, headers={"Content-Type": AS2},
                                        sign=await fed.signer(signer))
    return response.status


async def _inbox_errors(inst: Instance) -> list[str]:
    rows = await inst.svc.storage.read(lambda db: db.execute(
        "SELECT error FROM inbox_items WHERE error IS NOT NULL ORDER BY id").fetchall())
    return [r[0] for r in rows]


async def _setup(instances: Start, **options: Any) -> tuple[
        Instance, Instance, Instance, Account, Account, Account, Group]:
    a, b, c = await instances("a.test", "b.test", "c.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    carol = (await make_user(c.svc, "carol")).account
    group = await groups.create_group(a.svc, "ecoute", title="Écoute", charter=CHARTER,
                                      creator=alice, **options)
    return a, b, c, alice, bob, carol, group


async def test_the_group_actor_and_webfinger(instances: Start) -> None:
    a, _, _, alice, _, _, group = await _setup(instances, approval=True)
    status, jrd = await a.get_json("/.well-known/webfinger?resource=acct:ecoute@a.test")
    assert status == 200 and jrd["subject"] == "acct:ecoute@a.test"
    status, actor = await a.get_json("/users/ecoute", headers={"Accept": AS2})
    assert status == 200
    assert actor["type"] == "Group" and actor["name"] == "Écoute"
    assert actor["inbox"] == "http://a.test/users/ecoute/inbox"
    assert actor["followers"] == "http://a.test/users/ecoute/followers"
    assert actor["attributedTo"] == "http://a.test/users/ecoute/moderators"
    assert actor["manuallyApprovesFollowers"] is True
    assert actor["postingRestrictedToMods"] is False
    assert actor["url"] == "http://a.test/groups/ecoute"
    assert "On parle de soi" in actor["summary"]
    assert "BEGIN PUBLIC KEY" in actor["publicKey"]["publicKeyPem"]
    status, moderators = await a.get_json("/users/ecoute/moderators", headers={"Accept": AS2})
    assert status == 200 and moderators["orderedItems"] == [alice.actor_uri]
    assert group.is_moderator(alice)


async def test_a_post_by_mention_reaches_every_member_and_replies_stay(
        instances: Start) -> None:
    a, b, c, _, bob, carol, _ = await _setup(instances)
    anna = (await make_user(a.svc, "anna")).account
    await _join(b, bob)
    await _join(c, carol)
    await _join(a, anna, "ecoute@a.test")
    await settle(a, b, c)
    for inst, member in ((b, bob), (c, carol)):
        remote_group = await inst.app[federation_key].resolve_handle("ecoute@a.test")
        follow = await following.get_follow(inst.svc, member, remote_group)
        assert follow is not None and follow.state is FollowState.ACCEPTED
    # The charter arrives as a direct message from the group.
    welcome = await count(c.svc, "SELECT count(*) FROM statuses s JOIN mentions m ON"
                          " m.status_id = s.id WHERE s.visibility = 'direct'"
                          " AND m.account_id = ? AND s.content LIKE '%sans juger%'", carol.id)
    assert welcome == 1

    post = await _post(b, bob, "@ecoute@a.test Je me sens seul ce soir.")
    await settle(a, b, c)
    assert await _group_posts(a) == 1
    for inst, member in ((b, bob), (c, carol), (a, anna)):
        assert await _group_list_ids(inst, member) == [post.status.uri]
    # The list is exclusive: the group's boosts stay out of the home timeline.
    assert post.status.uri not in await _home_ids(c, carol)

    copy = await posting.get_view_by_uri(c.svc, post.status.uri, carol)
    assert copy is not None
    reply = await _post(c, carol, "@bob@b.test On est là, on t'écoute.",
                        in_reply_to_id=copy.status.id)
    await settle(a, b, c)
    assert await _group_posts(a) == 2  # the reply stayed in the group
    assert reply.status.uri in await _group_list_ids(b, bob)
    assert reply.status.uri in await _group_list_ids(a, anna)


async def test_a_moderator_removes_a_post_everywhere(instances: Start) -> None:
    a, b, c, alice, bob, carol, group = await _setup(instances)
    await _join(b, bob)
    await _join(c, carol)
    await settle(a, b, c)
    post = await _post(b, bob, "@ecoute@a.test Un message à retirer")
    await settle(a, b, c)
    assert await _group_list_ids(c, carol) == [post.status.uri]
    on_a = await posting.get_status_by_uri(a.svc, post.status.uri)
    assert on_a is not None
    await groups.remove_post(a.svc, alice, group, on_a.id, "hors charte")
    await settle(a, b, c)
    assert await _group_list_ids(c, carol) == []
    assert await _group_list_ids(b, bob) == []
    assert await posting.get_view_by_uri(c.svc, post.status.uri, carol) is None  # gone on C
    log = await groups.moderation_log(a.svc, alice, group)
    assert log[0].action is GroupAction.REMOVE_POST and log[0].detail == "hors charte"
    assert log[0].moderator == alice


async def test_joining_on_approval_goes_through_the_moderators(instances: Start) -> None:
    a, b, c, alice, bob, _, group = await _setup(instances, approval=True)
    token = await make_token(a.svc, "alice")
    await _join(b, bob)
    await settle(a, b, c)
    remote_group = await b.app[federation_key].resolve_handle("ecoute@a.test")
    follow = await following.get_follow(b.svc, bob, remote_group)
    assert follow is not None and follow.state is FollowState.PENDING
    client = a.http
    base = a.base_url
    async with client.get(f"{base}/api/v1/notifications", headers=auth(token)) as r:
        notes = await ok(r)
    assert [(n["type"], n["account"]["acct"]) for n in notes] == [("follow_request",
                                                                   "bob@b.test")]
    async with client.get(f"{base}/api/v1/follow_requests", headers=auth(token)) as r:
        requests = await ok(r)
    assert [x["acct"] for x in requests] == ["bob@b.test"]
    async with client.post(f"{base}/api/v1/follow_requests/{requests[0]['id']}/authorize",
                           headers=auth(token)) as r:
        await ok(r)
    await settle(a, b, c)
    follow = await following.get_follow(b.svc, bob, remote_group)
    assert follow is not None and follow.state is FollowState.ACCEPTED
    assert (await groups.moderation_log(a.svc, alice, group))[0].action is \
        GroupAction.APPROVE
    async with client.get(f"{base}/api/v1/follow_requests", headers=auth(token)) as r:
        assert await ok(r) == []


async def test_members_only_posts_are_never_shown_to_others(instances: Start) -> None:
    a, b, c, _, bob, carol, _ = await _setup(instances, members_only=True)
    await make_user(c.svc, "dave")
    await _join(b, bob)
    await _join(c, carol)
    await settle(a, b, c)
    # A public post to a members-only group is not relayed.
    await _post(b, bob, "@ecoute@a.test public, donc pas pour le groupe")
    await settle(a, b, c)
    assert await _group_posts(a) == 0
    secret = await _post(b, bob, "@ecoute@a.test Entre nous seulement",
                         visibility="direct")
    await settle(a, b, c)
    assert await _group_posts(a) == 1
    assert await _group_list_ids(c, carol) == [secret.status.uri]
    on_c = await posting.get_status_by_uri(c.svc, secret.status.uri)
    assert on_c is not None
    carol_token = await make_token(c.svc, "carol")
    dave_token = await make_token(c.svc, "dave")
    async with c.http.get(f"{c.base_url}/api/v1/statuses/{on_c.id}",
                          headers=auth(carol_token)) as r:
        assert "Entre nous" in (await ok(r))["content"]
    async with c.http.get(f"{c.base_url}/api/v1/statuses/{on_c.id}",
                          headers=auth(dave_token)) as r:
        assert r.status == 404
    for inst in (a, b, c):
        async with inst.http.get(f"{inst.base_url}/api/v1/timelines/public") as r:
            assert "Entre nous" not in json.dumps(await ok(r))
    async with b.http.get(secret.status.uri, headers={"Accept": AS2}) as r:
        assert r.status == 404  # never served as a document
    async with a.http.get("http://a.test/groups/ecoute") as r:
        assert r.status == 200 and "Entre nous" not in await r.text()


async def test_a_banned_member_is_no_longer_announced(instances: Start) -> None:
    a, b, c, alice, bob, carol, group = await _setup(instances)
    await _join(b, bob)
    await _join(c, carol)
    await settle(a, b, c)
    remote_carol = await a.app[federation_key].resolve_handle("carol@c.test")
    await groups.remove_member(a.svc, alice, group, remote_carol, ban=True, reason="insultes")
    await settle(a, b, c)
    before = (await _group_posts(a), await _statuses(a), await _statuses(b))
    await _post(c, carol, "@ecoute@a.test encore moi")
    await settle(a, b, c)
    assert (await _group_posts(a), await _statuses(a), await _statuses(b)) == before
    assert any("banned" in e for e in await _inbox_errors(a))
    # Joining again is refused too.
    await _join(c, carol)
    await settle(a, b, c)
    assert not await groups.is_member(a.svc, group.account, remote_carol)
    assert (await groups.moderation_log(a.svc, alice, group))[0].action is \
        GroupAction.BAN


async def test_a_non_member_cannot_post_to_the_group(instances: Start) -> None:
    a, b, c, _, bob, carol, _ = await _setup(instances)
    await _join(b, bob)
    await settle(a, b, c)
    before = (await _group_posts(a), await _statuses(a), await _statuses(b))
    await _post(c, carol, "@ecoute@a.test je ne suis pas membre")
    await settle(a, b, c)
    assert (await _group_posts(a), await _statuses(a), await _statuses(b)) == before
    assert any("not a member" in e for e in await _inbox_errors(a))


async def test_a_forged_group_announce_is_refused(instances: Start) -> None:
    a, b, c, _, bob, carol, _ = await _setup(instances)
    anna = (await make_user(a.svc, "anna")).account
    await _join(b, bob)
    await settle(a, b, c)
    fake_note = {"id": "http://c.test/users/carol/statuses/1", "type": "Note",
                 "attributedTo": carol.actor_uri, "content": "faux",
                 "published": "2030-01-01T00:00:00Z", "to": [AS_PUBLIC]}
    before = (await _statuses(b), await count(b.svc, "SELECT count(*) FROM inbox_items"))
    for signer, sender, ident in ((carol, c, "1"), (anna, a, "2")):
        forged = {"@context": "https://www.w3.org/ns/activitystreams",
                  "id": f"http://a.test/users/ecoute/announces/forged{ident}",
                  "type": "Announce", "actor": "http://a.test/users/ecoute",
                  "to": [AS_PUBLIC], "object": {"id": f"{fake_note['id']}/activity",
                                                "type": "Create", "actor": carol.actor_uri,
                                                "object": fake_note}}
        status = await signed_post(sender, signer, "http://b.test/inbox",
                                   json.dumps(forged).encode())
        assert status == 401  # the signer is not the group
    await settle(a, b, c)
    assert (await _statuses(b), await count(b.svc, "SELECT count(*) FROM inbox_items")) == \
        before


async def test_a_group_announce_of_a_post_missing_at_its_origin_is_refused(
        instances: Start) -> None:
    a, b, c, _, bob, carol, group = await _setup(instances)
    await _join(b, bob)
    await settle(a, b, c)
    # The group itself (its own key) announces a public post carol never wrote.
    fake_note = {"id": "http://c.test/users/carol/statuses/424242", "type": "Note",
                 "attributedTo": carol.actor_uri, "content": "jamais écrit",
                 "published": "2030-01-01T00:00:00Z", "to": [AS_PUBLIC]}
    announce = {"@context": "https://www.w3.org/ns/activitystreams",
                "id": "http://a.test/users/ecoute/announces/x1", "type": "Announce",
                "actor": group.account.actor_uri, "to": [AS_PUBLIC],
                "object": {"id": f"{fake_note['id']}/activity", "type": "Create",
                           "actor": carol.actor_uri, "object": fake_note}}
    before = await _statuses(b)
    assert await signed_post(a, group.account, "http://b.test/inbox",
                             json.dumps(announce).encode()) == 202
    await settle(a, b, c)
    assert await _statuses(b) == before
    assert any("not at its origin" in e for e in await _inbox_errors(b))


async def test_a_removal_by_a_non_moderator_is_refused(instances: Start) -> None:
    a, b, c, _, bob, carol, _ = await _setup(instances)
    await _join(b, bob)
    await _join(c, carol)
    await settle(a, b, c)
    post = await _post(b, bob, "@ecoute@a.test reste là")
    await settle(a, b, c)
    delete = {"@context": "https://www.w3.org/ns/activitystreams",
              "id": "http://c.test/users/carol#deletes/1", "type": "Delete",
              "actor": carol.actor_uri, "object": post.status.uri}
    assert await signed_post(c, carol, "http://a.test/users/ecoute/inbox",
                             json.dumps(delete).encode()) == 202
    await settle(a, b, c)
    assert await count(a.svc, "SELECT count(*) FROM group_posts WHERE removed_at IS NULL") == 1
    assert await _group_list_ids(b, bob) == [post.status.uri]
    on_a = await posting.get_status_by_uri(a.svc, post.status.uri)
    assert on_a is not None and on_a.deleted_at is None
    assert any("not a moderator" in e for e in await _inbox_errors(a))


async def test_a_remote_moderator_removes_a_post(instances: Start) -> None:
    a, b, c, alice, bob, carol, group = await _setup(instances)
    await _join(b, bob)
    await _join(c, carol)
    await settle(a, b, c)
    remote_carol = await a.app[federation_key].resolve_handle("carol@c.test")
    await groups.add_moderator(a.svc, alice, group, remote_carol)
    post = await _post(b, bob, "@ecoute@a.test à retirer par carol")
    await settle(a, b, c)
    delete = {"@context": "https://www.w3.org/ns/activitystreams",
              "id": "http://c.test/users/carol#deletes/2", "type": "Delete",
              "actor": carol.actor_uri, "object": post.status.uri}
    assert await signed_post(c, carol, "http://a.test/users/ecoute/inbox",
                             json.dumps(delete).encode()) == 202
    await settle(a, b, c)
    assert await _group_list_ids(b, bob) == []
    assert await count(a.svc, "SELECT count(*) FROM group_posts WHERE removed_at IS NULL") == 0
    fresh = await groups.get_group(a.svc, "ecoute")
    log = await groups.moderation_log(a.svc, alice, fresh)
    assert log[0].action is GroupAction.REMOVE_POST and log[0].moderator == remote_carol


async def test_edits_deletes_and_likes_are_announced(instances: Start) -> None:
    a, b, c, _, bob, carol, _ = await _setup(instances)
    await _join(b, bob)
    await _join(c, carol)
    await settle(a, b, c)
    post = await _post(b, bob, "@ecoute@a.test première version")
    await settle(a, b, c)
    on_c = await posting.get_status_by_uri(c.svc, post.status.uri)
    assert on_c is not None
    await posting.favourite(c.svc, carol, on_c.id)
    draft = await posting.prepare(b.svc, bob, text="@ecoute@a.test deuxième version")
    await posting.edit_status(b.svc, bob, post.status.id, draft)
    await settle(a, b, c)
    edited = await posting.get_view_by_uri(c.svc, post.status.uri, carol)
    assert edited is not None and "deuxième" in edited.status.content
    assert (await posting.get_view(b.svc, post.status.id, bob)).status.favourites_count == 1
    await posting.delete_status(b.svc, bob, post.status.id)
    await settle(a, b, c)
    assert await posting.get_view_by_uri(c.svc, post.status.uri, carol) is None


async def test_lemmy_style_announces_of_activities_are_accepted(instances: Start) -> None:
    a, b, c, _, bob, carol, group = await _setup(instances)
    await _join(b, bob)
    await settle(a, b, c)
    # carol's real public post, announced the way Lemmy does: the Create, then a Like.
    post = await _post(c, carol, "Un message public de carol")
    note = {"id": post.status.uri, "type": "Note", "attributedTo": carol.actor_uri,
            "content": "<p>contenu falsifié</p>", "published": "2030-01-01T00:00:00Z",
            "to": [AS_PUBLIC], "audience": group.account.actor_uri}
    announce = {"@context": "https://www.w3.org/ns/activitystreams",
                "id": "http://a.test/activities/announce/1", "type": "Announce",
                "actor": group.account.actor_uri, "to": [AS_PUBLIC],
                "object": {"id": "http://c.test/activities/create/1", "type": "Create",
                           "actor": carol.actor_uri, "object": note}}
    assert await signed_post(a, group.account, "http://b.test/inbox",
                             json.dumps(announce).encode()) == 202
    await settle(a, b, c)
    like = {"@context": "https://www.w3.org/ns/activitystreams",
            "id": "http://a.test/activities/announce/2", "type": "Announce",
            "actor": group.account.actor_uri, "to": [AS_PUBLIC],
            "object": {"id": "http://c.test/activities/like/1", "type": "Like",
                       "actor": carol.actor_uri, "object": post.status.uri}}
    assert await signed_post(a, group.account, "http://b.test/inbox",
                             json.dumps(like).encode()) == 202
    await settle(a, b, c)
    assert await _group_list_ids(b, bob) == [post.status.uri]
    copy = await posting.get_view_by_uri(b.svc, post.status.uri, bob)
    # The origin's version is kept, not the group's embedded copy.
    assert copy is not None and "Un message public" in copy.status.content
    assert copy.status.favourites_count == 1
