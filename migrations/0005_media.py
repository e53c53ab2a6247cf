"""Media attachments: images uploaded by residents (stored as re-encoded files under the
instance's media folder, named at random) and media of remote posts (referenced by URL, never
downloaded). ``status_id`` stays NULL until a status claims the upload; ``position`` keeps the
order the author chose."""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Create the media_attachments table."""
    db["media_attachments"].create(
        {
            "id": int,
            "account_id": int,
            "status_id": int,  # NULL until attached to a status
            "position": int,  # order within the status
            "type": str,  # image | gifv | video | audio | unknown
            "file_name": str,  # relative to the media folder; NULL for remote media
            "thumbnail_name": str,
            "mime_type": str,
            "thumbnail_mime_type": str,
            "width": int,
            "height": int,
            "thumbnail_width": int,
            "thumbnail_height": int,
            "size": int,  # bytes of the stored file
            "blurhash": str,
            "description": str,
            "focus_x": float,
            "focus_y": float,
            "remote_url": str,  # remote media: where the file lives
            "created_at": str,
        },
        pk="id",
        not_null={"account_id", "type", "mime_type", "description", "focus_x", "focus_y",
                  "created_at"},
        defaults={"description": "", "focus_x": 0.0, "focus_y": 0.0, "position": 0},
        foreign_keys=[("account_id", "accounts", "id"), ("status_id", "statuses", "id")],
    )
    db["media_attachments"].create_index(["status_id", "position"])
    db["media_attachments"].create_index(["account_id", "id"])
    db.execute("CREATE UNIQUE INDEX idx_media_file_name ON media_attachments (file_name)"
               " WHERE file_name IS NOT NULL")
    db.execute("CREATE UNIQUE INDEX idx_media_thumbnail_name ON media_attachments"
               " (thumbnail_name) WHERE thumbnail_name IS NOT NULL")
