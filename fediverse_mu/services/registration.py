"""Registration: the mode the place chose (config.toml, overridden by the web admin's setting),
signing up (the sign-up page and ``POST /api/v1/accounts``, with Mastodon's field-by-field
errors), the queue of applications moderators approve or reject, and what admins do by hand
without e-mail: resetting a password, changing a role. Every admin action is audited."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field, replace

from fediverse_mu.config import Config
from fediverse_mu.domain import (
    Account,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Role,
    User,
)
from fediverse_mu.domain.registration import (
    Application,
    FieldError,
    InvalidFields,
    RegistrationMode,
    SignUp,
)
from fediverse_mu.services import accounts, audit, invites, passwords, rules, tokens
from fediverse_mu.services.context import Services
from fediverse_mu.services.keys import generate_key_pair
from fediverse_mu.services.throttle import Throttle
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import invites as invite_store
from fediverse_mu.storage import registration as store
from fediverse_mu.storage import settings as settings_store

MODE_SETTING = "registration_mode"
MAX_REASON = 1000
MAX_EMAIL = 320
CLOSED = "Registrations are closed on this place."
PENDING_NOTE = "Your application will be reviewed by the place's team."
LAST_ADMIN = "The place must keep at least one admin."


@dataclass(frozen=True)
class Registered:
    """A new account; ``pending`` until approved; ``token`` when a client app signed it up."""

    account: Account
    user: User
    pending: bool
    token: tokens.IssuedToken | None = field(default=None, repr=False)


# -- the registration mode ----------------------------------------------------------------------

async def registration_mode(svc: Services) -> RegistrationMode:
    """The mode in force: the admin's setting, else config.toml's ``registration_mode``."""
    stored = await svc.storage.read(settings_store.get_setting, MODE_SETTING)
    try:
        return RegistrationMode(stored)
    except ValueError:
        return RegistrationMode(svc.config.registration_mode)


async def config_in_force(svc: Services) -> Config:
    """The config with the registration mode in force (what the instance endpoints announce)."""
    return replace(svc.config, registration_mode=(await registration_mode(svc)).value)


async def set_registration_mode(svc: Services, actor: Account | None, mode: str) -> None:
    """Choose the mode (stored in the database, so it wins over config.toml)."""
    try:
        chosen = RegistrationMode(mode)
    except ValueError:
        raise Invalid("the registration mode must be one of "
                      + ", ".join(m.value for m in RegistrationMode)) from None

    def write(db: Database) -> None:
        settings_store.put_setting(db, MODE_SETTING, chosen.value)
        audit.record_in(db, actor, "settings.registration_mode", "instance", chosen.value,
                        svc.now())

    await svc.storage.write(write)


# -- signing up ---------------------------------------------------------------------------------

def _check_fields(form: SignUp, mode: RegistrationMode) -> list[FieldError]:
    errors: list[FieldError] = []

    def bad(name: str, code: str, description: str) -> None:
        errors.append(FieldError(name, code, description))

    if not form.username:
        bad("username", "ERR_BLANK", "can't be blank")
    elif len(form.username) > 30:
        bad("username", "ERR_TOO_LONG", "is too long (maximum is 30 characters)")
    elif not accounts.USERNAME.match(form.username):
        bad("username", "ERR_INVALID", "must contain only letters, numbers and underscores")
    elif form.username.lower() in accounts.RESERVED:
        bad("username", "ERR_RESERVED", "is reserved")
    if not form.email:
        bad("email", "ERR_BLANK", "can't be blank")
    elif len(form.email) > MAX_EMAIL or not accounts.EMAIL.match(form.email):
        bad("email", "ERR_INVALID", "is invalid")
    if not form.password:
        bad("password", "ERR_BLANK", "can't be blank")
    elif len(form.password) < passwords.MIN_LENGTH:
        bad("password", "ERR_TOO_SHORT",
            f"is too short (minimum is {passwords.MIN_LENGTH} characters)")
    elif len(form.password) > passwords.MAX_LENGTH:
        bad("password", "ERR_TOO_LONG",
            f"is too long (maximum is {passwords.MAX_LENGTH} characters)")
    if not form.agreement:
        bad("agreement", "ERR_ACCEPTED", "must be accepted")
    if mode is RegistrationMode.APPROVAL and not form.invite_code and not form.reason.strip():
        bad("reason", "ERR_BLANK", "can't be blank")
    elif len(form.reason) > MAX_REASON:
        bad("reason", "ERR_TOO_LONG", f"is too long (maximum is {MAX_REASON} characters)")
    if mode is RegistrationMode.INVITE and not form.invite_code:
        bad("invite_code", "ERR_BLANK", "can't be blank")
    return errors


def _taken(db: Database, username: str, email: str) -> list[FieldError]:
    errors = []
    if username and account_store.local_username_taken(db, username):
        errors.append(FieldError("username", "ERR_TAKEN", "is already taken"))
    if email and account_store.email_taken(db, email):
        errors.append(FieldError("email", "ERR_TAKEN", "is already taken"))
    return errors


def _clean(form: SignUp) -> SignUp:
    return SignUp(username=form.username.strip(), email=form.email.strip(),
                  password=form.password, agreement=form.agreement,
                  reason=form.reason.strip(), invite_code=form.invite_code.strip(),
                  locale=form.locale.strip(), ip=form.ip)


SIGN_UPS_PER_ADDRESS = 5  # per half hour, as Mastodon's rack-attack rule
SIGN_UP_WINDOW = 30 * 60.0
TOO_MANY_SIGN_UPS = "Too many sign-ups from this address; please try again later."


def _sign_up_throttle(svc: Services) -> Throttle:
    throttle = svc.memo.get("sign_up_throttle")
    if not isinstance(throttle, Throttle):
        throttle = svc.memo["sign_up_throttle"] = Throttle(limit=SIGN_UPS_PER_ADDRESS,
                                                           window=SIGN_UP_WINDOW)
    return throttle


async def sign_up(svc: Services, form: SignUp, *, app_id: int | None = None,
                  scopes: frozenset[str] | None = None) -> Registered:
    """Create an account from a sign-up, pending approval in approval mode (an invite skips
    the queue). Every bad field is reported at once (:class:`InvalidFields`) and nothing is
    created; a closed place answers Forbidden. With ``scopes``, a token for the client app
    that signed the user up is minted in the same transaction (Mastodon returns it)."""
    mode = await registration_mode(svc)
    if mode is RegistrationMode.CLOSED:
        raise Forbidden(CLOSED)
    form = _clean(form)
    errors = _check_fields(form, mode)
    if form.invite_code:
        try:
            await invites.find_usable(svc, form.invite_code)
        except Invalid as exc:
            errors.append(FieldError("invite_code", "ERR_INVALID", exc.message))
    errors += await svc.storage.read(_taken, form.username, form.email)
    if errors:
        raise InvalidFields(errors)
    pending = mode is RegistrationMode.APPROVAL and not form.invite_code
    if form.ip:  # a well-formed sign-up counts against its address (bots, not typos)
        wait = _sign_up_throttle(svc).acquire([f"sign-up:{form.ip}"], svc.clock())
        if wait is not None:
            raise RateLimited(TOO_MANY_SIGN_UPS, retry_after=int(wait) + 1)
    locale = form.locale if form.locale in svc.config.languages else svc.config.languages[0]
    key_pair, password_hash = await asyncio.gather(
        asyncio.to_thread(generate_key_pair),
        asyncio.to_thread(passwords.hash_password, form.password))
    has_rules = bool(await rules.list_rules(svc))
    now = svc.now()

    def write(db: Database) -> Registered:
        invite_id = None
        if form.invite_code:
            invite = invite_store.get_invite_by_code(db, form.invite_code)
            if invite is None or not invite_store.use_invite(db, invite.id, now):
                raise InvalidFields([FieldError("invite_code", "ERR_INVALID",
                                                invites.UNKNOWN_INVITE)])
            invite_id = invite.id
        taken = _taken(db, form.username, form.email)
        if taken:
            raise InvalidFields(taken)
        account, user = accounts.insert_local_user(
            db, svc.config.base_url, form.username, form.email, password_hash, Role.RESIDENT,
            locale, key_pair, now, approved=not pending)
        store.put_sign_up(db, user_id=user.id, reason=form.reason, invite_id=invite_id,
                          rules_accepted_at=now if has_rules else None, ip=form.ip,
                          created_at=now)
        issued = None
        if scopes is not None:
            issued = tokens.put_new_token(db, user_id=user.id, app_id=app_id, scopes=scopes,
                                          now=now)
        return Registered(account, user, pending, issued)

    try:
        return await svc.storage.write(write)
    except Conflict as exc:  # a race between the check and the write
        raise InvalidFields([FieldError("username", "ERR_TAKEN", "is already taken")]) from exc


# -- applications -------------------------------------------------------------------------------

async def list_pending(svc: Services) -> list[Application]:
    """Applications waiting for a moderator, oldest first."""
    return await svc.storage.read(store.list_pending)


async def count_pending(svc: Services) -> int:
    """How many applications wait."""
    return await svc.storage.read(store.count_pending)


async def user_of(svc: Services, username: str) -> tuple[Account, User]:
    """A local user by username, or NotFound."""
    username = username.strip().removeprefix("@")
    account = await svc.storage.read(account_store.get_local_account, username)
    user = None if account is None else await svc.storage.read(
        account_store.get_user_by_account_id, account.id)
    if account is None or user is None:
        raise NotFound(f"no local user named '{username}'")
    return account, user


async def approve(svc: Services, actor: Account | None, user_id: int) -> Application:
    """Let an applicant in."""
    now = svc.now()

    def write(db: Database) -> Application:
        application = store.get_pending(db, user_id)
        if application is None or not store.approve_user(db, user_id):
            raise NotFound("no pending application for this user")
        audit.record_in(db, actor, "account.approve", application.account.acct(), "", now)
        return application

    return await svc.storage.write(write)


async def reject(svc: Services, actor: Account | None, user_id: int) -> Application:
    """Turn an applicant down: their account is deleted (the name and e-mail become free)."""
    now = svc.now()

    def write(db: Database) -> Application:
        application = store.get_pending(db, user_id)
        if application is None or not store.delete_pending_user(db, user_id):
            raise NotFound("no pending application for this user")
        audit.record_in(db, actor, "account.reject", application.account.acct(),
                        application.reason, now)
        return application

    return await svc.storage.write(write)


async def sign_up_reason(svc: Services, user_id: int) -> str | None:
    """What the user wrote when applying (None if created by an admin)."""
    return await svc.storage.read(store.get_sign_up_reason, user_id)


# -- what admins do by hand ---------------------------------------------------------------------

async def reset_password(svc: Services, actor: Account | None, user_id: int,
                         password: str | None = None) -> str | None:
    """Give a user a new password (generated when ``password`` is None, then returned) and sign
    every client out (all tokens revoked)."""
    generated = None
    if password is None:
        generated = password = secrets.token_urlsafe(15)
    accounts.validate_password(password)
    password_hash = await asyncio.to_thread(passwords.hash_password, password)
    now = svc.now()

    def write(db: Database) -> None:
        user = account_store.get_user_by_id(db, user_id)
        account = None if user is None else account_store.get_account_by_id(db,
                                                                             user.account_id)
        if user is None or account is None:
            raise NotFound("Record not found")
        revoked = store.set_password_hash(db, user_id, password_hash, now)
        audit.record_in(db, actor, "account.reset_password", account.acct(),
                        f"{revoked} token(s) revoked", now)

    await svc.storage.write(write)
    return generated


async def set_role(svc: Services, actor: Account | None, user_id: int, role: str) -> None:
    """Change a local user's role (admin, moderator, resident); the last admin stays one."""
    try:
        new_role = Role(role)
    except ValueError:
        raise Invalid("the role must be one of admin, moderator, resident") from None
    now = svc.now()

    def write(db: Database) -> None:
        user = account_store.get_user_by_id(db, user_id)
        account = None if user is None else account_store.get_account_by_id(db,
                                                                             user.account_id)
        if user is None or account is None:
            raise NotFound("Record not found")
        if user.role is new_role:
            return
        if user.role is Role.ADMIN and store.count_admins(db) <= 1:
            raise Invalid(LAST_ADMIN)
        store.set_role(db, user_id, new_role.value)
        audit.record_in(db, actor, "account.role", account.acct(),
                        f"{user.role.value} → {new_role.value}", now)

    await svc.storage.write(write)
