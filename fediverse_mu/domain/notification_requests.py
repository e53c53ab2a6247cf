"""Applying a resident's notification policy (Mastodon 4.3's ``NotifyService`` drop and filter
conditions) and the notification requests that filtered mentions make
(https://docs.joinmastodon.org/entities/NotificationRequest/).

What a notification becomes is decided from a few facts about its sender as the recipient
sees them (:class:`SenderFacts`). Only favourites, boosts and mentions can be held back; as
Mastodon does, a sender whose request was accepted, and a moderator's or admin's mention,
always get through. Unlike Mastodon, follows and follow requests are never filtered (the
change Mastodon's own PR #32559 proposes: a follow hidden in the filtered box is a follow
missed), and neither is anything from an account the recipient follows. Otherwise every
policy field whose condition holds has its say and the strictest wins: ``drop`` over
``filter`` over ``accept``. The conditions are Mastodon's:

- ``for_not_following``: the recipient does not follow the sender (always true here);
- ``for_not_followers``: the sender does not follow the recipient, or has for less than
  three days;
- ``for_new_accounts``: the sender's account is less than 30 days old;
- ``for_private_mentions``: a mention in a direct status that does not answer a direct status
  in which the recipient mentioned the sender (up to 100 statuses up the thread);
- ``for_limited_accounts``: the sender is limited by a moderator (silenced, itself or by its
  domain).

Only filtered mentions make a request (one per sender) and count in it and in the policy's
summary; accepting it lets every filtered notification of that sender in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fediverse_mu.domain.accounts import Account
from fediverse_mu.domain.notification_groups import NotificationPolicy, PolicyValue
from fediverse_mu.domain.notifications import NotificationType
from fediverse_mu.domain.statuses import StatusView

# Change this set to filter more kinds (Mastodon also filters follow and follow_request).
FILTERABLE_TYPES = frozenset({NotificationType.MENTION, NotificationType.FAVOURITE,
                              NotificationType.REBLOG})
REQUEST_TYPES = frozenset({NotificationType.MENTION})  # Mastodon's update_notification_request!
NEW_ACCOUNT_AGE = timedelta(days=30)  # Mastodon's NEW_ACCOUNT_THRESHOLD
NEW_FOLLOWER_AGE = timedelta(days=3)  # Mastodon's NEW_FOLLOWER_THRESHOLD
MAX_MEANINGFUL_COUNT = 100  # Mastodon counts a request's notifications and requests up to this
THREAD_DEPTH = 100  # how far up a thread a private mention looks for the recipient's own
_STRICTNESS = (PolicyValue.ACCEPT, PolicyValue.FILTER, PolicyValue.DROP)


@dataclass(frozen=True, slots=True)
class SenderFacts:
    """What the policy looks at about a notification's sender, as its recipient sees them."""

    created_at: datetime  # the sender's account
    limited: bool  # silenced by a moderator, itself or through its domain
    followed: bool  # the recipient follows the sender
    follower_since: datetime | None  # since when the sender follows the recipient (accepted)
    permitted: bool  # the recipient accepted a request from the sender
    staff: bool  # a local moderator or admin
    unsolicited_private_mention: bool = False  # see for_private_mentions above


def decide(policy: NotificationPolicy, kind: NotificationType, facts: SenderFacts,
           now: datetime) -> PolicyValue:
    """What becomes of a notification of ``kind`` from a sender with ``facts``: ``accept``
    (notified as usual), ``filter`` (kept out of sight, in a request) or ``drop``."""
    if kind not in FILTERABLE_TYPES or facts.followed or facts.permitted:
        return PolicyValue.ACCEPT
    if kind is NotificationType.MENTION and facts.staff:
        return PolicyValue.ACCEPT
    said = [policy.for_not_following]
    if facts.limited:
        said.append(policy.for_limited_accounts)
    if facts.follower_since is None or facts.follower_since > now - NEW_FOLLOWER_AGE:
        said.append(policy.for_not_followers)
    if facts.created_at > now - NEW_ACCOUNT_AGE:
        said.append(policy.for_new_accounts)
    if kind is NotificationType.MENTION and facts.unsolicited_private_mention:
        said.append(policy.for_private_mentions)
    return max(said, key=_STRICTNESS.index)


@dataclass(frozen=True, slots=True)
class NotificationRequest:
    """Filtered mentions from one sender waiting for the recipient's decision."""

    id: int
    account_id: int  # the recipient
    from_account_id: int
    created_at: datetime
    updated_at: datetime  # the last filtered mention
    notifications_count: int  # visible filtered mentions, up to MAX_MEANINGFUL_COUNT
    last_status_id: int | None


@dataclass(frozen=True, slots=True)
class NotificationRequestView:
    """A request with its sender and last status, as the recipient sees them."""

    request: NotificationRequest
    account: Account
    last_status: StatusView | None = None


@dataclass(frozen=True, slots=True)
class PolicySummary:
    """The policy entity's ``summary``: pending requests (up to 100) and their notifications."""

    pending_requests_count: int = 0
    pending_notifications_count: int = 0
