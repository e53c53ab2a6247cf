"""The ``conversations`` table: each local participant's row for a thread of direct messages
(filled when a direct status is written, local or received), listed newest message first."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from fediverse_mu.domain.conversations import Conversation, ConversationView
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.statuses import Status, Visibility
from fediverse_mu.storage.accounts import get_accounts_by_ids
from fediverse_mu.storage.db import Database
from fediverse_mu.storage.pagination import newest_first, page_clause
from fediverse_mu.storage.statuses import can_see, get_status, load_views

_COLUMNS = "id, account_id, conversation_uri, participant_ids, last_status_id, unread, updated_at"


def _conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(
        id=row["id"], account_id=row["account_id"], conversation_uri=row["conversation_uri"],
        participant_ids=tuple(int(i) for i in json.loads(row["participant_ids"])),
        last_status_id=row["last_status_id"], unread=bool(row["unread"]),
        updated_at=datetime.fromisoformat(row["updated_at"]))


def record_direct_status(db: Database, status: Status, participant_ids: Sequence[int],
                         local_ids: Sequence[int], now: datetime) -> list[tuple[int, int]]:
    """A direct status was written: for each local participant (``local_ids``, among the
    author and the mentioned ``participant_ids``), its conversation now holds it: the last
    status is the newest by id (a fetched older message does not replace it), and it is
    unread for everyone but its author (whose own newest message marks it read). Returns
    ``(account id, conversation id)`` pairs."""
    if status.visibility is not Visibility.DIRECT or status.conversation_uri is None:
        return []
    everyone = sorted({status.account_id, *participant_ids})
    touched = []
    for account_id in dict.fromkeys(local_ids):
        others = json.dumps([i for i in everyone if i != account_id])
        row = db.execute(
            "INSERT INTO conversations (account_id, conversation_uri, participant_ids,"
            " last_status_id, unread, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (account_id, conversation_uri) DO UPDATE SET"
            " participant_ids = excluded.participant_ids,"
            " last_status_id = max(last_status_id, excluded.last_status_id),"
            " unread = CASE WHEN excluded.unread = 1 OR excluded.last_status_id >="
            "  last_status_id THEN excluded.unread ELSE unread END,"
            " updated_at = excluded.updated_at"
            " RETURNING id",
            [account_id, status.conversation_uri, others, status.id,
             int(account_id != status.account_id), now.isoformat()]).fetchone()
        touched.append((account_id, int(row[0])))
    return touched


def _last_visible(db: Database, conversation: Conversation) -> int | None:
    """The newest direct message of the thread its owner may still see."""
    for (status_id,) in db.execute(
            "SELECT id FROM statuses WHERE conversation_uri = ? AND visibility = 'direct'"
            " AND deleted_at IS NULL ORDER BY id DESC LIMIT 50",
            [conversation.conversation_uri]).fetchall():
        status = get_status(db, status_id)
        if status is not None and can_see(db, status, conversation.account_id):
            return int(status_id)
    return None


def list_conversations(db: Database, account_id: int, page: Page) -> list[Conversation]:
    """A page of an account's conversations, newest last message first (paginated by the
    last message's id, as Mastodon does)."""
    where, args, direction = page_clause("last_status_id", page)
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM conversations WHERE account_id = ? AND {where}"
        f" ORDER BY last_status_id {direction} LIMIT ?",
        [account_id, *args, page.limit]).fetchall()
    return newest_first([_conversation(r) for r in rows], page)


def get_conversation(db: Database, account_id: int, conversation_id: int) -> Conversation | None:
    """One of an account's conversations (None: unknown or someone else's)."""
    row = db.execute(f"SELECT {_COLUMNS} FROM conversations WHERE id = ? AND account_id = ?",
                     [conversation_id, account_id]).fetchone()
    return None if row is None else _conversation(row)


def delete_conversation(db: Database, account_id: int, conversation_id: int) -> bool:
    """Forget one of an account's conversations (the statuses stay)."""
    return db.execute("DELETE FROM conversations WHERE id = ? AND account_id = ?",
                      [conversation_id, account_id]).rowcount == 1


def mark_read(db: Database, account_id: int, conversation_id: int) -> Conversation | None:
    """Mark one of an account's conversations read."""
    row = db.execute(f"UPDATE conversations SET unread = 0 WHERE id = ? AND account_id = ?"
                     f" RETURNING {_COLUMNS}", [conversation_id, account_id]).fetchone()
    return None if row is None else _conversation(row)


def load_conversation_views(db: Database,
                            conversations: Sequence[Conversation]) -> list[ConversationView]:
    """Conversations with their participants and last message as their owner sees it; one
    whose messages are all gone is left out."""
    if not conversations:
        return []
    accounts = get_accounts_by_ids(db, [i for c in conversations
                                        for i in (c.account_id, *c.participant_ids)])
    out = []
    for conversation in conversations:
        last_id: int | None = conversation.last_status_id
        status = get_status(db, conversation.last_status_id)
        if status is None or not can_see(db, status, conversation.account_id):
            last_id = _last_visible(db, conversation)
        if last_id is None:
            continue
        views = load_views(db, [last_id], conversation.account_id)
        others = tuple(accounts[i] for i in conversation.participant_ids if i in accounts)
        if not others and conversation.account_id in accounts:
            others = (accounts[conversation.account_id],)  # notes to oneself, as Mastodon
        out.append(ConversationView(conversation, others, views[0] if views else None))
    return out
