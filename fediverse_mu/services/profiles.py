"""A resident's own profile and settings: ``update_credentials`` (display name, note typed as
plain text and rendered to HTML, flags, profile fields, posting defaults), which federates an
``Update`` of the actor to the followers' servers in the same transaction; the posting
defaults clients read as preferences; and timeline markers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from fediverse_mu.activitypub.activities import build_update
from fediverse_mu.activitypub.actors import render_actor
from fediverse_mu.activitypub.vocab import AS_PUBLIC
from fediverse_mu.domain import Account, Invalid, Media, NotFound, User
from fediverse_mu.domain.profiles import (
    MAX_DISPLAY_NAME,
    MAX_FIELD_NAME,
    MAX_FIELD_VALUE,
    MAX_FIELDS,
    MAX_NOTE,
    Marker,
    PostingDefaults,
    Profile,
    ProfileField,
    ProfileUpdate,
    Timeline,
)
from fediverse_mu.domain.statuses import Visibility
from fediverse_mu.services import media as media_service
from fediverse_mu.services import profile_images
from fediverse_mu.services.context import Services
from fediverse_mu.services.delivery import queue_deliveries
from fediverse_mu.services.formatting import render_text
from fediverse_mu.services.jobs import announce_jobs
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import follows as follow_store
from fediverse_mu.storage import profiles as store

LANGUAGE = re.compile(r"^[a-z]{2,3}$")
DEFAULT_PRIVACIES = (Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE)
MARKER_ID = re.compile(r"^[0-9]{1,20}$")



def note_html(base_url: str, text: str) -> str:
    """A note typed as plain text, as HTML: escaped, paragraphs and line breaks, links and
    hashtags (the formatter statuses use)."""
    return render_text(text, {}, lambda tag: f"{base_url}/tags/{tag}")


def field_html(base_url: str, text: str) -> str:
    """A profile field's value as HTML: one line, escaped, links and hashtags, no ``<p>``."""
    rendered = note_html(base_url, " ".join(text.split()))
    return rendered.removeprefix("<p>").removesuffix("</p>")


def _check(update: ProfileUpdate) -> None:
    """Raise Invalid on the first rule ``update`` breaks (Mastodon's limits)."""
    if update.display_name is not None and len(update.display_name) > MAX_DISPLAY_NAME:
        raise Invalid(f"display_name is longer than {MAX_DISPLAY_NAME} characters")
    if update.note is not None and len(update.note) > MAX_NOTE:
        raise Invalid(f"note is longer than {MAX_NOTE} characters")
    if update.fields is not None:
        if len(update.fields) > MAX_FIELDS:
            raise Invalid(f"at most {MAX_FIELDS} profile fields are allowed")
        for field in update.fields:
            if len(field.name) > MAX_FIELD_NAME or len(field.value) > MAX_FIELD_VALUE:
                raise Invalid(f"profile field names and values are limited to "
                              f"{MAX_FIELD_NAME} characters")
    if update.privacy is not None and update.privacy not in DEFAULT_PRIVACIES:
        raise Invalid("source[privacy] must be public, unlisted or private")
    if update.language is not None and update.language and \
            not LANGUAGE.match(update.language):
        raise Invalid("source[language] must be an ISO 639 language code")


def actor_document(base_url: str, account: Account,
                   fields: tuple[ProfileField, ...]) -> dict[str, Any]:
    """The AS2 actor of a local account: its avatar and header (or the default picture) and
    its profile fields as PropertyValues."""
    return render_actor(account, base_url=base_url, icon_url=f"{base_url}/static/avatar.png",
                        fields=[(f.name, field_html(base_url, f.value)) for f in fields])


async def get_actor_document(svc: Services, account: Account) -> dict[str, Any]:
    """The AS2 actor document of a local account, as served and federated."""
    fields = (await fields_of(svc, [account])).get(account.id, ())
    return actor_document(svc.config.base_url, account, fields)


def _apply(db: Database, svc_base: str, account: Account, update: ProfileUpdate,
           note: str | None, now: datetime, now_ts: float,
           images: list[profile_images.PreparedImage]) -> tuple[Account, Profile, list[Media]]:
    profile = store.get_profile(db, account.id)
    if profile is None:
        raise NotFound("no profile for this account")
    original = account
    replaced: list[Media] = []
    if images:  # the new pictures first: the comparison below then sees them
        account, replaced = profile_images.apply(db, svc_base, account, images, now)
    new_account = replace(
        account,
        display_name=account.display_name if update.display_name is None
        else update.display_name,
        note=account.note if note is None else note,
        locked=account.locked if update.locked is None else update.locked,
        bot=account.bot if update.bot is None else update.bot,
        discoverable=account.discoverable if update.discoverable is None
        else update.discoverable)
    new_profile = replace(
        profile,
        note_source=profile.note_source if update.note is None else update.note,
        fields=profile.fields if update.fields is None else update.fields,
        defaults=PostingDefaults(
            privacy=update.privacy or profile.defaults.privacy,
            sensitive=profile.defaults.sensitive if update.sensitive is None
            else update.sensitive,
            language=profile.defaults.language if update.language is None
            else update.language or None))
    if new_profile.defaults != profile.defaults:
        store.update_posting_defaults(db, account.id, new_profile.defaults)
    if (new_account, new_profile.note_source, new_profile.fields) == (
            original, profile.note_source, profile.fields):
        return account, new_profile, replaced  # nothing public changed: nothing to tell
    store.update_account_profile(
        db, account.id, display_name=new_account.display_name, note=new_account.note,
        note_source=new_profile.note_source, locked=new_account.locked, bot=new_account.bot,
        discoverable=new_account.discoverable, fields=new_profile.fields, now=now)
    stored = account_store.get_account_by_id(db, account.id) or new_account
    document = actor_document(svc_base, stored, new_profile.fields)
    queue_deliveries(db, build_update(stored.actor_uri, document, to=[AS_PUBLIC]),
                     follow_store.list_follower_inboxes(db, account.id), signer_id=account.id,
                     now=now_ts)
    return stored, new_profile, replaced


async def update_profile(svc: Services, account: Account, update: ProfileUpdate,
                         images: Mapping[str, bytes] | None = None) -> tuple[Account, Profile]:
    """Check and apply ``update`` to a local account, with new ``images`` (``avatar`` /
    ``header`` bytes: see ``services.profile_images``); when its public side changed, the
    followers' servers are sent an Update of the actor. Bad input changes nothing."""
    if not account.is_local:
        raise Invalid("only local accounts have an editable profile")
    if update.display_name is not None:
        update = replace(update, display_name=update.display_name.strip())
    if update.fields is not None:  # Mastodon drops the rows left entirely blank
        update = replace(update, fields=tuple(
            ProfileField(f.name.strip(), f.value.strip()) for f in update.fields
            if f.name.strip() or f.value.strip()))
    _check(update)
    note = None if update.note is None else note_html(svc.config.base_url, update.note)
    prepared = await profile_images.prepare(svc, images) if images else []
    try:
        stored, profile, replaced = await svc.storage.write(
            _apply, svc.config.base_url, account, update, note, svc.now(), svc.clock(),
            prepared)
    except BaseException:
        await profile_images.discard(svc, prepared)
        raise
    await media_service.remove_files(svc, replaced)
    announce_jobs(svc)
    return stored, profile


async def get_profile(svc: Services, account: Account) -> Profile:
    """The editable side of a local account."""
    profile = await svc.storage.read(store.get_profile, account.id)
    if profile is None:
        raise NotFound("no profile for this account")
    return profile


async def fields_of(svc: Services, accounts: list[Account]) -> dict[int, tuple[ProfileField, ...]]:
    """The profile fields of several accounts (those without are left out)."""
    return await svc.storage.read(store.get_fields, [a.id for a in accounts])


async def posting_defaults(svc: Services, user: User) -> PostingDefaults:
    """A resident's defaults for new posts (visibility, sensitive, language)."""
    return (await get_profile_by_user(svc, user)).defaults


async def get_profile_by_user(svc: Services, user: User) -> Profile:
    """The profile of the account behind ``user``."""
    profile = await svc.storage.read(store.get_profile, user.account_id)
    if profile is None:
        raise NotFound("no profile for this user")
    return profile


# -- markers -----------------------------------------------------------------------------------

async def get_markers(svc: Services, user: User, timelines: list[Timeline]) -> list[Marker]:
    """The user's saved positions in ``timelines``."""
    return await svc.storage.read(store.get_markers, user.id, list(dict.fromkeys(timelines)))


def _save_markers(db: Database, user_id: int, positions: dict[Timeline, str],
                  now: datetime) -> list[Marker]:
    return [store.put_marker(db, user_id, timeline, last_read_id, now)
            for timeline, last_read_id in positions.items()]


async def save_markers(svc: Services, user: User,
                       positions: dict[Timeline, str]) -> list[Marker]:
    """Save reading positions (``timeline → last read id``) in one transaction."""
    for timeline, last_read_id in positions.items():
        if not MARKER_ID.match(last_read_id):
            raise Invalid(f"{timeline.value}[last_read_id] must be an id")
    return await svc.storage.write(_save_markers, user.id, positions, svc.now())
