"""Direct conversations, as Mastodon's ``AccountConversation``: for each local participant of a
thread of direct messages, who else takes part, the last message and whether it was read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fediverse_mu.domain.accounts import Account
from fediverse_mu.domain.statuses import StatusView


@dataclass(frozen=True, slots=True)
class Conversation:
    """One local account's view of a thread of direct messages."""

    id: int
    account_id: int
    conversation_uri: str
    participant_ids: tuple[int, ...]  # the others (empty: notes to oneself)
    last_status_id: int
    unread: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ConversationView:
    """A conversation with its participants and last message, as its owner sees them."""

    conversation: Conversation
    accounts: tuple[Account, ...]
    last_status: StatusView | None
