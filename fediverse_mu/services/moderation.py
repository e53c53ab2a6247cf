"""Moderation use cases: reports (from residents through ``POST /api/v1/reports``, or from
other servers as ``Flag``), the moderators' queue (assign, notes, resolve, reopen), forwarding a
report to a remote account's server as a ``Flag`` from the instance actor, and the actions on
accounts (warn, silence, suspend and their reversals, disable/enable a login), each with a
reason and an audit entry.

Silence (Mastodon's "limit"): the account stays, but its posts leave public and hashtag
timelines and its notifications reach only its followers. Suspension of a local account
disables its login, revokes its tokens and federates a ``Delete`` of the actor; of a remote
account, severs its follows and purges what it posted here. Both are reversible in this
database (unsuspend, which sends the followers' servers an ``Update`` of the actor), though
remote servers will have dropped a suspended local actor. A local account that is warned or
silenced gets a ``moderation_warning`` notification (Mastodon 4.3) carrying the warning.

The public faces ask :func:`local_standing` for a local account: a pending one (an
application not approved yet) does not exist for them, a suspended one is gone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from fediverse_mu.activitypub import moderation as vocab
from fediverse_mu.activitypub.activities import build_update
from fediverse_mu.activitypub.vocab import AS_PUBLIC
from fediverse_mu.domain import Account, Forbidden, Invalid, NotFound, Role, User
from fediverse_mu.domain.moderation import (
    MAX_NOTE,
    MAX_REASON,
    MAX_REPORT_COMMENT,
    MAX_REPORT_STATUSES,
    NOTIFIED_ACTIONS,
    AccountAction,
    AccountWarning,
    AdminAccount,
    LocalStanding,
    ModerationState,
    Report,
    ReportCategory,
    ReportNote,
)
from fediverse_mu.domain.statuses import StatusView
from fediverse_mu.events import STATUS_DELETED
from fediverse_mu.services import audit, notifications, profiles
from fediverse_mu.services.context import Services
from fediverse_mu.services.delivery import queue_deliveries
from fediverse_mu.services.jobs import announce_jobs
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import federation_policy as policy_store
from fediverse_mu.storage import follows as follow_store
from fediverse_mu.storage import moderation as store
from fediverse_mu.storage import notifications as notification_store
from fediverse_mu.storage import profiles as profile_store
from fediverse_mu.storage import settings as settings_store
from fediverse_mu.storage import statuses as status_store

STAFF = (Role.ADMIN, Role.MODERATOR)
MAX_PAGE = 200
_INSTANCE_ACTOR_SETTING = "instance_actor_id"  # services.instance.INSTANCE_ACTOR_SETTING


# -- who may moderate --------------------------------------------------------------------------


def _staff_user(db: Database, account: Account) -> User:
    user = account_store.get_user_by_account_id(db, account.id) if account.is_local else None
    if user is None or user.disabled or user.role not in STAFF:
        raise Forbidden("This action is not allowed")
    return user


async def require_staff(svc: Services, account: Account | None) -> User:
    """The moderator's or admin's user; Forbidden for anyone else (the CLI passes None and
    never comes here)."""
    if account is None:
        raise Forbidden("This action is not allowed")
    return await svc.storage.read(_staff_user, account)


def _check_staff(db: Database, actor: Account | None) -> None:
    if actor is not None:  # None: the CLI, run by whoever owns the data folder
        _staff_user(db, actor)


def _label(account: Account) -> str:
    return account.acct()


# -- reports -----------------------------------------------------------------------------------


def parse_category(value: str | None, *, has_rules: bool) -> ReportCategory:
    """A report category by name (default ``violation`` with rules, else ``other``)."""
    if value is None or value == "":
        return ReportCategory.VIOLATION if has_rules else ReportCategory.OTHER
    try:
        return ReportCategory(value)
    except ValueError:
        raise Invalid("Validation failed: Category must be one of spam, legal, violation, "
                      "other") from None


def _flag_for(db: Database, svc: Services, report: Report, target: Account) -> None:
    """Queue the Flag forwarding ``report`` to the target's server, from the instance actor."""
    actor_id = settings_store.get_setting(db, _INSTANCE_ACTOR_SETTING)
    actor = None if actor_id is None else account_store.get_account_by_id(db, int(actor_id))
    inbox = target.shared_inbox_uri or target.inbox_uri
    if actor is None or inbox is None:
        return
    flag_id = f"{svc.config.base_url}/reports/{report.id}#flag"
    raw = vocab.build_flag(flag_id, actor.actor_uri, target.actor_uri,
                           store.status_uris(db, list(report.status_ids)), report.comment)
    store.set_report_uri(db, report.id, flag_id)
    queue_deliveries(db, raw, [inbox], signer_id=actor.id, now=svc.clock())


async def create_report(svc: Services, reporter: Account, target_account_id: int, *,
                        status_ids: Sequence[int] = (), rule_ids: Sequence[int] = (),
                        comment: str = "", category: str | None = None,
                        forward: bool = False) -> Report:
    """A resident reports an account (and some of its statuses, citing rules); with
    ``forward``, a remote account's server gets a Flag from the instance actor."""
    comment = comment.strip()
    if len(comment) > MAX_REPORT_COMMENT:
        raise Invalid(f"Validation failed: Comment is too long (maximum is "
                      f"{MAX_REPORT_COMMENT} characters)")
    statuses = list(dict.fromkeys(int(i) for i in status_ids))
    rules = list(dict.fromkeys(int(i) for i in rule_ids))
    if len(statuses) > MAX_REPORT_STATUSES:
        raise Invalid(f"Validation failed: at most {MAX_REPORT_STATUSES} statuses per report")
    kind = parse_category(category, has_rules=bool(rules))
    if kind is not ReportCategory.VIOLATION:
        rules = []  # Mastodon keeps rule ids only for rule violations

    def write(db: Database) -> Report:
        target = account_store.get_account_by_id(db, target_account_id)
        if target is None or target.actor_type == "Application":
            raise NotFound("Record not found")
        if target.id == reporter.id:
            raise Invalid("Validation failed: you cannot report yourself")
        found = store.statuses_of_account(db, target.id, statuses)
        if len(found) != len(statuses):
            missing = sorted(set(statuses) - set(found))
            raise Invalid("Validation failed: these statuses are not the reported account's: "
                          + ", ".join(map(str, missing)))
        known = store.existing_rule_ids(db, rules)
        if len(known) != len(rules):
            raise Invalid("Validation failed: unknown rule ids: "
                          + ", ".join(str(r) for r in rules if r not in known))
        report = store.put_report(db, account_id=reporter.id, target_account_id=target.id,
                                  status_ids=statuses, rule_ids=rules, comment=comment,
                                  category=kind, forwarded=False, uri=None, now=svc.now())
        audit.record_in(db, reporter, "report.create", f"report {report.id}",
                        f"{kind.value} on {_label(target)}", svc.now())
        if forward and not target.is_local:
            _flag_for(db, svc, report, target)
            report = store.get_report(db, report.id) or report
        return report

    report = await svc.storage.write(write)
    if report.forwarded:
        announce_jobs(svc)
    return report


async def receive_flag(svc: Services, sender: Account, flag: vocab.IncomingFlag) -> Report | None:
    """Another server's Flag becomes a report on the first local account it names (its local
    statuses attached); None when it names no local account or reports are rejected."""
    base = svc.config.base_url

    def ours(uri: str) -> bool:
        return urlsplit(uri).netloc == urlsplit(base).netloc

    def write(db: Database) -> Report | None:
        if sender.domain is not None and policy_store.host_policy(db, sender.domain) \
                .reject_reports:
            return None
        existing = store.get_report_by_uri(db, flag.id)
        if existing is not None:
            return existing
        local = [u for u in flag.object_uris if ours(u)]
        target = next((a for a in (account_store.get_account_by_uri(db, u) for u in local)
                       if a is not None and a.is_local), None)
        if target is None:
            return None
        status_ids = store.status_ids_by_uris(db, target.id, local)
        report = store.put_report(db, account_id=sender.id, target_account_id=target.id,
                                  status_ids=status_ids, rule_ids=[], comment=flag.content,
                                  category=ReportCategory.OTHER, forwarded=False, uri=flag.id,
                                  now=svc.now())
        audit.record_in(db, sender, "report.receive", f"report {report.id}",
                        f"Flag from {sender.domain} on {_label(target)}", svc.now())
        return report

    return await svc.storage.write(write)


async def list_reports(svc: Services, *, resolved: bool | None = None,
                       target_account_id: int | None = None, max_id: int | None = None,
                       limit: int = 100) -> list[Report]:
    """Reports, newest first (``resolved`` False: the open queue)."""
    return await svc.storage.read(store.list_reports, resolved=resolved,
                                  target_account_id=target_account_id, max_id=max_id,
                                  limit=max(1, min(limit, MAX_PAGE)))


async def count_open_reports(svc: Services) -> int:
    """How many reports wait for a moderator."""
    return await svc.storage.read(store.count_open_reports)


async def get_report(svc: Services, report_id: int) -> Report:
    """A report, or NotFound."""
    report = await svc.storage.read(store.get_report, report_id)
    if report is None:
        raise NotFound("Record not found")
    return report


async def report_notes(svc: Services, report_id: int) -> list[ReportNote]:
    """A report's notes, oldest first."""
    return await svc.storage.read(store.list_report_notes, report_id)


def _report_for(db: Database, report_id: int) -> Report:
    report = store.get_report(db, report_id)
    if report is None:
        raise NotFound("Record not found")
    return report


async def assign_report(svc: Services, moderator: Account | None, report_id: int,
                        assignee: Account | None) -> Report:
    """Assign a report to a moderator (``assignee`` None: unassign)."""

    def write(db: Database) -> Report:
        _check_staff(db, moderator)
        if assignee is not None:
            _staff_user(db, assignee)
        _report_for(db, report_id)
        store.assign_report(db, report_id, None if assignee is None else assignee.id,
                            svc.now())
        audit.record_in(db, moderator, "report.assign" if assignee else "report.unassign",
                        f"report {report_id}", "" if assignee is None else _label(assignee),
                        svc.now())
        return _report_for(db, report_id)

    return await svc.storage.write(write)


async def resolve_report(svc: Services, moderator: Account | None, report_id: int) -> Report:
    """Mark a report resolved."""
    return await _set_resolved(svc, moderator, report_id, True)


async def reopen_report(svc: Services, moderator: Account | None, report_id: int) -> Report:
    """Put a resolved report back in the queue."""
    return await _set_resolved(svc, moderator, report_id, False)


async def _set_resolved(svc: Services, moderator: Account | None, report_id: int,
                        resolved: bool) -> Report:
    def write(db: Database) -> Report:
        _check_staff(db, moderator)
        _report_for(db, report_id)
        store.resolve_report(db, report_id, None if moderator is None else moderator.id,
                             svc.now() if resolved else None)
        audit.record_in(db, moderator, "report.resolve" if resolved else "report.reopen",
                        f"report {report_id}", "", svc.now())
        return _report_for(db, report_id)

    return await svc.storage.write(write)


async def add_report_note(svc: Services, moderator: Account, report_id: int,
                          content: str) -> ReportNote:
    """A moderator's note on a report."""
    content = content.strip()
    if not content:
        raise Invalid("Validation failed: Content can't be blank")
    if len(content) > MAX_NOTE:
        raise Invalid(f"Validation failed: Content is too long (maximum is {MAX_NOTE} "
                      "characters)")

    def write(db: Database) -> ReportNote:
        _staff_user(db, moderator)
        _report_for(db, report_id)
        note = store.put_report_note(db, report_id, moderator.id, content, svc.now())
        audit.record_in(db, moderator, "report.note", f"report {report_id}", content[:200],
                        svc.now())
        return note

    return await svc.storage.write(write)


# -- actions on accounts -----------------------------------------------------------------------


def parse_action(value: str) -> AccountAction:
    """An account action by name; Invalid for anything else."""
    try:
        return AccountAction(value)
    except ValueError:
        raise Invalid("Validation failed: Type must be one of none, warn, silence, "
                      "unsilence, suspend, unsuspend, disable, enable") from None


def _suspend_local(db: Database, svc: Services, target: Account, now: datetime) -> None:
    # Mastodon federates a Delete of the actor to every server that knows it.
    inboxes = store.local_follower_inboxes_everywhere(db, target.id)
    store.set_suspended(db, target.id, now)
    store.set_user_disabled(db, target.id, True)
    store.revoke_tokens(db, target.id, now)
    if inboxes:
        queue_deliveries(db, vocab.build_actor_delete(target.actor_uri), inboxes,
                         signer_id=target.id, now=svc.clock())


def _unsuspend_local(db: Database, svc: Services, target: Account) -> None:
    # The followers' servers get the actor back (those that dropped it on the Delete will
    # fetch it again when they meet it).
    inboxes = follow_store.list_follower_inboxes(db, target.id)
    if inboxes:
        fields = profile_store.get_fields(db, [target.id]).get(target.id, ())
        document = profiles.actor_document(svc.config.base_url, target, fields)
        queue_deliveries(db, build_update(target.actor_uri, document, to=[AS_PUBLIC]),
                         inboxes, signer_id=target.id, now=svc.clock())


def _act(db: Database, svc: Services, moderator: Account | None, target: Account,
         action: AccountAction, reason: str, report_id: int | None,
         deleted: list[int], notified: list[tuple[int, int]]) -> AccountWarning | None:
    now = svc.now()
    if moderator is not None:
        _staff_user(db, moderator)
        if moderator.id == target.id and action is not AccountAction.NONE:
            raise Forbidden("You cannot moderate your own account")
    if target.is_local and action in (AccountAction.SUSPEND, AccountAction.SILENCE,
                                      AccountAction.DISABLE):
        user = account_store.get_user_by_account_id(db, target.id)
        if user is not None and user.role is Role.ADMIN and \
                (moderator is None or _staff_user(db, moderator).role is not Role.ADMIN):
            raise Forbidden("Only an admin can act on another admin")
    if target.actor_type == "Application":
        raise Forbidden("The instance actor cannot be moderated")
    if action in (AccountAction.DISABLE, AccountAction.ENABLE) and not target.is_local:
        raise Invalid("Validation failed: only local accounts have a login to disable")
    match action:
        case AccountAction.SILENCE:
            store.set_silenced(db, target.id, now)
        case AccountAction.UNSILENCE:
            store.set_silenced(db, target.id, None)
        case AccountAction.SUSPEND if target.is_local:
            _suspend_local(db, svc, target, now)
        case AccountAction.SUSPEND:
            store.set_suspended(db, target.id, now)
            deleted.extend(status_store.purge_account_content(db, target.id, now))
        case AccountAction.UNSUSPEND:
            was_suspended = store.get_state(db, target.id).suspended_at is not None
            store.set_suspended(db, target.id, None)
            if target.is_local:
                store.set_user_disabled(db, target.id, False)
                if was_suspended:
                    _unsuspend_local(db, svc, target)
        case AccountAction.DISABLE:
            store.set_user_disabled(db, target.id, True)
            store.revoke_tokens(db, target.id, now)
        case AccountAction.ENABLE:
            store.set_user_disabled(db, target.id, False)
        case AccountAction.WARN | AccountAction.NONE:
            pass
    warning = None
    if action is not AccountAction.NONE:
        warning = store.put_warning(db, target.id, action, reason, report_id, now)
        audit.record_in(db, moderator, f"account.{action.value}", _label(target), reason, now)
        if target.is_local and action in NOTIFIED_ACTIONS:
            notified.append((notification_store.put_warning_notification(
                db, target.id, warning.id, now), target.id))
    if report_id is not None:
        _report_for(db, report_id)
        store.resolve_report(db, report_id, None if moderator is None else moderator.id, now)
        audit.record_in(db, moderator, "report.resolve", f"report {report_id}",
                        f"{action.value} {_label(target)}", now)
    return warning


async def act_on_account(svc: Services, moderator: Account | None, account_id: int,
                         action: str | AccountAction, reason: str = "",
                         report_id: int | None = None) -> AccountWarning | None:
    """Warn, silence, unsilence, suspend, unsuspend, disable or enable an account (local or
    remote), with a reason and an audit entry; ``report_id`` is resolved with it.
    ``moderator`` None is the CLI."""
    kind = action if isinstance(action, AccountAction) else parse_action(action)
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise Invalid(f"Validation failed: Text is too long (maximum is {MAX_REASON} "
                      "characters)")
    deleted: list[int] = []
    notified: list[tuple[int, int]] = []

    def write(db: Database) -> AccountWarning | None:
        deleted.clear()
        notified.clear()
        target = account_store.get_account_by_id(db, account_id)
        if target is None:
            raise NotFound("Record not found")
        return _act(db, svc, moderator, target, kind, reason, report_id, deleted, notified)

    warning = await svc.storage.write(write)
    if deleted:
        svc.events.publish(STATUS_DELETED, {"status_ids": deleted, "account_id": account_id})
    notifications.publish(svc, notified)
    announce_jobs(svc)
    return warning


async def list_accounts(svc: Services, *, local: bool | None = None,
                        status: str | None = None, query: str | None = None,
                        max_id: int | None = None, limit: int = 100) -> list[AdminAccount]:
    """Accounts as moderators list them (``status``: active, silenced, suspended,
    disabled, pending), newest first."""
    if status not in (None, "", "active", "silenced", "suspended", "disabled", "pending"):
        raise Invalid("Validation failed: status must be one of active, silenced, suspended, "
                      "disabled, pending")
    return await svc.storage.read(store.admin_accounts, local=local, status=status or None,
                                  query=(query or "").strip() or None, max_id=max_id,
                                  limit=max(1, min(limit, MAX_PAGE)))


async def get_admin_account(svc: Services, account_id: int) -> AdminAccount:
    """One account as moderators see it, or NotFound."""
    found = await svc.storage.read(store.admin_account, account_id)
    if found is None or found.account.actor_type == "Application":
        raise NotFound("Record not found")
    return found


async def warnings_of(svc: Services, account_id: int) -> list[AccountWarning]:
    """An account's warnings (and other actions' notices), newest first."""
    return await svc.storage.read(store.list_warnings, account_id)


async def states(svc: Services, account_ids: list[int]) -> dict[int, ModerationState]:
    """The moderation state of several accounts (for entities)."""
    return await svc.storage.read(store.get_states, account_ids)


async def state(svc: Services, account_id: int) -> ModerationState:
    """The moderation state of one account."""
    return await svc.storage.read(store.get_state, account_id)


async def local_standing(svc: Services, username: str) -> LocalStanding | None:
    """A local account by name for the public faces, with whether it is pending (to answer
    404 as if it did not exist) and suspended (its actor is gone)."""
    return await svc.storage.read(store.local_standing, username)


async def moderators(svc: Services) -> list[Account]:
    """The enabled admins' and moderators' accounts."""
    return await svc.storage.read(store.moderators)


# -- domains a resident hides (/api/v1/domain_blocks) ------------------------------------------


def _resident_domain(svc: Services, value: str) -> str:
    from fediverse_mu.services.federation_policy import parse_domain
    return parse_domain(value, own_domain=svc.config.domain)


async def hide_domain(svc: Services, account: Account, domain: str) -> None:
    """A resident hides a domain: its posts and notifications no longer reach them, and its
    accounts' follows of the resident are removed (as Mastodon does)."""
    name = _resident_domain(svc, domain)

    def write(db: Database) -> None:
        store.put_account_domain_block(db, account.id, name, svc.now())
        store.remove_domain_followers(db, account.id, name)

    await svc.storage.write(write)


async def unhide_domain(svc: Services, account: Account, domain: str) -> None:
    """A resident shows a domain again (idempotent, as Mastodon)."""
    name = _resident_domain(svc, domain)
    await svc.storage.write(store.delete_account_domain_block, account.id, name)


async def hidden_domains(svc: Services, account: Account, *, max_id: int | None = None,
                         limit: int = 100) -> list[tuple[int, str]]:
    """The domains a resident hides, newest first, with row ids for paging."""
    return await svc.storage.read(store.list_account_domain_blocks, account.id, max_id=max_id,
                                  limit=max(1, min(limit, MAX_PAGE)))


async def reported_statuses(svc: Services, report: Report) -> list[StatusView]:
    """The statuses a report names, whatever their visibility (moderators see them all)."""
    return await svc.storage.read(status_store.load_views, list(report.status_ids), None)


async def list_accounts_by_ids(svc: Services, account_ids: list[int]) -> list[AdminAccount]:
    """Several accounts as moderators see them (unknown ids left out)."""
    def read(db: Database) -> list[AdminAccount]:
        found = (store.admin_account(db, i) for i in dict.fromkeys(account_ids))
        return [a for a in found if a is not None]
    return await svc.storage.read(read)
