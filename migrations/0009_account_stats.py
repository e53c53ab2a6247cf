"""Account counters: posts (not deleted), followers and following (accepted follows) of each
account, kept in ``account_stats`` by triggers on ``statuses`` and ``follows``, as Mastodon keeps
its ``account_stats``. Counting rows instead cost a lookup per status: ~3 ms per account of
1,000 posts, ~110 ms for the 40 authors of a home-timeline page (bench/api.py). Triggers see
every path that writes those tables (posting, deleting, purging a remote actor, following,
accepting, unfollowing), so no Python code keeps the counters.

A later migration that rebuilds ``statuses`` or ``follows`` (sqlite-utils ``transform``) drops
their triggers: it must create them again (:data:`TRIGGERS`)."""

from sqlite_utils import Database

# One row per (statuses, follows) change kind; upserts create a missing stats row.
_BUMP = ("INSERT INTO account_stats (account_id, {column}) VALUES ({account}, 1)"
         " ON CONFLICT (account_id) DO UPDATE SET {column} = {column} + 1;")
_DROP = "UPDATE account_stats SET {column} = {column} - 1 WHERE account_id = {account};"


def _follow_side(when_old: str, when_new: str) -> str:
    """Trigger body moving both follow counters from the OLD row to the NEW one."""
    return (
        f"UPDATE account_stats SET followers_count = followers_count - 1"
        f" WHERE account_id = OLD.followee_id AND {when_old};"
        f" UPDATE account_stats SET following_count = following_count - 1"
        f" WHERE account_id = OLD.follower_id AND {when_old};"
        f" INSERT INTO account_stats (account_id, followers_count) SELECT NEW.followee_id, 1"
        f" WHERE {when_new} ON CONFLICT (account_id) DO UPDATE SET"
        f" followers_count = followers_count + 1;"
        f" INSERT INTO account_stats (account_id, following_count) SELECT NEW.follower_id, 1"
        f" WHERE {when_new} ON CONFLICT (account_id) DO UPDATE SET"
        f" following_count = following_count + 1;")


TRIGGERS = [
    "CREATE TRIGGER account_stats_status_insert AFTER INSERT ON statuses"
    " WHEN NEW.deleted_at IS NULL BEGIN "
    + _BUMP.format(column="statuses_count", account="NEW.account_id") + " END",
    "CREATE TRIGGER account_stats_status_update AFTER UPDATE OF account_id, deleted_at"
    " ON statuses WHEN OLD.account_id != NEW.account_id"
    " OR (OLD.deleted_at IS NULL) != (NEW.deleted_at IS NULL) BEGIN "
    "UPDATE account_stats SET statuses_count = statuses_count - 1"
    " WHERE account_id = OLD.account_id AND OLD.deleted_at IS NULL;"
    " INSERT INTO account_stats (account_id, statuses_count) SELECT NEW.account_id, 1"
    " WHERE NEW.deleted_at IS NULL ON CONFLICT (account_id) DO UPDATE SET"
    " statuses_count = statuses_count + 1; END",
    "CREATE TRIGGER account_stats_status_delete AFTER DELETE ON statuses"
    " WHEN OLD.deleted_at IS NULL BEGIN "
    + _DROP.format(column="statuses_count", account="OLD.account_id") + " END",
    "CREATE TRIGGER account_stats_follow_insert AFTER INSERT ON follows"
    " WHEN NEW.state = 'accepted' BEGIN "
    + _BUMP.format(column="followers_count", account="NEW.followee_id") + " "
    + _BUMP.format(column="following_count", account="NEW.follower_id") + " END",
    "CREATE TRIGGER account_stats_follow_update AFTER UPDATE OF state, follower_id, followee_id"
    " ON follows WHEN OLD.follower_id != NEW.follower_id OR OLD.followee_id != NEW.followee_id"
    " OR (OLD.state = 'accepted') != (NEW.state = 'accepted') BEGIN "
    + _follow_side("OLD.state = 'accepted'", "NEW.state = 'accepted'") + " END",
    "CREATE TRIGGER account_stats_follow_delete AFTER DELETE ON follows"
    " WHEN OLD.state = 'accepted' BEGIN "
    + _DROP.format(column="followers_count", account="OLD.followee_id") + " "
    + _DROP.format(column="following_count", account="OLD.follower_id") + " END",
    "CREATE TRIGGER account_stats_account_delete AFTER DELETE ON accounts BEGIN"
    " DELETE FROM account_stats WHERE account_id = OLD.id; END",
]


def up(db: Database) -> None:
    """Create account_stats, fill it from the current rows, install the triggers."""
    db.execute("CREATE TABLE account_stats (account_id INTEGER PRIMARY KEY,"
               " statuses_count INTEGER NOT NULL DEFAULT 0,"
               " followers_count INTEGER NOT NULL DEFAULT 0,"
               " following_count INTEGER NOT NULL DEFAULT 0)")
    db.execute(
        "INSERT INTO account_stats (account_id, statuses_count, followers_count, following_count)"
        " SELECT a.id,"
        " (SELECT count(*) FROM statuses s WHERE s.account_id = a.id AND s.deleted_at IS NULL),"
        " (SELECT count(*) FROM follows f WHERE f.followee_id = a.id AND f.state = 'accepted'),"
        " (SELECT count(*) FROM follows f WHERE f.follower_id = a.id AND f.state = 'accepted')"
        " FROM accounts a")
    for trigger in TRIGGERS:
        db.execute(trigger)
