"""Pruning old remote statuses: what goes (with its feed rows, notifications, mentions, tags,
edits, media rows, poll and remote favourites), what stays (anything a resident interacted
with or wrote in the thread of, reported, pinned, in a group, recent, local), batches, dry
runs that change nothing, the account counters, the retention setting with bad input, and the
daily automatic prune."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fediverse_mu.domain import Invalid, MediaType, RemoteMedia
from fediverse_mu.domain.retention import DEFAULT_RETENTION_DAYS, PruneCounts
from fediverse_mu.domain.statuses import Visibility, status_id_for
from fediverse_mu.services import retention
from fediverse_mu.services.context import Services
from fediverse_mu.storage import media as media_store
from fediverse_mu.storage import polls as poll_store
from fediverse_mu.storage import statuses as store
from tests.conftest import auth, make_token, ok
from tests.web.test_admin_web import fingerprint

OLD = 60  # days: older than the default retention (30)


async def remote_account(svc: Services, name: str, domain: str = "far.test") -> int:
    def run(db: Any) -> int:
        return int(db.execute(
            "INSERT INTO accounts (username, domain, actor_uri, actor_type, inbox_uri,"
            " created_at) VALUES (?, ?, ?, 'Person', ?, '2024-01-01T00:00:00+00:00')"
            " RETURNING id", [name, domain, f"http://{domain}/users/{name}",
                              f"http://{domain}/users/{name}/inbox"]).fetchone()[0])
    return await svc.storage.write(run)


class Remote:
    """Remote statuses written straight to storage (as the inbox would have kept them)."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.number = 0

    async def status(self, account_id: int, *, days_ago: float = OLD, **extra: Any) -> int:
        self.number += 1
        moment = self.svc.now() - timedelta(days=days_ago)
        status_id = status_id_for(moment, self.number)
        mentions = extra.pop("mentions", ())
        tags = extra.pop("tags", ())
        new = store.NewStatus(
            id=status_id, uri=f"http://far.test/statuses/{self.number}", url=None,
            account_id=account_id, local=False, content=f"<p>n°{self.number}</p>",
            visibility=Visibility.PUBLIC, created_at=moment, **extra)
        await self.svc.storage.write(store.put_status, new, mention_ids=mentions, tags=tags)
        return status_id


async def exists(svc: Services, status_id: int) -> bool:
    def run(db: Any) -> bool:
        return db.execute("SELECT 1 FROM statuses WHERE id = ?", [status_id]).fetchone() \
            is not None
    return await svc.storage.read(run)


async def counters_match(svc: Services) -> None:
    """The trigger-kept account counters equal a recount (migrations/0009)."""
    def run(db: Any) -> list[Any]:
        return [tuple(r) for r in db.execute(
            "SELECT a.id, coalesce(st.statuses_count, 0), (SELECT count(*) FROM statuses s"
            " WHERE s.account_id = a.id AND s.deleted_at IS NULL) FROM accounts a"
            " LEFT JOIN account_stats st ON st.account_id = a.id")]
    rows = await svc.storage.read(run)
    assert all(kept == recount for _, kept, recount in rows), rows


async def test_prune_removes_what_nobody_needs_and_keeps_the_rest(
        client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    me = await client.get("/api/v1/accounts/verify_credentials", headers=auth(alice))
    alice_id = int((await me.json())["id"])
    far = await remote_account(svc, "far")
    other = await remote_account(svc, "other", "elsewhere.test")
    remote = Remote(svc)

    # Gone: an old status in alice's home feed, with a mention of a remote account, a tag,
    # an edit, a remote picture, a poll voted by a remote account, a remote favourite and a
    # notification; an old remote boost of it; an old deleted one.
    plain = await remote.status(far, mentions=[other], tags=["jardin"])
    now = svc.now()

    def decorate(db: Any) -> None:
        store.add_to_home_feeds(db, plain, [alice_id])
        status = store.get_status(db, plain)
        assert status is not None
        store.edit_status(db, status, content="<p>edited</p>", source_text=None,
                          spoiler_text="", sensitive=False, language=None, edited_at=now,
                          mention_ids=[other], tags=["jardin"], has_media=True)
        media_store.put_remote_media(db, plain, far, RemoteMedia(
            url="http://far.test/pic.png", mime_type="image/png", type=MediaType.IMAGE))
        poll_store.put_poll(db, plain, options=["a", "b"], multiple=False, hide_totals=False,
                            expires_at=None, now=now)
        poll_store.put_votes(db, plain, other, [0], ["http://elsewhere.test/v/1"], now)
        store.put_favourite(db, other, plain, "http://elsewhere.test/like/1", now)
        store.put_notification(db, account_id=alice_id, from_account_id=far, kind="status",
                               status_id=plain, now=now)

    await svc.storage.write(decorate)
    boost_of_plain = await remote.status(other, reblog_of_id=plain, days_ago=OLD - 1)
    deleted = await remote.status(far)

    def soft_delete(db: Any) -> None:
        status = store.get_status(db, deleted)
        assert status is not None
        store.delete_status(db, status, now)

    await svc.storage.write(soft_delete)
    # A recent remote reply to the plain status stays, detached from it.
    late_reply = await remote.status(other, days_ago=1, in_reply_to_id=plain,
                                     in_reply_to_uri="http://far.test/statuses/1")

    # Kept: each has one reason.
    favourited = await remote.status(far)
    bookmarked = await remote.status(far)
    boosted = await remote.status(far)
    replied = await remote.status(far)
    sibling = await remote.status(other, in_reply_to_id=replied,
                                  in_reply_to_uri="http://far.test/statuses/x")
    mentioning = await remote.status(far, mentions=[alice_id])
    pinned = await remote.status(far)
    grouped = await remote.status(far)
    reported = await remote.status(far)
    recent = await remote.status(far, days_ago=5)
    boosted_lately = await remote.status(far)
    await remote.status(other, reblog_of_id=boosted_lately, days_ago=2)
    for status_id, action in ((favourited, "favourite"), (bookmarked, "bookmark"),
                              (boosted, "reblog")):
        await ok(await client.post(f"/api/v1/statuses/{status_id}/{action}",
                                   headers=auth(alice)))
    await ok(await client.post("/api/v1/statuses", headers=auth(alice), json={
        "status": "Je réponds", "in_reply_to_id": str(replied)}))
    report = await client.post("/api/v1/reports", headers=auth(alice), json={
        "account_id": str(far), "status_ids": [str(reported)], "comment": "spam"})
    assert report.status == 200, await report.text()

    def more(db: Any) -> None:
        store.set_pinned(db, pinned, now)
        db.execute("INSERT INTO group_posts (group_id, status_id, announce_uri, created_at)"
                   " VALUES (?, ?, 'http://a.test/announce/1', ?)",
                   [alice_id, grouped, now.isoformat()])

    await svc.storage.write(more)
    await counters_match(svc)

    dry = await retention.prune(svc, dry_run=True)
    before = await fingerprint(svc)
    again = await retention.prune(svc, dry_run=True)
    assert await fingerprint(svc) == before  # a dry run changes nothing
    assert again == dry

    report_ = await retention.prune(svc)
    assert report_.older_than_days == DEFAULT_RETENTION_DAYS and not report_.dry_run
    assert report_.removed == dry.removed  # the dry run told the truth
    removed = report_.removed
    assert removed.statuses == 3  # plain, its boost, the deleted one
    assert (removed.feed_rows, removed.notifications, removed.mentions, removed.tags,
            removed.edits, removed.media, removed.polls, removed.favourites) == \
        (1, 1, 1, 1, 2, 1, 1, 1)
    for gone in (plain, boost_of_plain, deleted):
        assert not await exists(svc, gone)
    for kept in (favourited, bookmarked, boosted, replied, sibling, mentioning, pinned,
                 grouped, reported, recent, boosted_lately, late_reply):
        assert await exists(svc, kept), kept

    def leftovers(db: Any) -> tuple[Any, ...]:
        return (
            db.execute("SELECT in_reply_to_id, in_reply_to_uri FROM statuses WHERE id = ?",
                       [late_reply]).fetchone()[:],
            db.execute("SELECT count(*) FROM tombstones WHERE uri = ?",
                       ["http://far.test/statuses/3"]).fetchone()[0],
            db.execute("SELECT count(*) FROM poll_votes").fetchone()[0],
            db.execute("SELECT count(*) FROM home_feed WHERE status_id = ?",
                       [plain]).fetchone()[0])

    reply_link, tombstone, votes, feed = await svc.storage.read(leftovers)
    assert tuple(reply_link) == (None, "http://far.test/statuses/1")
    assert (tombstone, votes, feed) == (1, 0, 0)
    await counters_match(svc)
    # The timeline of the remote account still loads without what was pruned.
    page = await ok(await client.get(f"/api/v1/accounts/{far}/statuses", headers=auth(alice)))
    assert str(plain) not in {s["id"] for s in page}

    # Nothing left to prune: a second run removes nothing and changes nothing but the pages.
    before = await fingerprint(svc)
    assert (await retention.prune(svc)).removed == PruneCounts()
    assert await fingerprint(svc) == before


async def test_prune_works_in_batches(svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "PRUNE_BATCH", 2)
    far = await remote_account(svc, "far")
    remote = Remote(svc)
    old = [await remote.status(far) for _ in range(5)]
    writes: list[str] = []
    original = svc.storage.write

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        writes.append(fn.__name__)
        return await original(fn, *args, **kwargs)

    monkeypatch.setattr(svc.storage, "write", counting)
    report = await retention.prune(svc, 10)
    assert report.removed.statuses == 5
    assert writes.count("batch") == 3  # 2 + 2 + 1 statuses, one transaction each
    assert not any([await exists(svc, s) for s in old])


async def test_inbox_items_processed_long_ago_are_pruned(svc: Services) -> None:
    old = (svc.now() - timedelta(days=OLD)).isoformat()
    fresh = svc.now().isoformat()

    def fill(db: Any) -> None:
        for number, (received, processed) in enumerate(((old, old), (old, None),
                                                        (fresh, fresh))):
            db.execute("INSERT INTO inbox_items (activity_id, activity_type, actor_uri, body,"
                       " received_at, processed_at) VALUES (?, 'Create', 'http://far.test/a',"
                       " '{}', ?, ?)", [f"http://far.test/act/{number}", received, processed])

    await svc.storage.write(fill)
    assert (await retention.prune(svc, dry_run=True)).removed.inbox_items == 1
    assert (await retention.prune(svc)).removed.inbox_items == 1

    def left(db: Any) -> list[str]:
        return [r[0] for r in db.execute("SELECT activity_id FROM inbox_items ORDER BY id")]

    assert await svc.storage.read(left) == ["http://far.test/act/1", "http://far.test/act/2"]


async def test_the_retention_setting(svc: Services) -> None:
    assert await retention.retention_days(svc) == DEFAULT_RETENTION_DAYS
    assert await retention.set_retention_days(svc, None, "90") == 90
    assert await retention.retention_days(svc) == 90
    before = await fingerprint(svc)
    for bad in ("", "abc", "-1", "1.5", "36501", "9999999"):
        with pytest.raises(Invalid):
            await retention.set_retention_days(svc, None, bad)
    assert await fingerprint(svc) == before
    assert await retention.retention_days(svc) == 90
    with pytest.raises(Invalid):
        retention.parse_days("0", allow_zero=False)
    assert retention.parse_days("0", allow_zero=True) == 0


async def test_a_retention_of_zero_keeps_everything(svc: Services) -> None:
    far = await remote_account(svc, "far")
    old = await Remote(svc).status(far, days_ago=400)
    await retention.set_retention_days(svc, None, 0)
    report = await retention.prune(svc)
    assert report.removed == PruneCounts() and await exists(svc, old)
    assert await retention.prune_if_due(svc) is None
    assert await exists(svc, old)


async def test_the_automatic_prune_runs_once_a_day(svc: Services) -> None:
    far = await remote_account(svc, "far")
    remote = Remote(svc)
    first = await remote.status(far)
    report = await retention.prune_if_due(svc)
    assert report is not None and report.removed.statuses == 1 and not await exists(svc, first)
    second = await remote.status(far)
    assert await retention.prune_if_due(svc) is None  # not a day yet
    assert await exists(svc, second)
    tomorrow = dataclasses.replace(svc, clock=lambda: time.time() + 86_401)
    report = await retention.prune_if_due(tomorrow)
    assert report is not None and report.removed.statuses == 1
    assert not await exists(svc, second)


def test_status_ids_follow_time() -> None:
    # The prune compares ids, not dates: an id minted at a moment sorts with that moment.
    moment = datetime(2026, 1, 1).astimezone()
    assert status_id_for(moment, 0xFFFF) < status_id_for(moment + timedelta(milliseconds=1), 0)
