"""The account counters (posts, followers, following) kept by triggers equal a recount after
every kind of write: posting, boosting, soft and hard deletes, purging an actor, follow
requests accepted, refused and undone, follows refreshed by an upsert."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from fediverse_mu.config import Config
from fediverse_mu.domain import FollowState
from fediverse_mu.domain.statuses import Visibility
from fediverse_mu.resources import migrations_dir
from fediverse_mu.storage import Database, connect, directory, transaction
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import follows as follow_store
from fediverse_mu.storage import statuses as store
from fediverse_mu.storage.migrations import apply_migrations, load_migrations

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _account(db: Database, name: str) -> int:
    actor = f"http://a.test/users/{name}"
    return account_store.put_local_account(
        db, username=name, actor_uri=actor, actor_type="Person", url=None,
        inbox_uri=f"{actor}/inbox", shared_inbox_uri="http://a.test/inbox",
        public_key_pem="-", private_key_pem="-", created_at=NOW).id


def _post(db: Database, account_id: int, number: int, *, reblog_of: int | None = None) -> int:
    status_id = 1_000 + number
    store.put_status(db, store.NewStatus(
        id=status_id, uri=f"http://a.test/s/{status_id}", url=None, account_id=account_id,
        local=True, content="<p>x</p>", visibility=Visibility.PUBLIC, created_at=NOW,
        reblog_of_id=reblog_of))
    return status_id


def _recount(db: Database) -> dict[int, tuple[int, int, int]]:
    return {r[0]: (r[1], r[2], r[3]) for r in db.execute(
        "SELECT a.id,"
        " (SELECT count(*) FROM statuses s WHERE s.account_id = a.id AND s.deleted_at IS NULL),"
        " (SELECT count(*) FROM follows f WHERE f.followee_id = a.id AND f.state = 'accepted'),"
        " (SELECT count(*) FROM follows f WHERE f.follower_id = a.id AND f.state = 'accepted')"
        " FROM accounts a")}


def _assert_counts(db: Database) -> dict[int, tuple[int, int, int]]:
    expected = _recount(db)
    assert directory.account_counts(db, list(expected)) == expected
    return expected


def test_counters_follow_every_write(config: Config) -> None:
    db = connect(config.database_path)
    try:
        with transaction(db):
            alice, bob, chloe = (_account(db, n) for n in ("alice", "bob", "chloe"))
            first = _post(db, alice, 1)
            _post(db, alice, 2)
            _post(db, bob, 3, reblog_of=first)  # a boost counts as a post, as on Mastodon
            accepted = follow_store.put_follow(db, follower_id=bob, followee_id=alice,
                                               state=FollowState.ACCEPTED, uri="f1", now=NOW)
            pending = follow_store.put_follow(db, follower_id=chloe, followee_id=alice,
                                              state=FollowState.PENDING, uri="f2", now=NOW)
            follow_store.put_follow(db, follower_id=alice, followee_id=chloe,
                                    state=FollowState.PENDING, uri="f3", now=NOW)
        counts = _assert_counts(db)
        assert counts[alice] == (2, 1, 0) and counts[bob] == (1, 0, 1)

        with transaction(db):
            follow_store.update_follow_state(db, pending.id, FollowState.ACCEPTED, NOW)
            # A repeated Follow refreshes the row through the upsert: no double count.
            follow_store.put_follow(db, follower_id=bob, followee_id=alice,
                                    state=FollowState.PENDING, uri="f1-again", now=NOW)
            follow_store.put_follow(db, follower_id=alice, followee_id=chloe,
                                    state=FollowState.ACCEPTED, uri="f3", now=NOW)
        counts = _assert_counts(db)
        assert counts[alice] == (2, 2, 1) and counts[chloe] == (0, 1, 1)

        with transaction(db):
            deleted = store.get_status(db, first)
            assert deleted is not None
            store.delete_status(db, deleted, NOW)  # soft delete, its boost with it
            store.delete_status(db, deleted, NOW)  # again: nothing more
            follow_store.delete_follow(db, accepted.id)
            follow_store.update_follow_state(db, pending.id, FollowState.PENDING, NOW)
        counts = _assert_counts(db)
        assert counts[alice] == (1, 0, 1) and counts[bob] == (0, 0, 0)

        with transaction(db):
            _post(db, chloe, 4)
            _post(db, chloe, 5)
            store.purge_account_content(db, chloe, NOW)  # statuses emptied, follows dropped
            db.execute("DELETE FROM home_feed")
            db.execute("DELETE FROM statuses WHERE account_id = ?", [alice])  # hard delete
        counts = _assert_counts(db)
        assert counts[alice] == (0, 0, 0) and counts[chloe] == (0, 0, 0)
        assert directory.account_counts(db, [alice, 999_999]) == {alice: (0, 0, 0),
                                                                 999_999: (0, 0, 0)}
    finally:
        db.close()


def test_the_migration_counts_what_was_there(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    shipped = sorted(migrations_dir().glob("0*.py"))
    stats = next(p for p in shipped if p.stem.endswith("_account_stats"))
    for path in shipped:
        if path.stem < stats.stem:
            shutil.copy(path, folder)
    db = connect(tmp_path / "old.db")
    try:
        apply_migrations(db, load_migrations(folder))
        with transaction(db):
            alice, bob = _account(db, "alice"), _account(db, "bob")
            _post(db, alice, 1)
            gone = _post(db, alice, 2)
            db.execute("UPDATE statuses SET deleted_at = ? WHERE id = ?", [NOW.isoformat(), gone])
            follow_store.put_follow(db, follower_id=bob, followee_id=alice,
                                    state=FollowState.ACCEPTED, uri="f1", now=NOW)
            follow_store.put_follow(db, follower_id=alice, followee_id=bob,
                                    state=FollowState.PENDING, uri="f2", now=NOW)
        shutil.copy(stats, folder)
        apply_migrations(db, load_migrations(folder))
        counts = _assert_counts(db)
        assert counts[alice] == (1, 1, 0) and counts[bob] == (0, 0, 1)
    finally:
        db.close()
