"""The notification policy's decision on its own (``domain.notification_requests.decide``):
each value of each field when its condition holds and when it does not, the strictest value
winning, and what is never held back (follows, follow requests, moderation warnings, polls,
edits, accounts followed or accepted, staff mentions)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from fediverse_mu.domain.notification_groups import (
    POLICY_FIELDS,
    NotificationPolicy,
    PolicyValue,
)
from fediverse_mu.domain.notification_requests import SenderFacts, decide
from fediverse_mu.domain.notifications import NotificationType

NOW = datetime(2027, 1, 15, 12, tzinfo=UTC)
ACCEPT_ALL = NotificationPolicy(**{f: PolicyValue.ACCEPT for f in POLICY_FIELDS})
# An old account, following the recipient for a week, not limited: only "not following"
# holds (the recipient does not follow it).
PLAIN = SenderFacts(created_at=NOW - timedelta(days=400), limited=False, followed=False,
                    follower_since=NOW - timedelta(days=7), permitted=False, staff=False)
# For each field: facts where its condition holds, and facts where it does not.
HOLDS = {
    "for_not_following": PLAIN,
    "for_not_followers": replace(PLAIN, follower_since=NOW - timedelta(days=2)),
    "for_new_accounts": replace(PLAIN, created_at=NOW - timedelta(days=29)),
    "for_private_mentions": replace(PLAIN, unsolicited_private_mention=True),
    "for_limited_accounts": replace(PLAIN, limited=True),
}
FAILS = {
    "for_not_following": replace(PLAIN, followed=True),
    "for_not_followers": replace(PLAIN, follower_since=NOW - timedelta(days=3, seconds=1)),
    "for_new_accounts": replace(PLAIN, created_at=NOW - timedelta(days=30, seconds=1)),
    "for_private_mentions": PLAIN,
    "for_limited_accounts": PLAIN,
}


@pytest.mark.parametrize("value", list(PolicyValue))
@pytest.mark.parametrize("field", POLICY_FIELDS)
def test_each_value_of_each_field(field: str, value: PolicyValue) -> None:
    policy = replace(ACCEPT_ALL, **{field: value})
    assert decide(policy, NotificationType.MENTION, HOLDS[field], NOW) is value
    assert decide(policy, NotificationType.MENTION, FAILS[field], NOW) is PolicyValue.ACCEPT
    # Favourites and boosts are judged alike, except by the private-mention rule.
    for kind in (NotificationType.FAVOURITE, NotificationType.REBLOG):
        expected = PolicyValue.ACCEPT if field == "for_private_mentions" else value
        assert decide(policy, kind, HOLDS[field], NOW) is expected


def test_not_followers_without_any_follow() -> None:
    policy = replace(ACCEPT_ALL, for_not_followers=PolicyValue.FILTER)
    facts = replace(PLAIN, follower_since=None)
    assert decide(policy, NotificationType.MENTION, facts, NOW) is PolicyValue.FILTER


def test_the_strictest_value_wins() -> None:
    policy = replace(ACCEPT_ALL, for_new_accounts=PolicyValue.FILTER,
                     for_limited_accounts=PolicyValue.DROP)
    both = replace(PLAIN, created_at=NOW, limited=True)
    assert decide(policy, NotificationType.MENTION, both, NOW) is PolicyValue.DROP
    assert decide(policy, NotificationType.MENTION, replace(both, limited=False),
                  NOW) is PolicyValue.FILTER


def test_what_is_never_held_back() -> None:
    drop_all = NotificationPolicy(**{f: PolicyValue.DROP for f in POLICY_FIELDS})
    worst = replace(HOLDS["for_limited_accounts"], created_at=NOW, follower_since=None,
                    unsolicited_private_mention=True)
    for kind in (NotificationType.FOLLOW, NotificationType.FOLLOW_REQUEST,
                 NotificationType.MODERATION_WARNING, NotificationType.POLL,
                 NotificationType.UPDATE, NotificationType.STATUS):
        assert decide(drop_all, kind, worst, NOW) is PolicyValue.ACCEPT, kind
    for facts in (replace(worst, followed=True), replace(worst, permitted=True)):
        for kind in (NotificationType.MENTION, NotificationType.FAVOURITE):
            assert decide(drop_all, kind, facts, NOW) is PolicyValue.ACCEPT
    staff = replace(worst, staff=True)  # a moderator's mention gets through; not their likes
    assert decide(drop_all, NotificationType.MENTION, staff, NOW) is PolicyValue.ACCEPT
    assert decide(drop_all, NotificationType.FAVOURITE, staff, NOW) is PolicyValue.DROP
