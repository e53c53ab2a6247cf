"""Mastodon.py (a real client library, in a thread) against a real socket: posting with a
media attachment, replying, boosting, favouriting, bookmarking, editing, reading timelines,
threads and search, deleting — what Tusky or Elk would do."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from mastodon.errors import MastodonAPIError, MastodonNotFoundError
from PIL import Image

from tests.conftest import RealServer, login, make_user


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


async def test_mastodon_py_status_flow(real_server: RealServer) -> None:
    await make_user(real_server.svc, "alice")
    await make_user(real_server.svc, "bob")
    base = real_server.base_url

    def flow() -> dict[str, Any]:
        alice, bob = login(base, "alice"), login(base, "bob")
        bob.account_follow(alice.me())
        media = alice.media_post(_png(), mime_type="image/png", description="le marché")
        post = alice.status_post("Le #marché du samedi", media_ids=[media],
                                 spoiler_text="photo", language="fr")
        reply = bob.status_reply(post, "Super photo !")
        boost = bob.status_reblog(post)
        bob.status_favourite(post)
        bob.status_bookmark(post)
        edited = alice.status_update(post["id"], "Le #marché du samedi matin",
                                     spoiler_text="photo", media_ids=[media["id"]])
        result = {
            "post": post, "reply": reply, "boost": boost, "edited": edited,
            "history": alice.status_history(post["id"]),
            "source": alice.status_source(post["id"]),
            "home_bob": bob.timeline_home(),
            "public": alice.timeline_public(),
            "local": alice.timeline_local(),
            "tag": alice.timeline_hashtag("marché"),
            "context": alice.status_context(post["id"]),
            "favourited_by": alice.status_favourited_by(post["id"]),
            "reblogged_by": alice.status_reblogged_by(post["id"]),
            "bookmarks": bob.bookmarks(),
            "favourites": bob.favourites(),
            "search": bob.search("marché", result_type="hashtags"),
            "pinned": alice.status_pin(post["id"]),
            "account_statuses": bob.account_statuses(alice.me(), pinned=True),
        }
        try:
            bob.status_delete(post["id"])
            result["bob_delete"] = "allowed"
        except MastodonAPIError as exc:
            result["bob_delete"] = exc.args[1]
        deleted = alice.status_delete(post["id"])
        result["deleted_text"] = deleted["text"]
        try:
            bob.status(post["id"])
            result["after_delete"] = "found"
        except MastodonNotFoundError:
            result["after_delete"] = "gone"
        result["home_bob_after"] = bob.timeline_home()
        return result

    r = await asyncio.to_thread(flow)
    post = r["post"]
    assert post["media_attachments"][0]["description"] == "le marché"
    assert post["media_attachments"][0]["blurhash"]
    assert post["sensitive"] is True and post["spoiler_text"] == "photo"
    assert r["reply"]["in_reply_to_id"] == post["id"]
    assert r["boost"]["reblog"]["id"] == post["id"]
    assert "matin" in r["edited"]["content"] and r["edited"]["edited_at"] is not None
    assert len(r["history"]) == 2 and r["source"]["text"] == "Le #marché du samedi matin"
    assert [s["id"] for s in r["home_bob"]][:3] == [r["boost"]["id"], r["reply"]["id"],
                                                   post["id"]]
    assert [s["id"] for s in r["public"]] == [r["reply"]["id"], post["id"]]
    assert [s["id"] for s in r["local"]] == [r["reply"]["id"], post["id"]]
    assert [s["id"] for s in r["tag"]] == [post["id"]]
    assert [s["id"] for s in r["context"]["descendants"]] == [r["reply"]["id"]]
    assert [a["username"] for a in r["favourited_by"]] == ["bob"]
    assert [a["username"] for a in r["reblogged_by"]] == ["bob"]
    assert [s["id"] for s in r["bookmarks"]] == [post["id"]]
    assert [s["id"] for s in r["favourites"]] == [post["id"]]
    assert [t["name"] for t in r["search"]["hashtags"]] == ["marché"]
    assert r["pinned"]["pinned"] is True
    assert [s["id"] for s in r["account_statuses"]] == [post["id"]]
    assert r["bob_delete"] == 403
    assert r["deleted_text"] == "Le #marché du samedi matin"
    assert r["after_delete"] == "gone"
    # The deleted post and the boost of it left bob's home; his reply stays.
    assert [s["id"] for s in r["home_bob_after"]] == [r["reply"]["id"]]
