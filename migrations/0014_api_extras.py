"""The rest of the Mastodon client API: profile images, direct conversations, polls and
scheduled statuses.

- ``media_attachments.profile_image`` (``avatar`` | ``header``) marks an upload used as a
  profile image: never attachable to a status, never purged as an unattached upload;
  ``media_attachments.scheduled_status_id`` keeps the uploads of a scheduled status (not
  purged either until it is published or cancelled).
- ``conversations``: one row per local account and thread of direct messages
  (``conversation_uri``), with the other participants, the last status and an unread flag,
  as Mastodon's ``account_conversations``.
- ``polls``: the poll of a status (local or remote): option titles and their counts (JSON
  lists), ``multiple``, ``hide_totals``, ``expires_at``, voters; ``ended_notified_at`` once the
  ``poll`` notifications went out. ``poll_votes``: one row per chosen option per voter (local
  residents, and remote voters on local polls), with the vote's ActivityPub id.
- ``scheduled_statuses``: statuses to publish later (the typed parameters as JSON), published
  by a durable ``publish_scheduled`` job."""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Add the profile-image and scheduling columns and the four new tables."""
    media = db["media_attachments"]
    media.add_column("profile_image", str)
    media.add_column("scheduled_status_id", int)
    db.execute("CREATE INDEX idx_media_scheduled ON media_attachments (scheduled_status_id)"
               " WHERE scheduled_status_id IS NOT NULL")

    db["conversations"].create(
        {
            "id": int,
            "account_id": int,  # the local account whose conversation this is
            "conversation_uri": str,
            "participant_ids": str,  # JSON list of the other accounts' ids
            "last_status_id": int,
            "unread": int,
            "updated_at": str,
        },
        pk="id",
        not_null={"account_id", "conversation_uri", "participant_ids", "last_status_id",
                  "unread", "updated_at"},
        defaults={"unread": 0, "participant_ids": "[]"},
        foreign_keys=[("account_id", "accounts", "id")],
    )
    db["conversations"].create_index(["account_id", "conversation_uri"], unique=True)
    db["conversations"].create_index(["account_id", "last_status_id"])

    db["polls"].create(
        {
            "status_id": int,
            "options": str,  # JSON list of option titles
            "votes": str,  # JSON list of counts, one per option
            "multiple": int,
            "hide_totals": int,
            "expires_at": str,  # NULL: never ends (remote polls without endTime)
            "voters_count": int,  # NULL when unknown (a remote single-choice poll)
            "closed": int,  # a remote poll its origin says is closed
            "ended_notified_at": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="status_id",
        not_null={"options", "votes", "multiple", "hide_totals", "closed", "created_at",
                  "updated_at"},
        defaults={"multiple": 0, "hide_totals": 0, "closed": 0},
        foreign_keys=[("status_id", "statuses", "id")],
    )
    db["poll_votes"].create(
        {
            "id": int,
            "status_id": int,
            "account_id": int,
            "choice": int,
            "uri": str,  # the vote's ActivityPub id (ours, or the remote voter's)
            "created_at": str,
        },
        pk="id",
        not_null={"status_id", "account_id", "choice", "created_at"},
        foreign_keys=[("status_id", "polls", "status_id"), ("account_id", "accounts", "id")],
    )
    db["poll_votes"].create_index(["status_id", "account_id", "choice"], unique=True)
    db["poll_votes"].create_index(["account_id"])

    db["scheduled_statuses"].create(
        {
            "id": int,
            "account_id": int,
            "scheduled_at": str,
            "params": str,  # JSON: text, visibility, poll, media_ids…
            "created_at": str,
        },
        pk="id",
        not_null={"account_id", "scheduled_at", "params", "created_at"},
        foreign_keys=[("account_id", "accounts", "id")],
    )
    db["scheduled_statuses"].create_index(["account_id", "id"])
    # The direct messages of a thread (a conversation's last message, once one is deleted).
    db.execute("CREATE INDEX idx_statuses_direct_conversation ON statuses (conversation_uri, id)"
               " WHERE visibility = 'direct'")
