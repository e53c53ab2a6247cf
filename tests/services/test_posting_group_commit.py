"""Posts made at the same time are written in one transaction (a group commit): each still
gets its own outcome, exactly as if posted one after the other: its own status, home-feed
entries and counters; a refused one changes nothing and does not fail the others; an
Idempotency-Key repeated inside the batch gives the same status."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from fediverse_mu.domain import FollowState, Invalid
from fediverse_mu.domain.statuses import StatusView
from fediverse_mu.services import directory, posting
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import follows as follow_store
from tests.conftest import make_user


def _texts_and_home(db: Database, account_id: int) -> tuple[list[str], list[int]]:
    texts = [r[0] for r in db.execute("SELECT source_text FROM statuses ORDER BY id")]
    home = [r[0] for r in db.execute("SELECT status_id FROM home_feed WHERE account_id = ?"
                                     " ORDER BY status_id", [account_id])]
    return texts, home


async def test_concurrent_posts_each_get_their_own_outcome(svc: Services) -> None:
    alice = (await make_user(svc, "alice")).account
    bob = (await make_user(svc, "bob")).account
    await svc.storage.write(follow_store.put_follow, follower_id=bob.id, followee_id=alice.id,
                            state=FollowState.ACCEPTED, uri="http://a.test/f/1",
                            now=datetime.now(UTC))
    authors = (alice, bob, alice, alice, bob)
    good = [await posting.prepare(svc, author, text=f"post {n} by {author.username} #vélo")
            for n, author in enumerate(authors)]
    again = await posting.prepare(svc, alice, text="sent twice by a hasty client")

    # One batch that commits: five posts and an Idempotency-Key sent twice.
    results = await asyncio.gather(
        *(posting.create_status(svc, author, draft)
          for author, draft in zip(authors, good, strict=True)),
        posting.create_status(svc, alice, again, idempotency_key="k1"),
        posting.create_status(svc, alice, again, idempotency_key="k1"))
    views, first, second = results[:5], results[5], results[6]
    assert [v.status.source_text for v in views] == [d.text for d in good]
    assert [v.account.id for v in views] == [a.id for a in authors]
    assert [v.tags for v in views] == [("vélo",)] * 5
    assert first.status.id == second.status.id  # the retry is the same status
    assert len({v.status.id for v in [*views, first]}) == 6

    # One that fails: the refused post changes nothing, the other is still posted.
    bad = await posting.prepare(svc, alice, text="with someone else's media", media_ids=[4242])
    late = await posting.prepare(svc, bob, text="posted beside a refused one")
    refused, posted = await asyncio.gather(posting.create_status(svc, alice, bad),
                                           posting.create_status(svc, bob, late),
                                           return_exceptions=True)
    assert isinstance(refused, Invalid) and "4242" in str(refused)
    assert isinstance(posted, StatusView) and posted.status.source_text == late.text

    texts, bob_home = await svc.storage.read(_texts_and_home, bob.id)
    assert sorted(texts) == sorted([d.text for d in good] + [again.text, late.text])
    assert bob_home == sorted(v.status.id for v in [*views, first, posted])
    counts = await directory.counts(svc, [alice, bob])
    assert (counts[alice.id].statuses, counts[bob.id].statuses) == (4, 3)


async def test_a_lone_refused_post_raises_and_changes_nothing(svc: Services) -> None:
    alice = (await make_user(svc, "alice")).account
    bad = await posting.prepare(svc, alice, text="media that is not there", media_ids=[1])
    with pytest.raises(Invalid):
        await posting.create_status(svc, alice, bad)
    texts, home = await svc.storage.read(_texts_and_home, alice.id)
    assert texts == [] and home == []
    ok = await posting.create_status(svc, alice, await posting.prepare(svc, alice, text="fine"))
    assert ok.status.source_text == "fine"
