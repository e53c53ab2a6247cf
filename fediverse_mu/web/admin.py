"""The web admin (``/admin``): jinja2 pages in French and English that work without JavaScript.
Moderators and admins see the dashboard, accounts, pending sign-ups, invites, reports, the
federation policy and the audit log; only admins change roles, passwords, rules and the
registration mode. Every handler checks the role first; every change is a POST whose CSRF
token :func:`fediverse_mu.web.session.read_form` checks, then a redirect (303) back to the
page with a short notice. The use cases live in the services (registration, invites,
moderation, federation_policy, rules, audit); this module only reads forms and renders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from aiohttp.web_request import FileField

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Account, Invalid, NotFound, Role
from fediverse_mu.domain.invites import Invite
from fediverse_mu.domain.moderation import AccountAction
from fediverse_mu.services import (
    accounts,
    audit,
    dashboard,
    federation_policy,
    invites,
    moderation,
    registration,
    retention,
    rules,
)
from fediverse_mu.services.context import Services
from fediverse_mu.web.invites import invite_qr_svg
from fediverse_mu.web.pages import page
from fediverse_mu.web.session import Login, csrf_token, read_form, require_role

STAFF = (Role.ADMIN, Role.MODERATOR)
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The notices shown after a change (``?done=<key>``); English ids translated in the template.
NOTICES = {
    "approved": "The account has been approved.",
    "rejected": "The application has been rejected and the account deleted.",
    "invite_created": "The invite has been created.",
    "invite_revoked": "The invite has been revoked.",
    "action_done": "The action has been applied to the account.",
    "role_changed": "The role has been changed.",
    "report_assigned": "The report has been assigned.",
    "report_resolved": "The report has been resolved.",
    "report_reopened": "The report has been reopened.",
    "note_added": "The note has been added.",
    "domain_blocked": "The domain has been blocked.",
    "domain_unblocked": "The domain block has been lifted.",
    "domain_allowed": "The domain has been added to the allowlist.",
    "domain_disallowed": "The domain has been removed from the allowlist.",
    "allowlist_changed": "The allowlist mode has been changed.",
    "imported": "The domain blocks have been imported.",
    "rule_added": "The rule has been added.",
    "rule_updated": "The rule has been updated.",
    "rule_removed": "The rule has been removed.",
    "settings_saved": "The settings have been saved.",
    "retention_saved": "The retention of remote posts has been saved.",
}
ACCOUNT_ACTIONS = tuple(a.value for a in AccountAction if a is not AccountAction.NONE)
ACCOUNT_STATUSES = ("active", "pending", "silenced", "suspended", "disabled")


async def _staff(request: web.Request) -> Login:
    return await require_role(request, *STAFF)


async def _admin(request: web.Request) -> Login:
    return await require_role(request, Role.ADMIN)


def _svc(request: web.Request) -> Services:
    return request.app[services_key]


def _id(request: web.Request, name: str = "id") -> int:
    value = request.match_info[name]
    if not value.isdigit() or len(value) > 18:
        raise NotFound("Record not found")
    return int(value)


def _int_or_none(value: str | None, name: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise Invalid(f"{name} must be a whole number")
    return int(value)


def _float_or_none(value: str | None, name: str) -> float | None:
    value = (value or "").strip().replace(",", ".")
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise Invalid(f"{name} must be a number") from None
    if number != number or number in (float("inf"), float("-inf")):  # NaN, infinities
        raise Invalid(f"{name} must be a number")
    return number


def _checked(form: dict[str, str], name: str) -> bool:
    return form.get(name, "") in ("1", "true", "on", "yes")


def _done(location: str, key: str) -> web.HTTPSeeOther:
    separator = "&" if "?" in location else "?"
    return web.HTTPSeeOther(f"{location}{separator}done={key}")


async def _render(request: web.Request, login: Login, template: str, section: str,
                  context: dict[str, object], status: int = 200) -> web.Response:
    svc = _svc(request)
    flash = NOTICES.get(request.query.get("done", ""))
    response = page(request, f"admin/{template}", {
        "config": svc.config, "login": login, "csrf_token": csrf_token(request),
        "section": section, "is_admin": login.user.role is Role.ADMIN, "flash": flash,
        "pending_count": await registration.count_pending(svc), **context}, status=status)
    response.headers.update(_NO_STORE)
    return response


# -- dashboard ----------------------------------------------------------------------------------

async def dashboard_get(request: web.Request) -> web.Response:
    """Users, posts, the federation queue per host and the disk space used."""
    login = await _staff(request)
    svc = _svc(request)
    return await _render(request, login, "dashboard.html", "dashboard", {
        "figures": await dashboard.dashboard(svc),
        "open_reports": await moderation.count_open_reports(svc),
        "mode": (await registration.registration_mode(svc)).value,
        "allowlist": await federation_policy.allowlist_mode(svc)})


# -- accounts -----------------------------------------------------------------------------------

async def accounts_get(request: web.Request) -> web.Response:
    """Local and remote accounts, searchable and filtered by origin and state."""
    login = await _staff(request)
    origin = request.query.get("origin", "")
    status = request.query.get("status", "")
    query = request.query.get("q", "").strip()[:100]
    found = await moderation.list_accounts(
        _svc(request), local={"local": True, "remote": False}.get(origin),
        status=status if status in ACCOUNT_STATUSES else None, query=query or None,
        max_id=_int_or_none(request.query.get("max_id"), "max_id"), limit=50)
    return await _render(request, login, "accounts.html", "accounts", {
        "accounts": found, "origin": origin, "status": status, "q": query,
        "statuses": ACCOUNT_STATUSES,
        "next_max_id": found[-1].account.id if len(found) == 50 else None})


async def account_get(request: web.Request) -> web.Response:
    """One account: its state, warnings, reports about it, and the actions."""
    login = await _staff(request)
    svc = _svc(request)
    found = await moderation.get_admin_account(svc, _id(request))
    reason = None if found.user is None else await registration.sign_up_reason(svc,
                                                                               found.user.id)
    return await _render(request, login, "account.html", "accounts", {
        "found": found, "warnings": await moderation.warnings_of(svc, found.account.id),
        "reports": await moderation.list_reports(svc, target_account_id=found.account.id,
                                                 limit=20),
        "actions": ACCOUNT_ACTIONS, "roles": [r.value for r in Role], "reason": reason})


async def account_action_post(request: web.Request) -> web.Response:
    """Warn, silence, suspend, disable (or undo) an account, with a reason."""
    login = await _staff(request)
    form = await read_form(request)
    account_id = _id(request)
    await moderation.act_on_account(
        _svc(request), login.account, account_id, moderation.parse_action(form.get("action", "")),
        form.get("reason", ""), report_id=_int_or_none(form.get("report_id"), "report_id"))
    back = form.get("back", "")
    if back.startswith("/admin/reports/"):
        raise _done(back, "action_done")
    raise _done(f"/admin/accounts/{account_id}", "action_done")


async def account_role_post(request: web.Request) -> web.Response:
    """Admins only: make a local user an admin, a moderator or a resident."""
    login = await _admin(request)
    form = await read_form(request)
    svc = _svc(request)
    found = await moderation.get_admin_account(svc, _id(request))
    if found.user is None:
        raise Invalid("Only local accounts have a role")
    await registration.set_role(svc, login.account, found.user.id, form.get("role", ""))
    raise _done(f"/admin/accounts/{found.account.id}", "role_changed")


async def account_password_post(request: web.Request) -> web.Response:
    """Admins only: give a local user a new generated password (shown once) and sign all its
    clients out; for places without e-mail."""
    login = await _admin(request)
    await read_form(request)
    svc = _svc(request)
    found = await moderation.get_admin_account(svc, _id(request))
    if found.user is None:
        raise Invalid("Only local accounts have a password")
    password = await registration.reset_password(svc, login.account, found.user.id)
    return await _render(request, login, "password.html", "accounts", {
        "account": found.account, "password": password})


# -- pending sign-ups ---------------------------------------------------------------------------

async def signups_get(request: web.Request) -> web.Response:
    """Applications waiting for approval, with the applicant's reason."""
    login = await _staff(request)
    svc = _svc(request)
    return await _render(request, login, "signups.html", "signups", {
        "applications": await registration.list_pending(svc),
        "mode": (await registration.registration_mode(svc)).value})


async def signup_approve_post(request: web.Request) -> web.Response:
    """Let an applicant in."""
    login = await _staff(request)
    await read_form(request)
    await registration.approve(_svc(request), login.account, _id(request))
    raise _done("/admin/signups", "approved")


async def signup_reject_post(request: web.Request) -> web.Response:
    """Turn an applicant down (the account is deleted)."""
    login = await _staff(request)
    await read_form(request)
    await registration.reject(_svc(request), login.account, _id(request))
    raise _done("/admin/signups", "rejected")


# -- invites ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _InviteRow:
    invite: Invite
    url: str
    state: str


def _invite_row(svc: Services, invite: Invite, now: datetime) -> _InviteRow:
    return _InviteRow(invite, invites.invite_url(svc, invite), invite.state(now).value)


async def invites_get(request: web.Request) -> web.Response:
    """Invites (state, uses, expiry, link) and the form to make one."""
    login = await _staff(request)
    svc = _svc(request)
    now = svc.now()
    rows = [_invite_row(svc, i, now) for i in await invites.list_invites(svc)]
    return await _render(request, login, "invites.html", "invites", {
        "invites": rows, "mode": (await registration.registration_mode(svc)).value})


async def invites_post(request: web.Request) -> web.Response:
    """Create an invite (empty fields: no limit)."""
    login = await _staff(request)
    form = await read_form(request)
    invite = await invites.create_invite(
        _svc(request), login.account, max_uses=_int_or_none(form.get("max_uses"), "max_uses"),
        expires_in_days=_float_or_none(form.get("expires_days"), "expires_days"))
    raise _done(f"/admin/invites/{invite.id}", "invite_created")


async def invite_get(request: web.Request) -> web.Response:
    """One invite as a printable page: its QR code (inline SVG), link and code."""
    login = await _staff(request)
    svc = _svc(request)
    invite = await invites.get_invite(svc, _id(request))
    row = _invite_row(svc, invite, svc.now())
    return await _render(request, login, "invite.html", "invites", {
        "row": row, "qr_svg": invite_qr_svg(row.url)})


async def invite_revoke_post(request: web.Request) -> web.Response:
    """Revoke an invite."""
    login = await _staff(request)
    await read_form(request)
    await invites.revoke_invite(_svc(request), login.account, _id(request))
    raise _done("/admin/invites", "invite_revoked")


# -- reports ------------------------------------------------------------------------------------

async def _accounts_by_id(svc: Services, ids: set[int]) -> dict[int, Account]:
    found: dict[int, Account] = {}
    for account_id in ids:
        account = await accounts.get_account(svc, account_id)
        if account is not None:
            found[account_id] = account
    return found


async def reports_get(request: web.Request) -> web.Response:
    """The report queue (open by default, or resolved ones)."""
    login = await _staff(request)
    svc = _svc(request)
    resolved = request.query.get("resolved") == "1"
    found = await moderation.list_reports(svc, resolved=resolved, limit=100)
    people = await _accounts_by_id(svc, {r.account_id for r in found}
                                   | {r.target_account_id for r in found}
                                   | {r.assigned_account_id for r in found
                                      if r.assigned_account_id is not None})
    return await _render(request, login, "reports.html", "reports", {
        "reports": found, "people": people, "resolved": resolved})


async def report_get(request: web.Request) -> web.Response:
    """One report: who, about whom, which posts and rules, notes, and the actions."""
    login = await _staff(request)
    svc = _svc(request)
    report = await moderation.get_report(svc, _id(request))
    notes = await moderation.report_notes(svc, report.id)
    people = await _accounts_by_id(svc, {report.account_id, report.target_account_id}
                                   | {n.account_id for n in notes}
                                   | ({report.assigned_account_id}
                                      if report.assigned_account_id else set()))
    cited = {r.id: r for r in await rules.list_rules(svc)}
    return await _render(request, login, "report.html", "reports", {
        "report": report, "notes": notes, "people": people,
        "rules": [cited[i] for i in report.rule_ids if i in cited],
        "moderators": await moderation.moderators(svc), "actions": ACCOUNT_ACTIONS})


async def report_assign_post(request: web.Request) -> web.Response:
    """Assign the report to a moderator (or to nobody)."""
    login = await _staff(request)
    form = await read_form(request)
    svc = _svc(request)
    report_id = _id(request)
    assignee_id = _int_or_none(form.get("assignee_id"), "assignee_id")
    assignee = None
    if assignee_id is not None:
        assignee = next((m for m in await moderation.moderators(svc) if m.id == assignee_id),
                        None)
        if assignee is None:
            raise Invalid("Reports can only be assigned to a moderator or an admin")
    await moderation.assign_report(svc, login.account, report_id, assignee)
    raise _done(f"/admin/reports/{report_id}", "report_assigned")


async def report_resolve_post(request: web.Request) -> web.Response:
    """Mark the report resolved."""
    login = await _staff(request)
    await read_form(request)
    report = await moderation.resolve_report(_svc(request), login.account, _id(request))
    raise _done(f"/admin/reports/{report.id}", "report_resolved")


async def report_reopen_post(request: web.Request) -> web.Response:
    """Put the report back in the queue."""
    login = await _staff(request)
    await read_form(request)
    report = await moderation.reopen_report(_svc(request), login.account, _id(request))
    raise _done(f"/admin/reports/{report.id}", "report_reopened")


async def report_note_post(request: web.Request) -> web.Response:
    """Add a moderator's note to the report."""
    login = await _staff(request)
    form = await read_form(request)
    report_id = _id(request)
    await moderation.add_report_note(_svc(request), login.account, report_id,
                                     form.get("content", ""))
    raise _done(f"/admin/reports/{report_id}", "note_added")


# -- federation policy --------------------------------------------------------------------------

async def federation_get(request: web.Request) -> web.Response:
    """Domain blocks, the allowlist and its mode, CSV import and export."""
    login = await _staff(request)
    svc = _svc(request)
    return await _render(request, login, "federation.html", "federation", {
        "blocks": await federation_policy.list_domain_blocks(svc),
        "allows": await federation_policy.list_domain_allows(svc),
        "allowlist": await federation_policy.allowlist_mode(svc)})


async def federation_block_post(request: web.Request) -> web.Response:
    """Block (or change the block of) a domain."""
    login = await _staff(request)
    form = await read_form(request)
    await federation_policy.block_domain(
        _svc(request), login.account, form.get("domain", ""),
        severity=form.get("severity", "silence"), reject_media=_checked(form, "reject_media"),
        reject_reports=_checked(form, "reject_reports"),
        public_comment=form.get("public_comment", ""),
        private_comment=form.get("private_comment", ""), obfuscate=_checked(form, "obfuscate"))
    raise _done("/admin/federation", "domain_blocked")


async def federation_unblock_post(request: web.Request) -> web.Response:
    """Lift a domain block."""
    login = await _staff(request)
    await read_form(request)
    await federation_policy.unblock_domain(_svc(request), login.account, _id(request))
    raise _done("/admin/federation", "domain_unblocked")


async def federation_allow_post(request: web.Request) -> web.Response:
    """Add a domain to the allowlist."""
    login = await _staff(request)
    form = await read_form(request)
    await federation_policy.allow_domain(_svc(request), login.account, form.get("domain", ""))
    raise _done("/admin/federation", "domain_allowed")


async def federation_disallow_post(request: web.Request) -> web.Response:
    """Remove a domain from the allowlist."""
    login = await _staff(request)
    await read_form(request)
    await federation_policy.disallow_domain(_svc(request), login.account, _id(request))
    raise _done("/admin/federation", "domain_disallowed")


async def federation_allowlist_post(request: web.Request) -> web.Response:
    """Admins only: turn allowlist mode on or off."""
    login = await _admin(request)
    form = await read_form(request)
    await federation_policy.set_allowlist_mode(_svc(request), login.account,
                                               _checked(form, "enabled"))
    raise _done("/admin/federation", "allowlist_changed")


async def federation_import_post(request: web.Request) -> web.Response:
    """Import domain blocks from Mastodon's CSV (pasted or uploaded): all rows or none."""
    login = await _staff(request)
    form = await read_form(request)
    text = form.get("csv", "")
    if not text.strip():
        raw = (await request.post()).get("file")
        if isinstance(raw, FileField):
            try:
                text = raw.file.read(1024 * 1024).decode("utf-8-sig")
            except UnicodeDecodeError:
                raise Invalid("The CSV file must be UTF-8 text") from None
    if not text.strip():
        raise Invalid("Paste a CSV text or choose a CSV file")
    await federation_policy.import_csv(_svc(request), login.account, text)
    raise _done("/admin/federation", "imported")


async def federation_export_get(request: web.Request) -> web.Response:
    """The domain blocks in Mastodon's CSV format (a download)."""
    await _staff(request)
    text = await federation_policy.export_csv(_svc(request))
    return web.Response(text=text, content_type="text/csv", headers={
        "Content-Disposition": 'attachment; filename="domain_blocks.csv"', **_NO_STORE})


# -- rules, registration settings, audit log ----------------------------------------------------

async def rules_get(request: web.Request) -> web.Response:
    """Admins only: the place's rules (shown at sign-up and cited by reports)."""
    login = await _admin(request)
    return await _render(request, login, "rules.html", "rules",
                         {"rules": await rules.list_rules(_svc(request))})


async def rules_post(request: web.Request) -> web.Response:
    """Admins only: add a rule."""
    login = await _admin(request)
    form = await read_form(request)
    await rules.add_rule(_svc(request), login.account, form.get("text", ""),
                         form.get("hint", ""))
    raise _done("/admin/rules", "rule_added")


async def rule_update_post(request: web.Request) -> web.Response:
    """Admins only: change a rule's text, hint or position."""
    login = await _admin(request)
    form = await read_form(request)
    await rules.update_rule(_svc(request), login.account, _id(request),
                            text=form.get("text", ""), hint=form.get("hint", ""),
                            position=_int_or_none(form.get("position"), "position"))
    raise _done("/admin/rules", "rule_updated")


async def rule_delete_post(request: web.Request) -> web.Response:
    """Admins only: remove a rule."""
    login = await _admin(request)
    await read_form(request)
    await rules.remove_rule(_svc(request), login.account, _id(request))
    raise _done("/admin/rules", "rule_removed")


async def settings_get(request: web.Request) -> web.Response:
    """Admins only: the registration mode and the retention of remote posts."""
    login = await _admin(request)
    svc = _svc(request)
    return await _render(request, login, "settings.html", "settings", {
        "mode": (await registration.registration_mode(svc)).value,
        "config_mode": svc.config.registration_mode,
        "modes": ("open", "approval", "invite", "closed"),
        "retention_days": await retention.retention_days(svc)})


async def settings_post(request: web.Request) -> web.Response:
    """Admins only: save the registration mode (overrides config.toml)."""
    login = await _admin(request)
    form = await read_form(request)
    await registration.set_registration_mode(_svc(request), login.account,
                                             form.get("registration_mode", ""))
    raise _done("/admin/settings", "settings_saved")


async def settings_retention_post(request: web.Request) -> web.Response:
    """Admins only: how many days remote posts nobody here interacted with are kept (0:
    forever); the daily prune applies it."""
    login = await _admin(request)
    form = await read_form(request)
    await retention.set_retention_days(_svc(request), login.account,
                                       form.get("retention_days", ""))
    raise _done("/admin/settings", "retention_saved")


async def audit_get(request: web.Request) -> web.Response:
    """The audit log, newest first, 100 per page."""
    login = await _staff(request)
    entries = await audit.entries(_svc(request), limit=100,
                                  max_id=_int_or_none(request.query.get("max_id"), "max_id"))
    return await _render(request, login, "audit.html", "audit", {
        "entries": entries, "next_max_id": entries[-1].id if len(entries) == 100 else None})


def setup_routes(router: web.UrlDispatcher) -> None:
    """Every page of the web admin."""
    get, post = router.add_get, router.add_post
    get("/admin", dashboard_get)
    get("/admin/", dashboard_get)
    get("/admin/accounts", accounts_get)
    get("/admin/accounts/{id}", account_get)
    post("/admin/accounts/{id}/action", account_action_post)
    post("/admin/accounts/{id}/role", account_role_post)
    post("/admin/accounts/{id}/password", account_password_post)
    get("/admin/signups", signups_get)
    post("/admin/signups/{id}/approve", signup_approve_post)
    post("/admin/signups/{id}/reject", signup_reject_post)
    get("/admin/invites", invites_get)
    post("/admin/invites", invites_post)
    get("/admin/invites/{id}", invite_get)
    post("/admin/invites/{id}/revoke", invite_revoke_post)
    get("/admin/reports", reports_get)
    get("/admin/reports/{id}", report_get)
    post("/admin/reports/{id}/assign", report_assign_post)
    post("/admin/reports/{id}/resolve", report_resolve_post)
    post("/admin/reports/{id}/reopen", report_reopen_post)
    post("/admin/reports/{id}/note", report_note_post)
    get("/admin/federation", federation_get)
    get("/admin/federation/domain_blocks.csv", federation_export_get)
    post("/admin/federation/block", federation_block_post)
    post("/admin/federation/blocks/{id}/delete", federation_unblock_post)
    post("/admin/federation/allow", federation_allow_post)
    post("/admin/federation/allows/{id}/delete", federation_disallow_post)
    post("/admin/federation/allowlist", federation_allowlist_post)
    post("/admin/federation/import", federation_import_post)
    get("/admin/rules", rules_get)
    post("/admin/rules", rules_post)
    post("/admin/rules/{id}", rule_update_post)
    post("/admin/rules/{id}/delete", rule_delete_post)
    get("/admin/settings", settings_get)
    post("/admin/settings", settings_post)
    post("/admin/settings/retention", settings_retention_post)
    get("/admin/audit", audit_get)
