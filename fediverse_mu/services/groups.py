"""Listening groups (*groupes d'écoute accueillants*), FEP-1b12: creating a local ``Group``
actor, its settings and moderators, joining (a follow of the group: open, or on a moderator's
approval), the charter sent to each new member, the exclusive list each local member gets for
the group's boosts, relaying members' posts (``groups_relay`` does it inside the writes), and
moderation: removing a post, removing or banning a member, closing the group, all logged.
On member instances it keeps what remote groups announce."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from fediverse_mu.activitypub import groups as ap_groups
from fediverse_mu.activitypub import iri
from fediverse_mu.activitypub.activities import build_follow, build_response, build_update
from fediverse_mu.activitypub.actors import render_actor
from fediverse_mu.domain import Account, Conflict, Forbidden, Invalid, Job, Media, NotFound
from fediverse_mu.domain.groups import (
    MAX_CHARTER,
    MAX_TITLE,
    Group,
    GroupAction,
    GroupLogEntry,
    JoinPolicy,
)
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.statuses import Status, StatusView, Visibility
from fediverse_mu.events import NOTIFICATION, STATUS_CREATED, STATUS_DELETED
from fediverse_mu.services import accounts, following, lists, posting, profile_images
from fediverse_mu.services import media as media_service
from fediverse_mu.services.context import Services
from fediverse_mu.services.delivery import queue_deliveries
from fediverse_mu.services.groups_relay import (
    WELCOME_JOB,
    Relayed,
    announce_removal,
    receive_group_boost,
    relay_activity,
    relay_post,
)
from fediverse_mu.services.groups_relay import drop_group_copy as _drop_group_copy
from fediverse_mu.services.groups_relay import refusal as relay_refusal
from fediverse_mu.services.jobs import announce_jobs
from fediverse_mu.services.keys import generate_key_pair
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import follows as follow_store
from fediverse_mu.storage import groups as store
from fediverse_mu.storage import statuses as status_store

__all__ = ["WELCOME_JOB", "create_group"]  # WELCOME_JOB: the job kind app.py registers
RawObject = dict[str, Any]


def page_url(base_url: str, name: str) -> str:
    """The HTML page of a local group."""
    return f"{base_url}/groups/{name}"


def summary_of(charter: str) -> str:
    """The actor summary: the charter, as HTML."""
    return ap_groups.charter_html(charter)


# -- creation and settings -----------------------------------------------------------------------


def _create(db: Database, base_url: str, name: str, title: str, charter: str,
            policy: JoinPolicy, members_only: bool, language: str,
            moderator_ids: list[int], creator_id: int | None, key_pair: tuple[str, str],
            now: datetime) -> Group:
    if account_store.local_username_taken(db, name):
        raise Conflict(f"username '{name}' is already taken")
    actor = iri.actor_uri(base_url, name)
    account = account_store.put_local_account(
        db, username=name, actor_uri=actor, actor_type="Group", url=page_url(base_url, name),
        inbox_uri=iri.inbox_uri(actor), shared_inbox_uri=iri.shared_inbox_uri(base_url),
        public_key_pem=key_pair[1], private_key_pem=key_pair[0], created_at=now,
        display_name=title)
    store.put_group(db, account_id=account.id, charter=charter, join_policy=policy,
                    members_only=members_only, language=language, created_by=creator_id,
                    now=now)
    store.update_group(db, account.id, title=title, charter=charter,
                       summary=summary_of(charter), join_policy=policy,
                       members_only=members_only, closed=False, now=now)
    for moderator_id in moderator_ids:
        store.add_moderator(db, account.id, moderator_id, now)
    store.put_log(db, group_id=account.id, moderator_id=creator_id, action=GroupAction.CREATE,
                  target=name, detail=title, now=now)
    group = store.get_group(db, account.id)
    assert group is not None
    return group


def _check_text(title: str, charter: str) -> tuple[str, str]:
    title, charter = title.strip(), charter.replace("\r\n", "\n").strip()
    if len(title) > MAX_TITLE:
        raise Invalid(f"Validation failed: the title is longer than {MAX_TITLE} characters")
    if len(charter) > MAX_CHARTER:
        raise Invalid(f"Validation failed: the charter is longer than {MAX_CHARTER} characters")
    return title, charter


async def create_group(svc: Services, name: str, *, title: str = "", charter: str = "",
                       approval: bool = False, members_only: bool = False,
                       moderators: Sequence[Account] = (), creator: Account | None = None,
                       language: str | None = None) -> Group:
    """Create a local group (its own actor and keys); ``creator`` becomes a moderator."""
    accounts.validate_username(name)
    title, charter = _check_text(title, charter)
    chosen = [m.id for m in (*([creator] if creator else []), *moderators)]
    key_pair = generate_key_pair()
    return await svc.storage.write(
        _create, svc.config.base_url, name, title or name, charter,
        JoinPolicy.APPROVAL if approval else JoinPolicy.OPEN, members_only,
        language or svc.config.languages[0], list(dict.fromkeys(chosen)),
        None if creator is None else creator.id, key_pair, svc.now())


async def get_group(svc: Services, name: str) -> Group:
    """A local group by name; NotFound otherwise."""
    group = await svc.storage.read(store.get_group_by_name, name)
    if group is None:
        raise NotFound("no such group")
    return group


async def group_of(svc: Services, account: Account) -> Group | None:
    """The settings of a local group account (None for any other account)."""
    if not account.is_local or account.actor_type != "Group":
        return None
    return await svc.storage.read(store.get_group, account.id)


async def list_groups(svc: Services) -> list[Group]:
    """The local groups, newest first."""
    return await svc.storage.read(store.list_groups)


def _require_moderator(db: Database, group_id: int, moderator: Account) -> Group:
    group = store.get_group(db, group_id)
    if group is None:
        raise NotFound("no such group")
    if not group.is_moderator(moderator):
        raise Forbidden("only the group's moderators may do this")
    return group


def _actor_update(db: Database, group: Group, base_url: str, now_ts: float) -> None:
    actor_doc = render_actor(group.account, base_url=base_url,
                             icon_url=f"{base_url}/static/avatar.png")  # as served
    doc = ap_groups.render_group(actor_doc, group,
                                 page_url=page_url(base_url, group.account.username))
    doc.pop("@context", None)
    actor = group.account.actor_uri
    update = build_update(actor, doc, to=[f"{actor}/followers"])
    queue_deliveries(db, update, follow_store.list_follower_inboxes(db, group.account.id),
                     signer_id=group.account.id, now=now_ts)


def _update(db: Database, base_url: str, moderator: Account, group_id: int,
            changes: dict[str, Any], now: datetime, now_ts: float) -> Group:
    group = _require_moderator(db, group_id, moderator)
    title = changes.get("title", group.title)
    charter = changes.get("charter", group.charter)
    policy = changes.get("join_policy", group.join_policy)
    members_only = changes.get("members_only", group.members_only)
    closed = changes.get("closed", group.closed)
    store.update_group(db, group_id, title=title, charter=charter,
                       summary=summary_of(charter), join_policy=policy,
                       members_only=members_only, closed=closed, now=now)
    if closed != group.closed:
        store.put_log(db, group_id=group_id, moderator_id=moderator.id,
                      action=GroupAction.CLOSE if closed else GroupAction.REOPEN,
                      target=group.account.username, detail="", now=now)
    changed = sorted(k for k in changes if k != "closed" and
                     changes[k] != {"title": group.title, "charter": group.charter,
                                    "join_policy": group.join_policy,
                                    "members_only": group.members_only}.get(k))
    if changed:
        store.put_log(db, group_id=group_id, moderator_id=moderator.id,
                      action=GroupAction.SETTINGS, target=group.account.username,
                      detail=", ".join(changed), now=now)
    updated = store.get_group(db, group_id)
    assert updated is not None
    _actor_update(db, updated, base_url, now_ts)
    return updated


async def update_settings(svc: Services, moderator: Account, group: Group, *,
                          title: str | None = None, charter: str | None = None,
                          join_policy: str | None = None, members_only: bool | None = None,
                          closed: bool | None = None) -> Group:
    """Change a group's settings (moderators only); members' instances get an Update."""
    changes: dict[str, Any] = {}
    if title is not None or charter is not None:
        checked_title, checked_charter = _check_text(title or group.title,
                                                     group.charter if charter is None
                                                     else charter)
        if title is not None:
            if not checked_title:
                raise Invalid("Validation failed: the title can't be blank")
            changes["title"] = checked_title
        if charter is not None:
            changes["charter"] = checked_charter
    if join_policy is not None:
        try:
            changes["join_policy"] = JoinPolicy(join_policy)
        except ValueError:
            raise Invalid("Validation failed: join policy must be open or approval") from None
    if members_only is not None:
        changes["members_only"] = members_only
    if closed is not None:
        changes["closed"] = closed
    updated = await svc.storage.write(_update, svc.config.base_url, moderator,
                                      group.account.id, changes, svc.now(), svc.clock())
    announce_jobs(svc)
    return updated


def _set_images(db: Database, base_url: str, moderator: Account, group_id: int,
                images: list[profile_images.PreparedImage], now: datetime,
                now_ts: float) -> tuple[Group, list[Media]]:
    group = _require_moderator(db, group_id, moderator)
    _, replaced = profile_images.apply(db, base_url, group.account, images, now)
    store.put_log(db, group_id=group_id, moderator_id=moderator.id,
                  action=GroupAction.SETTINGS, target=group.account.username,
                  detail=", ".join(p.kind for p in images), now=now)
    updated = store.get_group(db, group_id)
    assert updated is not None
    _actor_update(db, updated, base_url, now_ts)
    return updated, replaced


async def update_images(svc: Services, moderator: Account, group: Group,
                        images: Mapping[str, bytes]) -> Group:
    """Give the group a new avatar and/or header (moderators only), through the profile
    image pipeline (``services.profile_images``); members' instances get an Update. A bad
    image is refused (Invalid) and nothing changes."""
    if not group.is_moderator(moderator):
        raise Forbidden("only the group's moderators may do this")
    if not images:
        raise Invalid("Validation failed: choose an avatar or a header")
    prepared = await profile_images.prepare(svc, images)
    try:
        updated, replaced = await svc.storage.write(
            _set_images, svc.config.base_url, moderator, group.account.id, prepared,
            svc.now(), svc.clock())
    except BaseException:
        await profile_images.discard(svc, prepared)
        raise
    await media_service.remove_files(svc, replaced)
    announce_jobs(svc)
    return updated


def _add_moderator(db: Database, moderator: Account, group_id: int, new: Account,
                   now: datetime) -> None:
    _require_moderator(db, group_id, moderator)
    if store.add_moderator(db, group_id, new.id, now):
        store.put_log(db, group_id=group_id, moderator_id=moderator.id,
                      action=GroupAction.ADD_MODERATOR, target=new.acct(), detail="", now=now)


async def add_moderator(svc: Services, moderator: Account, group: Group,
                        new: Account) -> None:
    """Make another account (local or remote) a moderator of the group."""
    await svc.storage.write(_add_moderator, moderator, group.account.id, new, svc.now())


async def moderation_log(svc: Services, moderator: Account, group: Group) -> list[GroupLogEntry]:
    """The group's moderation log (moderators only)."""
    if not group.is_moderator(moderator):
        raise Forbidden("only the group's moderators may see the log")
    return await svc.storage.read(store.list_log, group.account.id)


async def actor_document(svc: Services, account: Account, document: RawObject) -> RawObject:
    """A local group's actor document, from its account's (FEP-1b12 ``Group``)."""
    group = await group_of(svc, account)
    if group is None:
        return document
    return ap_groups.render_group(document, group,
                                  page_url=page_url(svc.config.base_url, account.username))


async def moderator_uris(svc: Services, group: Group) -> list[str]:
    """The actor ids of a group's moderators (its ``attributedTo`` collection)."""
    found = await svc.storage.read(account_store.get_accounts_by_ids, list(group.moderator_ids))
    return [found[i].actor_uri for i in group.moderator_ids if i in found]


# -- reading -------------------------------------------------------------------------------------


async def count_members(svc: Services, group: Group) -> int:
    """How many members a group has."""
    return await svc.storage.read(store.count_members, group.account.id)


async def is_member(svc: Services, group: Account, account: Account | None) -> bool:
    """True when ``account`` is an accepted member of ``group``."""
    if account is None:
        return False
    return await svc.storage.read(store.is_member, group.id, account.id)


async def may_read(svc: Services, group: Group, viewer: Account | None) -> bool:
    """Whether the viewer may see the group's posts (members-only groups: members and
    moderators only)."""
    if not group.members_only:
        return True
    return group.is_moderator(viewer) or await is_member(svc, group.account, viewer)


async def may_list_members(svc: Services, account: Account, asker: Account | None) -> bool:
    """Whether ``asker`` may see who follows ``account``: anyone, unless ``account`` is a
    local members-only group (then its members and moderators only; others get the count)."""
    group = await group_of(svc, account)
    return group is None or await may_read(svc, group, asker)


async def recent_posts(svc: Services, group: Group, viewer: Account | None,
                       page: Page) -> list[StatusView]:
    """The posts the group announced and kept, as the viewer sees them: nothing of a
    members-only group for a non-member; only public and unlisted posts for anyone else."""
    if not await may_read(svc, group, viewer):
        return []
    ids = await svc.storage.read(store.group_status_ids, group.account.id, page)
    views = await posting.statuses_of(svc, ids, viewer)
    if group.members_only:
        return views
    return [v for v in views if v.status.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
            or (viewer is not None and await is_member(svc, group.account, viewer))]


async def members(svc: Services, moderator: Account, group: Group) -> list[Account]:
    """The members (moderators only)."""
    if not group.is_moderator(moderator):
        raise Forbidden("only the group's moderators may list the members")
    return await svc.storage.read(store.list_members, group.account.id)


async def pending(svc: Services, moderator: Account, group: Group) -> list[Account]:
    """Accounts waiting to join (moderators only)."""
    if not group.is_moderator(moderator):
        raise Forbidden("only the group's moderators may see the requests")
    return await svc.storage.read(store.pending_requests, group.account.id)


async def bans(svc: Services, moderator: Account, group: Group) -> list[tuple[Account, str]]:
    """Banned accounts and why (moderators only)."""
    if not group.is_moderator(moderator):
        raise Forbidden("only the group's moderators may see the bans")
    return await svc.storage.read(store.list_bans, group.account.id)


# -- events --------------------------------------------------------------------------------------


def _publish(svc: Services, out: Relayed) -> None:
    for boost, home in out.boosts:
        svc.events.publish(STATUS_CREATED, {
            "status_id": boost.id, "account_id": boost.account_id, "home": home,
            "public": False, "local": boost.local, "local_only": False, "tags": []})
    if out.deleted:
        svc.events.publish(STATUS_DELETED, {"status_ids": out.deleted, "account_id": None})
    for notification_id, account_id in out.notifications:
        svc.events.publish(NOTIFICATION, {"notification_id": notification_id,
                                          "account_id": account_id})
    if out.jobs:
        announce_jobs(svc)


# -- posts from remote members (the group's inbox) -----------------------------------------------


def _relay_remote(db: Database, group_id: int, author: Account, status_id: int,
                  note: RawObject, now: datetime, now_ts: float) -> tuple[str | None, Relayed]:
    out = Relayed()
    group = store.get_group(db, group_id)
    status = status_store.get_status(db, status_id)
    if group is None or status is None:
        return "unknown group or post", out
    return relay_post(db, group, author, status, note, now, now_ts, out), out


async def relay_remote_post(svc: Services, group: Group, author: Account, status: Status,
                            note: RawObject) -> str | None:
    """A remote member's post reached the group: announce it (or say why not)."""
    reason, out = await svc.storage.write(_relay_remote, group.account.id, author, status.id,
                                          note, svc.now(), svc.clock())
    _publish(svc, out)
    return reason


async def refusal(svc: Services, group: Group, author: Account,
                  visibility: Visibility) -> str | None:
    """Why a post by ``author`` with this visibility may not enter the group (checked before
    a remote post is stored)."""
    return await svc.storage.read(relay_refusal, group, author, visibility)


def _relay_activity(db: Database, status_id: int, activity: RawObject, now_ts: float) -> int:
    status = status_store.get_status(db, status_id)
    return 0 if status is None else relay_activity(db, status, activity, now_ts)


async def relay_remote_activity(svc: Services, status: Status, activity: RawObject) -> int:
    """An edit, delete or like of a group post reached the group: announce it to the members
    (FEP-1b12); returns the deliveries queued."""
    jobs = await svc.storage.write(_relay_activity, status.id, activity, svc.clock())
    if jobs:
        announce_jobs(svc)
    return jobs


async def group_post_status_ids(svc: Services, group: Account) -> list[int]:
    """Ids of the statuses a local group carries (newest first, up to 40)."""
    return await svc.storage.read(store.group_status_ids, group.id, Page(limit=40))


async def local_groups_of(svc: Services, status: Status) -> list[Group]:
    """The local groups that announced a status and did not remove it."""
    def read(db: Database) -> list[Group]:
        posts = [p for p in store.group_posts_of_status(db, status.id) if p.removed_at is None]
        found = [store.get_group(db, p.group_id) for p in posts]
        return [g for g in found if g is not None]
    return await svc.storage.read(read)


async def local_group(svc: Services, account_id: int) -> Group | None:
    """A local group by account id."""
    return await svc.storage.read(store.get_group, account_id)


# -- moderation ----------------------------------------------------------------------------------


def _remove_post(db: Database, moderator: Account, group_id: int, status_id: int, reason: str,
                 now: datetime, now_ts: float) -> Relayed:
    group = _require_moderator(db, group_id, moderator)
    post = store.get_group_post(db, group_id, status_id)
    status = status_store.get_status(db, status_id)
    if post is None or status is None:
        raise NotFound("this post is not in the group")
    if post.removed_at is not None:
        raise Conflict("this post was already removed")
    out = Relayed()
    store.mark_removed(db, post.id, now)
    out.deleted = _drop_group_copy(db, group_id, status, now)
    out.jobs = announce_removal(db, group, moderator, status, post.announce_uri, now_ts)
    store.put_log(db, group_id=group_id, moderator_id=moderator.id,
                  action=GroupAction.REMOVE_POST, target=status.uri, detail=reason, now=now)
    return out


async def remove_post(svc: Services, moderator: Account, group: Group, status_id: int,
                      reason: str = "") -> None:
    """A moderator takes a post out of the group; every member instance is told."""
    out = await svc.storage.write(_remove_post, moderator, group.account.id, status_id,
                                  reason.strip()[:500], svc.now(), svc.clock())
    _publish(svc, out)


def _remove_member(db: Database, moderator: Account, group_id: int, member: Account,
                   ban: bool, reason: str, now: datetime, now_ts: float) -> None:
    group = _require_moderator(db, group_id, moderator)
    if group.is_moderator(member):
        raise Invalid("Validation failed: a moderator cannot be removed or banned")
    follow = follow_store.get_follow(db, member.id, group_id)
    if follow is None and not ban:
        raise NotFound("this account is not a member of the group")
    if follow is not None:
        follow_store.delete_follow(db, follow.id)
        inbox = member.shared_inbox_uri or member.inbox_uri
        if not member.is_local and inbox is not None:
            # A Reject of an accepted follow removes the follower (Mastodon, Lemmy).
            queue_deliveries(db, build_response("Reject", group.account.actor_uri, build_follow(
                follow.uri, member.actor_uri, group.account.actor_uri)), [inbox],
                signer_id=group_id, now=now_ts)
    if ban:
        store.put_ban(db, group_id, member.id, reason, now)
    store.put_log(db, group_id=group_id, moderator_id=moderator.id,
                  action=GroupAction.BAN if ban else GroupAction.REMOVE_MEMBER,
                  target=member.acct(), detail=reason, now=now)


async def remove_member(svc: Services, moderator: Account, group: Group, member: Account, *,
                        ban: bool = False, reason: str = "") -> None:
    """A moderator removes a member (and, with ``ban``, refuses their posts and joins)."""
    await svc.storage.write(_remove_member, moderator, group.account.id, member, ban,
                            reason.strip()[:500], svc.now(), svc.clock())
    announce_jobs(svc)


def _unban(db: Database, moderator: Account, group_id: int, member: Account,
           now: datetime) -> None:
    _require_moderator(db, group_id, moderator)
    if not store.delete_ban(db, group_id, member.id):
        raise NotFound("this account is not banned")
    store.put_log(db, group_id=group_id, moderator_id=moderator.id, action=GroupAction.UNBAN,
                  target=member.acct(), detail="", now=now)


async def unban(svc: Services, moderator: Account, group: Group, member: Account) -> None:
    """Lift a ban."""
    await svc.storage.write(_unban, moderator, group.account.id, member, svc.now())


async def answer_request(svc: Services, moderator: Account, group: Group, requester: Account,
                         accept: bool) -> None:
    """A moderator accepts or rejects a request to join (from the group page)."""
    if not group.is_moderator(moderator):
        raise Forbidden("only the group's moderators may answer requests")
    if accept:
        await following.authorize_request(svc, moderator, requester)
    else:
        await following.reject_request(svc, moderator, requester)


# -- removal and boosts from other instances -----------------------------------------------------


def _remote_removal(db: Database, group_id: int, status_id: int, now: datetime) -> Relayed:
    out = Relayed()
    status = status_store.get_status(db, status_id)
    if status is not None:
        out.deleted = _drop_group_copy(db, group_id, status, now)
    return out


async def drop_group_copy(svc: Services, group: Account, status: Status) -> int:
    """A remote group removed a post: its boost goes, and the post too when it was here only
    because of the group. Returns how many statuses went."""
    out = await svc.storage.write(_remote_removal, group.id, status.id, svc.now())
    _publish(svc, out)
    return len(out.deleted)


def _moderator_removal(db: Database, moderator: Account, group_id: int, status_id: int,
                       now: datetime, now_ts: float) -> Relayed | None:
    group = store.get_group(db, group_id)
    if group is None or not group.is_moderator(moderator):
        return None
    post = store.get_group_post(db, group_id, status_id)
    if post is None or post.removed_at is not None:
        return None
    return _remove_post(db, moderator, group_id, status_id, "", now, now_ts)


async def receive_moderator_removal(svc: Services, actor: Account, group: Group,
                                    status: Status) -> bool:
    """A remote moderator asked the group to remove a post (FEP-1b12: a Delete or Remove
    sent to the group); False, and nothing done, when ``actor`` is not a moderator."""
    out = await svc.storage.write(_moderator_removal, actor, group.account.id, status.id,
                                  svc.now(), svc.clock())
    if out is None:
        return False
    _publish(svc, out)
    return True


def _receive_boost(db: Database, group: Account, announce_uri: str, target_id: int,
                   now: datetime) -> Relayed:
    out = Relayed()
    target = status_store.get_status(db, target_id)
    if target is not None:
        receive_group_boost(db, group, announce_uri, target, now, out)
    return out


async def receive_boost(svc: Services, group: Account, announce_uri: str,
                        target: Status) -> bool:
    """A remote group announced a post to its members here."""
    out = await svc.storage.write(_receive_boost, group, announce_uri, target.id, svc.now())
    _publish(svc, out)
    return bool(out.boosts)


async def has_local_members(svc: Services, group: Account) -> bool:
    """True when a local account is a member of (follows) this group."""
    return await svc.storage.read(status_store.has_local_followers, group.id)


# -- joining -------------------------------------------------------------------------------------


def _welcome_html(member: Account, base_url: str, group: Group) -> str:
    handle = member.username if member.is_local else member.acct()
    link = member.url or member.actor_uri
    mention = (f'<span class="h-card"><a href="{html.escape(link)}" class="u-url mention">'
               f'@<span>{html.escape(handle)}</span></a></span>')
    return f"<p>{mention} {html.escape(group.title)}</p>" + ap_groups.charter_html(
        group.charter)


async def welcome(svc: Services, group: Group, member: Account) -> None:
    """Send the charter to a new member as a direct message from the group."""
    if not group.charter.strip():
        return
    handle = member.username if member.is_local else member.acct()
    draft = posting.Draft(
        text=f"@{handle} {group.charter}", spoiler_text="", sensitive=False,
        visibility=Visibility.DIRECT, language=group.language, mentions=(member,), tags=(),
        html=_welcome_html(member, svc.config.base_url, group))
    await posting.create_status(svc, group.account, draft)


async def ensure_group_list(svc: Services, member: Account, group: Account) -> None:
    """The exclusive list named after the group, holding the group, for a local member: the
    group's boosts go there instead of the home timeline."""
    title = (group.display_name or group.acct())[:100]
    found = await lists.ensure_list(svc, member, title, exclusive=True)
    if group.id not in {a.id for _, a in await lists.members(svc, member, found.id, None)}:
        await lists.add_accounts(svc, member, found.id, [group.id])


async def run_welcome(svc: Services, job: Job) -> None:
    """Job handler: a follow of a group was accepted (a local group's new member gets the
    charter; a local member gets the group's list)."""
    group_account = await accounts.get_account(svc, int(job.payload["group_id"]))
    member = await accounts.get_account(svc, int(job.payload["member_id"]))
    if group_account is None or member is None or \
            not await is_member(svc, group_account, member):
        return
    if member.is_local:
        await ensure_group_list(svc, member, group_account)
    group = await group_of(svc, group_account)
    if group is not None:
        await welcome(svc, group, member)

