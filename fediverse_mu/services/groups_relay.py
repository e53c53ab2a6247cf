"""What a group does inside a write transaction (so that the change and its deliveries commit
together): decide whether a post may enter a local group, record it, give local members the
group's boost and queue the group's ``Announce`` to every member's shared inbox (one delivery
job per inbox); announce later activities on a group post (edits, deletes, likes); take a
removed post out; and, on member instances, keep the boosts a remote group sends. Called by
``services.posting`` (local posts), ``services.groups`` and ``services.following``; it never
imports ``posting`` (which imports it)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fediverse_mu.activitypub import groups as ap_groups
from fediverse_mu.activitypub.activities import build_undo, new_activity_id
from fediverse_mu.domain import Account, Follow, FollowState
from fediverse_mu.domain.groups import Group, GroupAction
from fediverse_mu.domain.notifications import NotificationType
from fediverse_mu.domain.statuses import Status, Visibility
from fediverse_mu.services import notification_requests
from fediverse_mu.services.delivery import queue_deliveries
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import follows as follow_store
from fediverse_mu.storage import groups as store
from fediverse_mu.storage import lists as list_store
from fediverse_mu.storage import notifications as notification_store
from fediverse_mu.storage import statuses as status_store
from fediverse_mu.storage.jobs import put_job
from fediverse_mu.storage.statuses import NewStatus

RawObject = dict[str, Any]


@dataclass
class Relayed:
    """What a relay did, for the events published after the commit."""

    boosts: list[tuple[Status, list[int]]] = field(default_factory=list)  # (boost, home ids)
    deleted: list[int] = field(default_factory=list)
    notifications: list[tuple[int, int]] = field(default_factory=list)
    jobs: int = 0


WELCOME_JOB = "group_welcome"


def refusal(db: Database, group: Group, author: Account, visibility: Visibility) -> str | None:
    """Why a post by ``author`` with this visibility may not enter the group (None: it
    may): the group is closed, the author banned or not a member, or the post public in a
    members-only group."""
    if group.closed:
        return "the group is closed to new posts"
    if store.is_banned(db, group.account.id, author.id):
        return "the author is banned from the group"
    if not store.is_member(db, group.account.id, author.id) and not group.is_moderator(author):
        return "the author is not a member of the group"
    if group.members_only and visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
        return "a members-only group does not relay public posts"
    return None


def _member_inboxes(db: Database, group_id: int) -> list[str]:
    return follow_store.list_follower_inboxes(db, group_id)


def relay_post(db: Database, group: Group, author: Account, status: Status, note: RawObject,
               now: datetime, now_ts: float, out: Relayed) -> str | None:
    """Announce ``status`` (with ``note``, its AS2 object) to the group's members, or say
    why not. A public post in a public group is announced by id (Mastodon shows a boost);
    anything else is announced as an embedded Create, addressed to the members only."""
    reason = "a boost cannot be posted to a group" if status.reblog_of_id is not None \
        else refusal(db, group, author, status.visibility)
    if reason is not None:
        return reason
    actor = group.account.actor_uri
    announce_id = f"{actor}/announces/{status.id}"
    public = not group.members_only and status.visibility in (Visibility.PUBLIC,
                                                             Visibility.UNLISTED)
    if store.put_group_post(db, group_id=group.account.id, status_id=status.id,
                            announce_uri=announce_id, note_json=json.dumps(note),
                            now=now) is None:
        return None  # already announced
    boost = status_store.put_status(db, NewStatus(
        id=status_store.new_status_id(db, now), uri=announce_id, url=status.url,
        account_id=group.account.id, local=True, content="",
        visibility=status.visibility if public else Visibility.PRIVATE, created_at=now,
        reblog_of_id=status.id))
    home = list_store.fan_out(db, boost, status_store.local_follower_ids(db, group.account.id))
    status_store.add_to_home_feeds(db, boost.id, home)
    out.boosts.append((boost, home))
    obj: str | RawObject = status.uri if public else ap_groups.wrap_create(note)
    activity = ap_groups.build_group_announce(announce_id, actor, obj, public=public,
                                              published=now)
    out.jobs += queue_deliveries(db, activity, _member_inboxes(db, group.account.id),
                                 signer_id=group.account.id, now=now_ts)
    return None


def groups_for(db: Database, mentioned: Sequence[Account], parent: Status | None) -> list[Group]:
    """The local groups a new post goes to: those it mentions, and the group of the thread
    it replies to (replies stay in the group)."""
    ids = [m.id for m in mentioned if m.is_local and m.actor_type == "Group"]
    if parent is not None:
        ids += [p.group_id for p in store.group_posts_of_status(db, parent.id)
                if p.removed_at is None]
    found = [store.get_group(db, i) for i in dict.fromkeys(ids)]
    return [g for g in found if g is not None]


def relay_local_post(db: Database, groups: Sequence[Group], author: Account, status: Status,
                     note: RawObject, now: datetime, now_ts: float) -> Relayed:
    """Inside the write that created a local post: relay it in the local groups it is
    addressed to (:func:`groups_for`; a refused post simply stays the author's own)."""
    out = Relayed()
    for group in groups:
        relay_post(db, group, author, status, note, now, now_ts, out)
    return out


def remote_groups_of(db: Database, parent: Status | None) -> list[Account]:
    """The remote groups that boosted what a new post replies to: the reply goes to their
    inbox too, so it stays in the group."""
    if parent is None:
        return []
    return [g for g in store.groups_boosting(db, parent.id) if not g.is_local]


def remote_group_inboxes(db: Database, status: Status) -> list[str]:
    """The inboxes of the remote groups carrying a status: its edits, deletes and likes go
    there too, for the group to announce them."""
    return [inbox for g in store.groups_boosting(db, status.id) if not g.is_local
            for inbox in [g.shared_inbox_uri or g.inbox_uri] if inbox]


def relay_activity(db: Database, status: Status, activity: RawObject, now_ts: float) -> int:
    """Announce an activity about a status (an edit, a delete, a like) to the members of the
    local groups that carry it (FEP-1b12 Announce of the activity); returns the jobs."""
    jobs = 0
    inner = {k: v for k, v in activity.items() if k != "@context"}
    for post in store.group_posts_of_status(db, status.id):
        if post.removed_at is not None:
            continue
        group = store.get_group(db, post.group_id)
        if group is None:
            continue
        actor = group.account.actor_uri
        announce = ap_groups.build_group_announce(
            new_activity_id(actor, "Announce"), actor, inner,
            public=not group.members_only and status.visibility in (
                Visibility.PUBLIC, Visibility.UNLISTED),
            published=status.created_at)
        jobs += queue_deliveries(db, announce, _member_inboxes(db, group.account.id),
                                 signer_id=group.account.id, now=now_ts)
    return jobs


def drop_group_copy(db: Database, group_id: int, status: Status, now: datetime) -> list[int]:
    """Take a status out of a group here: the group's boost goes, and a remote status kept
    only because of the group goes too. Returns the status ids deleted."""
    deleted: list[int] = []
    boost_id = store.group_boost(db, group_id, status.id)
    if boost_id is not None:
        boost = status_store.get_status(db, boost_id)
        if boost is not None:
            deleted += status_store.delete_status(db, boost, now)
    if not status.local and status.deleted_at is None and \
            store.held_only_for_groups(db, status.id, status.account_id):
        deleted += status_store.delete_status(db, status, now)
    return deleted


def announce_removal(db: Database, group: Group, moderator: Account, status: Status,
                     announce_uri: str, now_ts: float) -> int:
    """Tell every member instance that a moderator removed a post: the group's Announce of
    the moderator's Delete (FEP-1b12, as Lemmy does), and an Undo of the group's boost (what
    Mastodon understands)."""
    actor = group.account.actor_uri
    inboxes = _member_inboxes(db, group.account.id)
    delete = ap_groups.build_moderator_delete(new_activity_id(actor, "Remove"),
                                              moderator.actor_uri, status.uri, actor)
    announce = ap_groups.build_group_announce(new_activity_id(actor, "Announce"), actor,
                                              delete, public=not group.members_only,
                                              published=status.created_at)
    undo = build_undo(actor, {"id": announce_uri, "type": "Announce", "actor": actor,
                              "object": status.uri})
    return queue_deliveries(db, announce, inboxes, signer_id=group.account.id, now=now_ts) + \
        queue_deliveries(db, undo, inboxes, signer_id=group.account.id, now=now_ts)


# -- joining -------------------------------------------------------------------------------------


def join_refusal(db: Database, target: Account, follower: Account) -> str | None:
    """Why ``follower`` may not join ``target`` when it is a local group (banned)."""
    if target.is_local and target.actor_type == "Group" and \
            store.is_banned(db, target.id, follower.id):
        return "banned from the group"
    return None


def queue_welcome(db: Database, follow: Follow, target: Account, now_ts: float) -> None:
    """Inside the write that accepted a follow of a group (local or remote): queue the
    welcome (charter message, the member's group list)."""
    if target.actor_type != "Group" or follow.state is not FollowState.ACCEPTED:
        return
    put_job(db, WELCOME_JOB, {"group_id": target.id, "member_id": follow.follower_id},
            now=now_ts, dedup_key=f"{WELCOME_JOB}:{follow.id}")


def moderated_request(db: Database, moderator: Account,
                      requester: Account) -> tuple[Follow, Account] | None:
    """A pending request of ``requester`` to join a group ``moderator`` moderates, with the
    group (the follow-requests screen of a moderator shows them)."""
    follow = store.moderated_request(db, moderator.id, requester.id)
    if follow is None:
        return None
    group = account_store.get_account_by_id(db, follow.followee_id)
    return None if group is None else (follow, group)


def log_answer(db: Database, moderator: Account, group: Account, requester: Account,
               accept: bool, now: datetime) -> None:
    """Record a moderator's answer to a join request."""
    store.put_log(db, group_id=group.id, moderator_id=moderator.id,
                  action=GroupAction.APPROVE if accept else GroupAction.REJECT,
                  target=requester.acct(), detail="", now=now)


def notify_moderators(db: Database, follow: Follow, group: Account,
                      now: datetime) -> list[tuple[int, int]]:
    """A request to join a group on approval: every local moderator gets a
    ``follow_request`` notification (an open group's joins notify nobody)."""
    if follow.state is not FollowState.PENDING:
        return []
    notified = []
    for moderator_id in store.local_moderator_ids(db, group.id):
        notification_id = notification_store.put_follow_notification(
            db, account_id=moderator_id, from_account_id=follow.follower_id,
            kind=NotificationType.FOLLOW_REQUEST, now=now)
        notified.append((notification_id, moderator_id))
    return notified


# -- member instances: boosts from a remote group ------------------------------------------------


def receive_group_boost(db: Database, group: Account, announce_uri: str, target: Status,
                        now: datetime, out: Relayed) -> bool:
    """Keep a group's boost of ``target`` (whatever its visibility: the members see it through
    the group) and put it in the local members' feeds (their exclusive group list)."""
    if status_store.get_status_by_uri(db, announce_uri) is not None or \
            status_store.is_tombstoned(db, announce_uri) or target.deleted_at is not None:
        return False
    if status_store.get_reblog(db, group.id, target.id) is not None:
        return False
    members = status_store.local_follower_ids(db, group.id)
    if not members:
        return False
    public = target.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
    boost = status_store.put_status(db, NewStatus(
        id=status_store.new_status_id(db, now), uri=announce_uri, url=target.url,
        account_id=group.id, local=False, content="",
        visibility=target.visibility if public else Visibility.PRIVATE, created_at=now,
        reblog_of_id=target.id))
    home = list_store.fan_out(db, boost, members)
    status_store.add_to_home_feeds(db, boost.id, home)
    out.boosts.append((boost, home))
    if target.local:
        notification_id = notification_requests.notify(
            db, account_id=target.account_id, from_account_id=group.id, kind="reblog",
            status_id=target.id, now=now)
        if notification_id is not None:
            out.notifications.append((notification_id, target.account_id))
    return True
