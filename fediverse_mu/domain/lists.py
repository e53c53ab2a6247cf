"""Lists: a resident's named selections of the accounts they follow, each with its own
timeline (https://docs.joinmastodon.org/methods/lists/). A list decides which replies it shows
(``replies_policy``) and may be ``exclusive``: its members' posts then leave the owner's home
timeline and appear only in the list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_LISTS = 50  # per account, as on Mastodon (List::PER_ACCOUNT_LIMIT)
MAX_TITLE = 256
MAX_ACCOUNTS_PER_REQUEST = 80


class RepliesPolicy(StrEnum):
    """Which replies a list shows, besides replies to the owner and self-replies (threads)."""

    FOLLOWED = "followed"  # replies to any account the owner follows
    LIST = "list"  # replies to members of the list
    NONE = "none"  # no other replies


@dataclass(frozen=True, slots=True)
class AccountList:
    """One list, owned by ``account_id``."""

    id: int
    account_id: int
    title: str
    replies_policy: RepliesPolicy
    exclusive: bool
    created_at: datetime
