"""Posts across instances over real HTTP: a post reaching followers on other instances with
one request per host, replies building one thread across three instances (with a missing
parent fetched from its origin), favourites and boosts, edits and deletes propagating, and the
posts that must not travel (local-only) or must not be kept (unsolicited, deleted first)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fediverse_mu.activitypub.notes import parse_note, render_note
from fediverse_mu.appkeys import federation_key
from fediverse_mu.domain import Account
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.statuses import StatusView
from fediverse_mu.services import following, posting
from fediverse_mu.services.delivery import queue_deliveries
from tests.conftest import Instance, make_user, settle

Start = Callable[..., Awaitable[list[Instance]]]


async def _post(inst: Instance, author: Account, text: str, **options: Any) -> StatusView:
    fed = inst.app[federation_key]

    async def resolve(handle: str) -> Account | None:
        return await fed.resolve_handle(handle)

    draft = await posting.prepare(inst.svc, author, text=text, resolve=resolve, **options)
    return await posting.create_status(inst.svc, author, draft)


async def _follow(inst: Instance, follower: Account, handle: str) -> Account:
    remote = await inst.app[federation_key].resolve_handle(handle)
    await following.follow(inst.svc, follower, remote)
    return remote


async def _copy(inst: Instance, uri: str, viewer: Account | None) -> StatusView | None:
    return await posting.get_view_by_uri(inst.svc, uri, viewer)


async def _delivery_hosts(inst: Instance) -> list[str]:
    rows = await inst.svc.storage.read(lambda db: db.execute(
        "SELECT host, payload FROM jobs WHERE kind = 'deliver'").fetchall())
    return [r["host"] for r in rows if json.loads(r["payload"])["activity"]["type"] == "Create"]


async def test_a_post_reaches_followers_with_one_request_per_host(instances: Start) -> None:
    a, b, c = await instances("a.test", "b.test", "c.test")
    bob = (await make_user(b.svc, "bob")).account
    readers = [(await make_user(inst.svc, name)).account
               for inst, name in ((a, "alice"), (a, "anna"), (c, "carol"))]
    for inst, reader in zip((a, a, c), readers, strict=True):
        await _follow(inst, reader, "bob@b.test")
    await settle(a, b, c)

    post = await _post(b, bob, "Le marché couvert rouvre samedi #marché")
    assert sorted(await _delivery_hosts(b)) == ["a.test", "c.test"]  # shared inboxes
    await settle(a, b, c)

    for inst, reader in zip((a, a, c), readers, strict=True):
        home = await posting.home_timeline(inst.svc, reader, Page(limit=20))
        assert [v.status.uri for v in home] == [post.status.uri]
        assert "marché couvert" in home[0].status.content
        assert home[0].tags == ("marché",)
    tagged = await posting.tag_timeline(a.svc, None, "MARCHÉ", Page(limit=20))
    assert [v.status.uri for v in tagged] == [post.status.uri]


async def test_thread_across_three_instances(instances: Start) -> None:
    a, b, c = await instances("a.test", "b.test", "c.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    carol = (await make_user(c.svc, "carol")).account
    await _follow(a, alice, "carol@c.test")  # alice does NOT follow bob
    await _follow(c, carol, "bob@b.test")
    await settle(a, b, c)

    root = await _post(b, bob, "Qui vient au jardin partagé ?")
    await settle(a, b, c)
    assert await _copy(a, root.status.uri, alice) is None  # a has no reason to keep it yet
    root_on_c = await _copy(c, root.status.uri, carol)
    assert root_on_c is not None

    reply = await _post(c, carol, "@bob@b.test moi !", in_reply_to_id=root_on_c.status.id)
    await settle(a, b, c)

    # b got the reply (bob is mentioned and is the parent's author); its thread has it.
    root_on_b = await _copy(b, root.status.uri, bob)
    assert root_on_b is not None and root_on_b.status.replies_count == 1
    _, below = await posting.context(b.svc, root_on_b.status.id, bob)
    assert [v.status.uri for v in below] == [reply.status.uri]
    notified = await b.svc.storage.read(lambda db: db.execute(
        "SELECT type FROM notifications WHERE account_id = ? AND type = 'mention'",
        [bob.id]).fetchall())
    assert len(notified) == 1

    # a got carol's reply (alice follows carol) and fetched the missing parent from b.
    reply_on_a = await _copy(a, reply.status.uri, alice)
    assert reply_on_a is not None
    above, _ = await posting.context(a.svc, reply_on_a.status.id, alice)
    assert [v.status.uri for v in above] == [root.status.uri]

    # alice answers on a: c gets it (carol is the parent's author), and the thread grows.
    answer = await _post(a, alice, "@carol@c.test super", in_reply_to_id=reply_on_a.status.id)
    await settle(a, b, c)
    _, below = await posting.context(c.svc, root_on_c.status.id, carol)
    assert [v.status.uri for v in below] == [reply.status.uri, answer.status.uri]


async def test_favourites_and_boosts_travel_and_can_be_undone(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    await _follow(a, alice, "bob@b.test")
    await settle(a, b)
    post = await _post(b, bob, "Atelier vélo ce soir")
    await settle(a, b)
    copy = await _copy(a, post.status.uri, alice)
    assert copy is not None

    await posting.favourite(a.svc, alice, copy.status.id)
    await posting.reblog(a.svc, alice, copy.status.id)
    await settle(a, b)
    original = await posting.get_view(b.svc, post.status.id, bob)
    assert (original.status.favourites_count, original.status.reblogs_count) == (1, 1)
    kinds = await b.svc.storage.read(lambda db: [r[0] for r in db.execute(
        "SELECT type FROM notifications WHERE account_id = ? AND type != 'follow'",
        [bob.id])])
    assert sorted(kinds) == ["favourite", "reblog"]

    await posting.unfavourite(a.svc, alice, copy.status.id)
    await posting.unreblog(a.svc, alice, copy.status.id)
    await settle(a, b)
    original = await posting.get_view(b.svc, post.status.id, bob)
    assert (original.status.favourites_count, original.status.reblogs_count) == (0, 0)


async def test_a_boost_brings_the_post_from_its_origin(instances: Start) -> None:
    a, b, c = await instances("a.test", "b.test", "c.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    carol = (await make_user(c.svc, "carol")).account
    await _follow(a, alice, "carol@c.test")
    await _follow(c, carol, "bob@b.test")
    await settle(a, b, c)
    post = await _post(b, bob, "Concert à la friche")
    await settle(a, b, c)
    on_c = await _copy(c, post.status.uri, carol)
    assert on_c is not None
    await posting.reblog(c.svc, carol, on_c.status.id)
    await settle(a, b, c)
    home = await posting.home_timeline(a.svc, alice, Page(limit=20))
    assert len(home) == 1 and home[0].reblog is not None
    assert home[0].reblog.status.uri == post.status.uri
    assert home[0].account.actor_uri == carol.actor_uri


async def test_edits_and_deletes_propagate(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    await _follow(a, alice, "bob@b.test")
    await settle(a, b)
    post = await _post(b, bob, "Réunion à 18 h")
    await settle(a, b)
    draft = await posting.prepare(b.svc, bob, text="Réunion à 19 h")
    await posting.edit_status(b.svc, bob, post.status.id, draft)
    await settle(a, b)
    copy = await _copy(a, post.status.uri, alice)
    assert copy is not None and "19 h" in copy.status.content
    assert copy.status.edited_at is not None
    _, versions = await posting.history(a.svc, copy.status.id, alice)
    assert ["18 h" in v.content for v in versions] == [True, False]

    await posting.delete_status(b.svc, bob, post.status.id)
    await settle(a, b)
    assert await _copy(a, post.status.uri, alice) is None
    home = await posting.home_timeline(a.svc, alice, Page(limit=20))
    assert home == []
    async with a.http.get(post.status.uri,
                          headers={"Accept": "application/activity+json"}) as response:
        assert response.status == 410


async def test_status_documents_and_outbox(instances: Start) -> None:
    (a,) = await instances("a.test")
    alice = (await make_user(a.svc, "alice")).account
    public = await _post(a, alice, "Bonjour le quartier")
    private = await _post(a, alice, "Pour mes abonné·es", visibility="private")
    local = await _post(a, alice, "Entre nous", local_only=True)
    as2 = {"Accept": "application/activity+json"}
    async with a.http.get(public.status.uri, headers=as2) as response:
        note = await response.json(content_type=None)
        assert response.status == 200 and note["type"] == "Note"
        assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
        assert note["cc"] == ["http://a.test/users/alice/followers"]
    for hidden in (private, local):
        async with a.http.get(hidden.status.uri, headers=as2) as response:
            assert response.status == 404
    async with a.http.get(public.status.uri, headers={"Accept": "text/html"}) as response:
        assert response.status == 200 and "Bonjour le quartier" in await response.text()
    async with a.http.get(f"{public.status.uri}/activity", headers=as2) as response:
        create = await response.json(content_type=None)
        assert create["type"] == "Create" and create["object"]["id"] == public.status.uri
    status, outbox = await a.get_json("/users/alice/outbox?page=true", headers=as2)
    assert status == 200
    assert [item["object"]["id"] for item in outbox["orderedItems"]] == [public.status.uri]


async def test_local_only_posts_are_never_delivered(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    await _follow(b, bob, "alice@a.test")
    await settle(a, b)
    await _post(a, alice, "Rien que pour ici", local_only=True)
    await _post(a, alice, "Rien que pour ici aussi", visibility="local")
    assert await _delivery_hosts(a) == []
    await settle(a, b)
    assert await posting.home_timeline(b.svc, bob, Page(limit=20)) == []


async def test_unsolicited_and_already_deleted_posts_are_not_kept(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    remote_bob = await a.app[federation_key].resolve_handle("bob@b.test")
    # bob is not followed from a and mentions nobody there: his post is not kept.
    post = await _post(b, bob, "Bonjour")
    note = parse_note(render_note(post, base_url=b.base_url))
    assert await posting.receive_note(a.svc, remote_bob, note) is None
    # A Delete that overtook its Create wins, even for a post that would be kept.
    mention = await _post(b, bob, "@alice@a.test bonjour")
    assert alice.username == "alice"
    await posting.receive_delete(a.svc, remote_bob, mention.status.uri)
    note = parse_note(render_note(mention, base_url=b.base_url))
    assert await posting.receive_note(a.svc, remote_bob, note) is None
    assert await posting.get_status_by_uri(a.svc, mention.status.uri) is None


async def test_a_deleted_actor_disappears_with_its_posts(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    remote_bob = await _follow(a, alice, "bob@b.test")
    await settle(a, b)
    post = await _post(b, bob, "Au revoir")
    await settle(a, b)
    assert await _copy(a, post.status.uri, alice) is not None
    goodbye = {"@context": "https://www.w3.org/ns/activitystreams",
               "id": f"{bob.actor_uri}#delete", "type": "Delete", "actor": bob.actor_uri,
               "object": bob.actor_uri,
               "to": ["https://www.w3.org/ns/activitystreams#Public"]}
    await b.svc.storage.write(queue_deliveries, goodbye, ["http://a.test/inbox"],
                              signer_id=bob.id, now=b.svc.clock())
    await settle(a, b)
    assert await _copy(a, post.status.uri, alice) is None
    assert await following.get_follow(a.svc, alice, remote_bob) is None
    assert await posting.home_timeline(a.svc, alice, Page(limit=20)) == []
