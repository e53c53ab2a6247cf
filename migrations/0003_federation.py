"""Federation tables: follows between accounts (local or remote), and the inbox items that
were accepted (signature checked, validated) and wait for the worker to process them."""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Create follows and inbox_items."""
    db["follows"].create(
        {
            "id": int,
            "follower_id": int,
            "followee_id": int,
            "state": str,  # pending | accepted
            "uri": str,  # the Follow activity's id
            "created_at": str,
            "accepted_at": str,
        },
        pk="id",
        not_null={"follower_id", "followee_id", "state", "uri", "created_at"},
        foreign_keys=[("follower_id", "accounts", "id"), ("followee_id", "accounts", "id")],
    )
    db["follows"].create_index(["follower_id", "followee_id"], unique=True)
    db["follows"].create_index(["followee_id", "state"])
    db["follows"].create_index(["uri"])

    db["inbox_items"].create(
        {
            "id": int,
            "activity_id": str,
            "activity_type": str,
            "actor_uri": str,
            "body": str,  # the validated activity, JSON
            "received_at": str,
            "processed_at": str,
            "error": str,
        },
        pk="id",
        not_null={"activity_id", "activity_type", "actor_uri", "body", "received_at"},
    )
    db["inbox_items"].create_index(["activity_id"], unique=True)
    db["accounts"].create_index(["public_key_id"])
    db["accounts"].create_index(["domain"])
