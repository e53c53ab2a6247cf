"""The Mastodon API across two instances, as a resident lives it: A's resident finds B's
resident with ``search?resolve=true``, follows, sees B's posts in the home timeline and B's
replies in ``/context``; a post found by URL is fetched from its origin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.conftest import Instance, make_token, settle

Start = Callable[..., Awaitable[list[Instance]]]


async def _call(inst: Instance, method: str, path: str, token: str,
                **kwargs: Any) -> tuple[int, Any]:
    async with inst.http.request(method, inst.base_url + path,
                                 headers={"Authorization": f"Bearer {token}"},
                                 **kwargs) as response:
        return response.status, await response.json(content_type=None)


async def test_search_follow_home_and_context(instances: Start,
                                              assert_schema: Callable[[Any, str], None]) -> None:
    a, b = await instances("a.test", "b.test")
    alice = await make_token(a.svc, "alice")
    bob = await make_token(b.svc, "bob")

    status, found = await _call(a, "GET", "/api/v2/search?q=bob@b.test&resolve=true", alice)
    assert status == 200
    assert_schema(found, "Search")
    assert [acc["acct"] for acc in found["accounts"]] == ["bob@b.test"]
    bob_id = found["accounts"][0]["id"]
    status, _ = await _call(a, "POST", f"/api/v1/accounts/{bob_id}/follow", alice)
    assert status == 200
    await settle(a, b)

    status, post = await _call(b, "POST", "/api/v1/statuses", bob,
                               json={"status": "Le fablab ouvre ses portes #portesouvertes"})
    assert status == 200
    await settle(a, b)
    status, home = await _call(a, "GET", "/api/v1/timelines/home", alice)
    assert status == 200 and [s["uri"] for s in home] == [post["uri"]]
    assert_schema(home[0], "Status")
    local_id = home[0]["id"]

    # alice replies from a; bob answers from b; both replies show in a's /context.
    status, reply = await _call(a, "POST", "/api/v1/statuses", alice,
                                json={"status": "@bob@b.test j'y serai",
                                      "in_reply_to_id": local_id})
    assert status == 200
    await settle(a, b)
    status, on_b = await _call(b, "GET", f"/api/v1/statuses/{post['id']}/context", bob)
    assert [s["uri"] for s in on_b["descendants"]] == [reply["uri"]]
    answer_to = on_b["descendants"][0]["id"]
    status, answer = await _call(b, "POST", "/api/v1/statuses", bob,
                                 json={"status": "@alice@a.test super !",
                                       "in_reply_to_id": answer_to})
    assert status == 200
    await settle(a, b)
    status, context = await _call(a, "GET", f"/api/v1/statuses/{local_id}/context", alice)
    assert status == 200
    assert [s["uri"] for s in context["descendants"]] == [reply["uri"], answer["uri"]]
    status, notes = await _call(a, "GET", "/api/v2/search?q=portes&type=hashtags", alice)
    assert [t["name"] for t in notes["hashtags"]] == ["portesouvertes"]


async def test_a_post_is_found_by_its_url(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = await make_token(a.svc, "alice")
    bob = await make_token(b.svc, "bob")
    _, post = await _call(b, "POST", "/api/v1/statuses", bob, json={"status": "Trouve-moi"})
    status, found = await _call(a, "GET", f"/api/v2/search?q={post['uri']}", alice)
    assert status == 200 and found["statuses"] == []  # not resolved: nothing fetched
    status, found = await _call(a, "GET", f"/api/v2/search?q={post['uri']}&resolve=true",
                                alice)
    assert status == 200 and [s["uri"] for s in found["statuses"]] == [post["uri"]]
    status, found = await _call(a, "GET", f"/api/v2/search?q={post['url']}&resolve=true",
                                alice)
    assert [s["uri"] for s in found["statuses"]] == [post["uri"]]
    # A private post is not served to the fetch, so it cannot be found.
    _, hidden = await _call(b, "POST", "/api/v1/statuses", bob,
                            json={"status": "Caché", "visibility": "private"})
    status, found = await _call(a, "GET", f"/api/v2/search?q={hidden['uri']}&resolve=true",
                                alice)
    assert status == 200 and found["statuses"] == []
    status, _ = await _call(a, "GET", "/api/v2/search?q=x&type=nope", alice)
    assert status == 422
