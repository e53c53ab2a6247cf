"""Follow relationships between accounts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FollowState(StrEnum):
    """A follow waits for approval (locked accounts, remote Accept) or is accepted."""

    PENDING = "pending"
    ACCEPTED = "accepted"


@dataclass(frozen=True, slots=True)
class Follow:
    """``follower_id`` follows ``followee_id``; ``uri`` is the Follow activity's id."""

    id: int
    follower_id: int
    followee_id: int
    state: FollowState
    uri: str
