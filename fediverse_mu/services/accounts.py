"""Local accounts: creating residents (and admins) with their keys and login."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from fediverse_mu.activitypub import iri
from fediverse_mu.domain import Account, Conflict, Invalid, NotFound, RemoteActor, Role, User
from fediverse_mu.services import passwords
from fediverse_mu.services.context import Services
from fediverse_mu.services.keys import generate_key_pair
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as store

USERNAME = re.compile(r"^[A-Za-z0-9_]{1,30}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}$")
# Names that would confuse people or collide with the instance's own actors and pages.
RESERVED = frozenset({
    "admin", "administrator", "root", "system", "support", "help", "security", "abuse",
    "postmaster", "hostmaster", "webmaster", "noreply", "no_reply", "mod", "moderator",
    "moderators", "lieu", "place", "instance", "actor", "api", "oauth", "about", "settings",
    "groups", "users", "inbox", "outbox", "relay", "public", "fediverse_mu", "mastodon",
})


@dataclass(frozen=True)
class NewUser:
    """A freshly created user; ``password`` is set only when the server generated it."""

    account: Account
    user: User
    generated_password: str | None


def validate_username(username: str) -> None:
    """Raise Invalid unless ``username`` is an acceptable new local name."""
    if not USERNAME.match(username):
        raise Invalid("username must be 1–30 letters, digits or underscores")
    if username.lower() in RESERVED:
        raise Invalid(f"username '{username}' is reserved")


def validate_password(password: str) -> None:
    """Raise Invalid unless ``password`` meets the length rules."""
    if not passwords.MIN_LENGTH <= len(password) <= passwords.MAX_LENGTH:
        raise Invalid(f"password must be {passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} "
                      "characters long")


def insert_local_user(db: Database, svc_base: str, username: str, email: str,
                      password_hash: str, role: Role, locale: str, key_pair: tuple[str, str],
                      now: datetime, *, approved: bool = True) -> tuple[Account, User]:
    """Insert a local account and its login inside the caller's write (Conflict if taken)."""
    if store.local_username_taken(db, username):
        raise Conflict(f"username '{username}' is already taken")
    if store.email_taken(db, email):
        raise Conflict(f"e-mail '{email}' is already used")
    actor = iri.actor_uri(svc_base, username)
    account = store.put_local_account(
        db, username=username, actor_uri=actor, actor_type="Person",
        url=iri.profile_url(svc_base, username), inbox_uri=iri.inbox_uri(actor),
        shared_inbox_uri=iri.shared_inbox_uri(svc_base), public_key_pem=key_pair[1],
        private_key_pem=key_pair[0], created_at=now,
    )
    user = store.put_user(db, account_id=account.id, email=email, password_hash=password_hash,
                          role=role, approved=approved, locale=locale,
                          created_at=now)
    return account, user


async def create_user(svc: Services, username: str, email: str, *, password: str | None = None,
                      role: Role = Role.RESIDENT, locale: str | None = None) -> NewUser:
    """Create a local resident (or admin) with a key pair; generate a password if none."""
    validate_username(username)
    email = email.strip()
    if not EMAIL.match(email):
        raise Invalid("e-mail must look like name@domain")
    generated = None
    if password is None:
        generated = password = secrets.token_urlsafe(15)
    validate_password(password)
    key_pair = generate_key_pair()  # CPU work outside the writer thread
    password_hash = passwords.hash_password(password)
    now = svc.now()
    account, user = await svc.storage.write(
        insert_local_user, svc.config.base_url, username, email, password_hash, role,
        locale or svc.config.languages[0], key_pair, now,
    )
    return NewUser(account, user, generated)


PAGE_LANGUAGES = ("fr", "en")  # the languages the HTML pages are written in


async def set_locale(svc: Services, user: User, locale: str) -> str:
    """Change the language of a resident's pages (``fr`` or ``en``); Invalid, changing
    nothing, for any other."""
    locale = locale.strip().lower()
    if locale not in PAGE_LANGUAGES:
        raise Invalid("Choose a language: " + ", ".join(PAGE_LANGUAGES))
    await svc.storage.write(store.set_user_locale, user.id, locale)
    return locale


async def get_local_account(svc: Services, username: str) -> Account | None:
    """A local account by username."""
    return await svc.storage.read(store.get_local_account, username)


async def count_statuses(svc: Services, account_id: int) -> int:
    """How many statuses an account has posted (not deleted)."""
    return await svc.storage.read(store.count_account_statuses, account_id)


async def store_remote_actor(svc: Services, actor: RemoteActor, *, from_origin: bool) -> Account:
    """Save a remote actor; its key is replaced only when fetched from its origin."""
    now = svc.now()
    return await svc.storage.write(store.upsert_remote_account, actor, now,
                                   update_key=from_origin)


async def get_account_by_uri(svc: Services, actor_uri: str) -> Account | None:
    """Any known account by actor id."""
    return await svc.storage.read(store.get_account_by_uri, actor_uri)


async def get_account_by_key_id(svc: Services, key_id: str) -> Account | None:
    """The remote account owning a public key id."""
    return await svc.storage.read(store.get_account_by_key_id, key_id)


async def get_remote_account(svc: Services, username: str, domain: str) -> Account | None:
    """A known remote account by handle."""
    return await svc.storage.read(store.get_remote_account, username, domain)


async def get_private_key_pem(svc: Services, account_id: int) -> str:
    """A local account's private key, for signing only."""
    pem = await svc.storage.read(store.get_private_key_pem, account_id)
    if pem is None:
        raise NotFound("no private key for this account")
    return pem


async def instance_actor(svc: Services) -> Account:
    """The instance actor that signs the server's own requests."""
    account = await svc.storage.read(store.get_account_by_uri,
                                     iri.instance_actor_uri(svc.config.base_url))
    if account is None:
        raise NotFound("the instance actor is missing (run fediverse-mu init)")
    return account


async def get_account(svc: Services, account_id: int) -> Account | None:
    """Any account by local id."""
    return await svc.storage.read(store.get_account_by_id, account_id)
