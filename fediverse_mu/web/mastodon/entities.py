"""Every Mastodon API entity is built here, never ad hoc in handlers
(https://docs.joinmastodon.org/entities/). Dates are ISO 8601 UTC with milliseconds; ids are
strings."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from fediverse_mu import __version__
from fediverse_mu.activitypub.html import sanitize
from fediverse_mu.config import Config
from fediverse_mu.domain import SCOPES, Account, OAuthApp, Role, User
from fediverse_mu.domain import media as media_limits
from fediverse_mu.domain.conversations import ConversationView
from fediverse_mu.domain.federation_policy import DomainAllow, DomainBlock, obfuscated
from fediverse_mu.domain.filters import (
    Filter,
    FilterAction,
    FilterKeyword,
    FilterMatch,
    FilterStatus,
)
from fediverse_mu.domain.lists import AccountList
from fediverse_mu.domain.media import Media
from fediverse_mu.domain.moderation import (
    WARNING_ACTIONS,
    AccountWarning,
    AdminAccount,
    Report,
)
from fediverse_mu.domain.notification_groups import (
    NotificationGroup,
    NotificationPolicy,
    PolicyValue,
    ungrouped_key,
)
from fediverse_mu.domain.notification_requests import NotificationRequest, PolicySummary
from fediverse_mu.domain.notifications import STATUS_TYPES, NotificationView
from fediverse_mu.domain.places import Feeling, KnownPlace, Ressenti, Spot
from fediverse_mu.domain.polls import Poll
from fediverse_mu.domain.profiles import Marker, PostingDefaults, Profile, ProfileField
from fediverse_mu.domain.relationships import Mute, Relationship
from fediverse_mu.domain.rules import Rule
from fediverse_mu.domain.scheduled import ScheduledStatus
from fediverse_mu.domain.statuses import StatusEdit, StatusView
from fediverse_mu.services.directory import WeekActivity
from fediverse_mu.services.instance import InstanceStats
from fediverse_mu.services.profiles import field_html
from fediverse_mu.services.tokens import IssuedToken

# Clients such as Mastodon.py and Tusky detect features from this version string; the form
# "<mastodon version> (compatible; <software> <version>)" is what Pleroma and Akkoma use too.
MASTODON_COMPAT_VERSION = f"4.3.0 (compatible; fediverse-mu {__version__})"
MAX_CHARACTERS = 500
MAX_MEDIA = media_limits.MAX_ATTACHMENTS
IMAGE_SIZE_LIMIT = media_limits.IMAGE_SIZE_LIMIT
SUPPORTED_MIME_TYPES = list(media_limits.UPLOAD_MIME_TYPES)


@lru_cache(maxsize=65536)
def iso(moment: datetime) -> str:
    """Mastodon's date format: ``2026-11-21T06:34:37.000Z``."""
    # Remembered (0.1 µs instead of 2 µs): this runs ~50 times per timeline page, mostly
    # for the same statuses from one request to the next.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _static(config: Config, name: str) -> str:
    return f"{config.base_url}/static/{name}"


def field(config: Config, item: ProfileField, *, local: bool = True) -> dict[str, Any]:
    """A profile Field: the value as HTML with links (no rel=me verification yet); a remote
    account's value is already HTML (someone else's: sanitised again)."""
    value = field_html(config.base_url, item.value) if local else sanitize(item.value)
    return {"name": item.name, "value": value, "verified_at": None}


def account(config: Config, acc: Account, *, statuses_count: int = 0,
            followers_count: int = 0, following_count: int = 0,
            fields: Sequence[ProfileField] = (), suspended: bool = False,
            limited: bool = False) -> dict[str, Any]:
    """The Account entity (a remote account's note is sanitised: it is someone else's HTML).
    A suspended account is blanked and says ``suspended: true``, a silenced one
    ``limited: true`` (Mastodon's optional attributes, present only when they apply)."""
    static = f"{config.base_url}/static/"
    avatar = acc.avatar_url or static + "avatar.png"
    header = acc.header_url or static + "header.png"
    if suspended:  # as Mastodon shows an unavailable account: no name, note, pictures, fields
        blank = account(config, replace(acc, display_name="", note="", avatar_url=None,
                                         header_url=None, locked=False, bot=False))
        blank["suspended"] = True
        return blank
    entity: dict[str, Any] = {
        "id": str(acc.id),
        "username": acc.username,
        "acct": acc.acct(),
        "url": acc.url or acc.actor_uri,
        "uri": acc.actor_uri,
        "display_name": acc.display_name,
        "note": acc.note if acc.is_local else sanitize(acc.note),
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "locked": acc.locked,
        "bot": acc.bot,
        "group": acc.actor_type == "Group",
        "discoverable": acc.discoverable,
        "indexable": False,
        "hide_collections": False,
        "noindex": True,
        "created_at": iso(acc.created_at.replace(hour=0, minute=0, second=0, microsecond=0)),
        "last_status_at": None,
        "statuses_count": statuses_count,
        "followers_count": followers_count,
        "following_count": following_count,
        "emojis": [],
        "fields": [field(config, f, local=acc.is_local) for f in fields],
        "roles": [],
    }
    if limited:
        entity["limited"] = True
    return entity


_ROLE_IDS = {Role.RESIDENT: "-99", Role.MODERATOR: "2", Role.ADMIN: "3"}
_ROLE_PERMISSIONS = {Role.RESIDENT: "0", Role.MODERATOR: "1308", Role.ADMIN: "1"}


def role(user: User) -> dict[str, Any]:
    """The Role entity of a user."""
    return {"id": _ROLE_IDS[user.role], "name": "" if user.role is Role.RESIDENT else
            user.role.value.capitalize(), "color": "", "permissions":
            _ROLE_PERMISSIONS[user.role], "highlighted": user.role is not Role.RESIDENT}


def credential_account(config: Config, acc: Account, user: User, *,
                       statuses_count: int = 0, followers_count: int = 0,
                       following_count: int = 0, profile: Profile | None = None,
                       follow_requests_count: int = 0) -> dict[str, Any]:
    """The CredentialAccount entity (the logged-in user's own account, with ``source``: the
    note and fields as typed, the posting defaults)."""
    fields = profile.fields if profile is not None else ()
    defaults = profile.defaults if profile is not None else PostingDefaults()
    entity = account(config, acc, statuses_count=statuses_count,
                     followers_count=followers_count, following_count=following_count,
                     fields=fields)
    entity["source"] = {"note": profile.note_source if profile is not None else "",
                        "fields": [{"name": f.name, "value": f.value, "verified_at": None}
                                   for f in fields],
                        "privacy": defaults.privacy.value, "sensitive": defaults.sensitive,
                        "language": defaults.language,
                        "follow_requests_count": follow_requests_count,
                        "indexable": False, "hide_collections": False, "discoverable":
                        acc.discoverable}
    entity["role"] = role(user)
    return entity


def _streaming_url(config: Config) -> str:
    return ("wss" if config.scheme == "https" else "ws") + f"://{config.domain}"


def _limits() -> dict[str, Any]:
    return {
        "statuses": {"max_characters": MAX_CHARACTERS, "max_media_attachments": MAX_MEDIA,
                     "characters_reserved_per_url": 23},
        "media_attachments": {"supported_mime_types": SUPPORTED_MIME_TYPES,
                              "image_size_limit": IMAGE_SIZE_LIMIT,
                              "image_matrix_limit": media_limits.IMAGE_MATRIX_LIMIT,
                              "video_size_limit": 0, "video_frame_rate_limit": 0,
                              "video_matrix_limit": 0,
                              "description_limit": media_limits.DESCRIPTION_LIMIT},
        "polls": {"max_options": 4, "max_characters_per_option": 50,
                  "min_expiration": 300, "max_expiration": 2_629_746},
    }


def instance_v2(config: Config, stats: InstanceStats, *,
                rules: Sequence[Rule] = ()) -> dict[str, Any]:
    """The Instance entity (``/api/v2/instance``)."""
    icon = _static(config, "icon.png")
    return {
        "domain": config.domain,
        "title": config.place_name,
        "version": MASTODON_COMPAT_VERSION,
        "source_url": "https://example.invalid/fediverse-mu",
        "description": config.place_description,
        "usage": {"users": {"active_month": stats.active_month}},
        "thumbnail": {"url": icon},
        "icon": [{"src": icon, "size": "256x256"}],
        "languages": list(config.languages),
        "configuration": {
            "urls": {"streaming": _streaming_url(config), "status": None,
                     "about": f"{config.base_url}/about", "privacy_policy": None,
                     "terms_of_service": None},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5,
                         "max_display_name_length": 30, "max_note_length": 500,
                         "max_profile_fields": 4, "profile_field_name_limit": 255,
                         "profile_field_value_limit": 255},
            "translation": {"enabled": False},
            **_limits(),
        },
        "registrations": {"enabled": config.registration_mode in ("open", "approval"),
                          "approval_required": config.registration_mode == "approval",
                          "message": None, "url": None},
        "api_versions": {"mastodon": 2},
        "contact": {"email": stats.contact_email, "account": None},
        "rules": [rule(r) for r in rules],
    }


def instance_v1(config: Config, stats: InstanceStats, *,
                rules: Sequence[Rule] = ()) -> dict[str, Any]:
    """The V1 Instance entity (``/api/v1/instance``), still read by many clients."""
    return {
        "uri": config.domain,
        "title": config.place_name,
        "short_description": config.place_description[:200],
        "description": config.place_description,
        "email": stats.contact_email,
        "version": MASTODON_COMPAT_VERSION,
        "urls": {"streaming_api": _streaming_url(config)},
        "stats": {"user_count": stats.users, "status_count": stats.local_posts,
                  "domain_count": stats.domains},
        "thumbnail": _static(config, "icon.png"),
        "languages": list(config.languages),
        "registrations": config.registration_mode in ("open", "approval"),
        "approval_required": config.registration_mode == "approval",
        "invites_enabled": config.registration_mode == "invite",
        "configuration": {"accounts": {"max_featured_tags": 10}, **_limits()},
        "contact_account": None,
        "rules": [rule(r) for r in rules],
    }


def application(app: OAuthApp) -> dict[str, Any]:
    """The Application entity (``GET /api/v1/apps/verify_credentials``)."""
    return {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": sorted(app.scopes),
        "redirect_uri": "\n".join(app.redirect_uris),  # deprecated: one string, 4.3 keeps it
        "redirect_uris": list(app.redirect_uris),
        "vapid_key": "",  # no Web Push yet; deprecated since 4.3 anyway
    }


def credential_application(app: OAuthApp, client_secret: str) -> dict[str, Any]:
    """The CredentialApplication entity (``POST /api/v1/apps``: the only time the client
    secret is shown)."""
    return {**application(app), "client_id": app.client_id, "client_secret": client_secret,
            "client_secret_expires_at": 0}


def token(issued: IssuedToken) -> dict[str, Any]:
    """The Token entity (``POST /oauth/token``), with ``refresh_token`` when one was issued
    (no ``expires_in``: access tokens do not expire, as on Mastodon)."""
    body: dict[str, Any] = {"access_token": issued.secret, "token_type": "Bearer",
                            "scope": " ".join(sorted(issued.token.scopes)),
                            "created_at": int(issued.created_at.timestamp())}
    if issued.refresh_token is not None:
        body["refresh_token"] = issued.refresh_token
    return body


def oauth_server_metadata(config: Config) -> dict[str, Any]:
    """RFC 8414 authorization server metadata, as Mastodon 4.3 publishes it. The password
    grant is listed because Mastodon.py refuses ``log_in(username, password)`` otherwise."""
    base = config.base_url
    return {
        "issuer": f"{base}/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "scopes_supported": sorted(SCOPES, key=lambda s: (s.count(":"), s)),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "password", "client_credentials",
                                  "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }


def _media_size(width: int | None, height: int | None) -> dict[str, Any] | None:
    if not width or not height:
        return None
    return {"width": width, "height": height, "size": f"{width}x{height}",
            "aspect": width / height}


def media_attachment(config: Config, media: Media) -> dict[str, Any]:
    """The MediaAttachment entity. Uploads are processed synchronously, so ``url`` is always
    set; remote media point at their origin (no local copy)."""
    meta: dict[str, Any] = {"focus": {"x": media.focus_x, "y": media.focus_y}}
    original = _media_size(media.width, media.height)
    if original is not None:
        meta["original"] = original
    small = _media_size(media.thumbnail_width, media.thumbnail_height)
    if small is not None:
        meta["small"] = small
    return {
        "id": str(media.id),
        "type": media.type.value,
        "url": media.url(config.base_url),
        "preview_url": media.preview_url(config.base_url),
        "remote_url": media.remote_url,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": media.description or None,
        "blurhash": media.blurhash,
    }


def relationship(rel: Relationship) -> dict[str, Any]:
    """The Relationship entity (domain blocks, endorsements and notes do not exist here)."""
    return {
        "id": str(rel.target_id),
        "following": rel.following,
        "showing_reblogs": rel.showing_reblogs,
        "notifying": rel.notifying,
        "languages": None,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting_notifications,
        "muting_expires_at": None if rel.muting_expires_at is None
        else iso(rel.muting_expires_at),
        "requested": rel.requested,
        "requested_by": rel.requested_by,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def muted_account(entity: dict[str, Any], mute: Mute) -> dict[str, Any]:
    """An Account entity as ``GET /api/v1/mutes`` lists it, with ``mute_expires_at``."""
    return {**entity, "mute_expires_at": None if mute.expires_at is None
            else iso(mute.expires_at)}


def markers(found: Sequence[Marker]) -> dict[str, Any]:
    """The markers hash: ``{"home": Marker, "notifications": Marker}`` (those saved)."""
    return {m.timeline.value: {"last_read_id": m.last_read_id, "version": m.version,
                               "updated_at": iso(m.updated_at)} for m in found}


def preferences(defaults: PostingDefaults) -> dict[str, Any]:
    """The Preferences entity."""
    return {"posting:default:visibility": defaults.privacy.value,
            "posting:default:sensitive": defaults.sensitive,
            "posting:default:language": defaults.language,
            "reading:expand:media": "default",
            "reading:expand:spoilers": False}


def instance_activity(weeks: Sequence[WeekActivity]) -> list[dict[str, str]]:
    """``/api/v1/instance/activity``: one hash of strings per week, this week first."""
    return [{"week": str(int(w.week.timestamp())), "statuses": str(w.statuses),
             "logins": str(w.logins), "registrations": str(w.registrations)} for w in weeks]


def _mention(acc: Account) -> dict[str, Any]:
    return {"id": str(acc.id), "username": acc.username, "url": acc.url or acc.actor_uri,
            "acct": acc.acct()}


@lru_cache(maxsize=4096)
def _quoted(name: str) -> str:
    return quote(name)  # a timeline page quotes ~25 tags, mostly the same few


def _tag(config: Config, name: str) -> dict[str, Any]:
    return {"name": name, "url": f"{config.base_url}/tags/{_quoted(name)}"}


def status(config: Config, view: StatusView, *, source: bool = False,
           pinned: bool | None = None,
           accounts: Mapping[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The Status entity (https://docs.joinmastodon.org/entities/Status/). ``source`` adds the
    typed ``text``, as Mastodon does when answering a delete (for "delete and redraft");
    ``accounts`` holds Account entities already rendered (with their counts), by id."""
    st = view.status
    own_pinned = st.pinned if pinned is None else pinned
    entity: dict[str, Any] = {
        "id": str(st.id),
        "uri": st.uri,
        "url": st.url,
        "created_at": iso(st.created_at),
        "edited_at": None if st.edited_at is None else iso(st.edited_at),
        "account": account(config, view.account) if accounts is None
        else accounts[view.account.id],
        "content": st.content,
        "visibility": st.visibility.value,
        "sensitive": st.sensitive,
        "spoiler_text": st.spoiler_text,
        "media_attachments": [media_attachment(config, m) for m in view.media],
        "application": None,
        "mentions": [_mention(m) for m in view.mentions],
        "tags": [_tag(config, t) for t in view.tags],
        "emojis": [],
        "reblogs_count": st.reblogs_count,
        "favourites_count": st.favourites_count,
        "replies_count": st.replies_count,
        "in_reply_to_id": None if st.in_reply_to_id is None else str(st.in_reply_to_id),
        "in_reply_to_account_id": None if st.in_reply_to_account_id is None
        else str(st.in_reply_to_account_id),
        "reblog": None if view.reblog is None else status(config, view.reblog,
                                                           accounts=accounts),
        "poll": None if view.poll is None else poll(view.poll),
        "card": None,
        "language": st.language,
        "favourited": view.favourited,
        "reblogged": view.reblogged,
        "muted": False,
        "bookmarked": view.bookmarked,
        "pinned": own_pinned,
        "filtered": [],
        "local_only": st.local_only,
    }
    if view.ressenti is not None:  # fediverse-mu's extension: clients ignore unknown keys
        entity["ressenti"] = ressenti(view.ressenti)
    if source:
        entity["text"] = st.source_text or ""
    return entity


def status_edit(config: Config, view: StatusView, edit: StatusEdit) -> dict[str, Any]:
    """The StatusEdit entity: one version in a status's history."""
    return {"content": edit.content, "spoiler_text": edit.spoiler_text,
            "sensitive": edit.sensitive, "created_at": iso(edit.created_at),
            "account": account(config, view.account), "poll": None,
            "media_attachments": [media_attachment(config, m) for m in view.media],
            "emojis": []}


def status_source(view: StatusView) -> dict[str, Any]:
    """The StatusSource entity: what the author typed, for editing."""
    return {"id": str(view.status.id), "text": view.status.source_text or "",
            "spoiler_text": view.status.spoiler_text}


def context(config: Config, ancestors: Sequence[StatusView],
            descendants: Sequence[StatusView]) -> dict[str, Any]:
    """The Context entity of a thread."""
    return {"ancestors": [status(config, v) for v in ancestors],
            "descendants": [status(config, v) for v in descendants]}


def notification(config: Config, view: NotificationView, *,
                 account_entity: dict[str, Any] | None = None,
                 status_entity: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Notification entity (https://docs.joinmastodon.org/entities/Notification/); pass
    the account and status entities when already rendered with their counts. ``status`` is
    there only for the types about a status, as on Mastodon; ``group_key`` is the one the
    grouped notifications use; ``filtered`` only on one the owner's policy filtered."""
    n = view.notification
    entity: dict[str, Any] = {
        "id": str(n.id),
        "type": n.type.value,
        "created_at": iso(n.created_at),
        "group_key": n.group_key or ungrouped_key(n.id),
        "account": account_entity if account_entity is not None
        else account(config, view.account),
    }
    if n.type in STATUS_TYPES:
        entity["status"] = status_entity if status_entity is not None else \
            None if view.status is None else status(config, view.status)
    if view.warning is not None:  # moderation_warning: its sender is the warned account
        entity["moderation_warning"] = account_warning(view.warning, entity["account"])
    if n.filtered:
        entity["filtered"] = True
    return entity


def account_warning(item: AccountWarning, target_account: dict[str, Any]) -> dict[str, Any]:
    """The AccountWarning entity (https://docs.joinmastodon.org/entities/AccountWarning/):
    our ``warn`` is Mastodon's action ``none`` (a message only); no appeals yet."""
    return {"id": str(item.id), "action": WARNING_ACTIONS.get(item.action, "none"),
            "text": item.text, "status_ids": [], "target_account": target_account,
            "appeal": None, "created_at": iso(item.created_at)}


# -- lists and filters -------------------------------------------------------------------------


def list_entity(lst: AccountList) -> dict[str, Any]:
    """The List entity (https://docs.joinmastodon.org/entities/List/)."""
    return {"id": str(lst.id), "title": lst.title, "replies_policy": lst.replies_policy.value,
            "exclusive": lst.exclusive}


def filter_keyword(keyword: FilterKeyword) -> dict[str, Any]:
    """The FilterKeyword entity."""
    return {"id": str(keyword.id), "keyword": keyword.keyword, "whole_word": keyword.whole_word}


def filter_status(item: FilterStatus) -> dict[str, Any]:
    """The FilterStatus entity."""
    return {"id": str(item.id), "status_id": str(item.status_id)}


def filter_entity(item: Filter, *, rules: bool = True) -> dict[str, Any]:
    """The Filter entity (https://docs.joinmastodon.org/entities/Filter/); ``rules`` False
    leaves out keywords and statuses, as inside a FilterResult."""
    entity: dict[str, Any] = {
        "id": str(item.id), "title": item.title, "context": [c.value for c in item.context],
        "expires_at": None if item.expires_at is None else iso(item.expires_at),
        "filter_action": item.action.value,
    }
    if rules:
        entity["keywords"] = [filter_keyword(k) for k in item.keywords]
        entity["statuses"] = [filter_status(s) for s in item.statuses]
    return entity


def filter_result(match: FilterMatch) -> dict[str, Any]:
    """The FilterResult entity: a filter that matched a status, in its ``filtered``."""
    return {"filter": filter_entity(match.filter, rules=False),
            "keyword_matches": list(match.keyword_matches) or None,
            "status_matches": [str(i) for i in match.status_matches] or None}


def v1_filter(item: Filter, keyword: FilterKeyword) -> dict[str, Any]:
    """The V1::Filter entity: one keyword of a filter (its id is the keyword's)."""
    return {"id": str(keyword.id), "phrase": keyword.keyword,
            "context": [c.value for c in item.context],
            "expires_at": None if item.expires_at is None else iso(item.expires_at),
            "irreversible": item.action is FilterAction.HIDE, "whole_word": keyword.whole_word}


# -- conversations, polls, scheduled statuses --------------------------------------------------


def conversation(view: ConversationView, accounts: list[dict[str, Any]],
                 last_status: dict[str, Any] | None) -> dict[str, Any]:
    """The Conversation entity (https://docs.joinmastodon.org/entities/Conversation/), with
    the participants' Account entities and the last Status entity already rendered."""
    return {"id": str(view.conversation.id), "unread": view.conversation.unread,
            "accounts": accounts, "last_status": last_status}


# -- moderation (issue 7) ----------------------------------------------------------------------


def rule(item: Rule) -> dict[str, Any]:
    """The Rule entity (https://docs.joinmastodon.org/entities/Rule/)."""
    return {"id": str(item.id), "text": item.text, "hint": item.hint}


def _digest(domain: str) -> str:
    return hashlib.sha256(domain.encode()).hexdigest()


def public_domain_block(block: DomainBlock) -> dict[str, Any]:
    """The public DomainBlock entity (``/api/v1/instance/domain_blocks``): obfuscated when
    asked, no private comment; a ``noop`` block with media rejection shows as ``silence``."""
    return {"domain": obfuscated(block.domain) if block.obfuscate else block.domain,
            "digest": _digest(block.domain),
            "severity": "suspend" if block.severity.value == "suspend" else "silence",
            "comment": block.public_comment or None}


def report(item: Report, target_account: dict[str, Any]) -> dict[str, Any]:
    """The Report entity (https://docs.joinmastodon.org/entities/Report/), as its reporter
    sees it."""
    return {"id": str(item.id), "action_taken": item.action_taken,
            "action_taken_at": None if item.action_taken_at is None
            else iso(item.action_taken_at),
            "category": item.category.value, "comment": item.comment,
            "forwarded": item.forwarded, "created_at": iso(item.created_at),
            "status_ids": [str(i) for i in item.status_ids] or None,
            "rule_ids": [str(i) for i in item.rule_ids] or None,
            "target_account": target_account}


def admin_account(item: AdminAccount, account_entity: dict[str, Any]) -> dict[str, Any]:
    """The Admin::Account entity (https://docs.joinmastodon.org/entities/Admin_Account/)."""
    user = item.user
    entity: dict[str, Any] = {
        "id": str(item.account.id), "username": item.account.username,
        "domain": item.account.domain, "created_at": iso(item.account.created_at),
        "ip": None, "ips": [],
        "locale": "" if user is None else user.locale,
        "invite_request": None,
        "role": role(user) if user is not None else {
            "id": "-99", "name": "", "color": "", "permissions": "0", "highlighted": False},
        "confirmed": True, "approved": True if user is None else user.approved,
        "disabled": False if user is None else user.disabled,
        "silenced": item.state.silenced, "suspended": item.state.suspended,
        "sensitized": False, "account": account_entity,
        "created_by_application_id": None, "invited_by_account_id": None,
    }
    if user is not None:  # Mastodon sends an e-mail only for accounts with a login
        entity["email"] = user.email
    return entity


def admin_report(item: Report, *, account: dict[str, Any], target_account: dict[str, Any],
                 assigned_account: dict[str, Any] | None,
                 action_taken_by_account: dict[str, Any] | None,
                 statuses: list[dict[str, Any]], rules: Sequence[Rule]) -> dict[str, Any]:
    """The Admin::Report entity (https://docs.joinmastodon.org/entities/Admin_Report/)."""
    return {"id": str(item.id), "action_taken": item.action_taken,
            "action_taken_at": None if item.action_taken_at is None
            else iso(item.action_taken_at),
            "category": item.category.value, "comment": item.comment,
            "forwarded": item.forwarded, "created_at": iso(item.created_at),
            "updated_at": iso(item.updated_at), "account": account,
            "target_account": target_account, "assigned_account": assigned_account,
            "action_taken_by_account": action_taken_by_account, "statuses": statuses,
            "rules": [rule(r) for r in rules if r.id in item.rule_ids]}


def admin_domain_block(block: DomainBlock) -> dict[str, Any]:
    """The Admin::DomainBlock entity."""
    return {"id": str(block.id), "domain": block.domain, "digest": _digest(block.domain),
            "created_at": iso(block.created_at), "severity": block.severity.value,
            "reject_media": block.reject_media, "reject_reports": block.reject_reports,
            "private_comment": block.private_comment or None,
            "public_comment": block.public_comment or None, "obfuscate": block.obfuscate}


def admin_domain_allow(allow: DomainAllow) -> dict[str, Any]:
    """The Admin::DomainAllow entity."""
    return {"id": str(allow.id), "domain": allow.domain, "created_at": iso(allow.created_at)}


# -- places and ressentis (fediverse-mu extensions) -----------------------------------------------


def ressenti(value: Ressenti, distance_km: float | None = None) -> dict[str, Any]:
    """The ``ressenti`` object added to a Status: its feeling and coarse location."""
    location = None
    if value.latitude is not None and value.longitude is not None:
        location = {"name": value.location_name, "latitude": value.latitude,
                    "longitude": value.longitude}
    entity: dict[str, Any] = {"feeling": value.feeling, "emoji": value.emoji,
                              "label": value.label or value.feeling, "location": location,
                              "spot": value.spot, "place": value.place_uri}
    if distance_km is not None:
        entity["distance_km"] = distance_km
    return entity


def feeling(value: Feeling) -> dict[str, Any]:
    """One feeling of the place's vocabulary."""
    return {"term": value.term, "emoji": value.emoji, "hashtag": value.hashtag,
            "label_fr": value.label_fr, "label_en": value.label_en}


def spot(value: Spot) -> dict[str, Any]:
    """One named spot of the territory."""
    return {"id": str(value.id), "name": value.name, "hashtag": value.hashtag,
            "latitude": value.latitude, "longitude": value.longitude}


def known_place(value: KnownPlace) -> dict[str, Any]:
    """One entry of the directory of places."""
    return {"actor": value.actor_uri, "name": value.name, "kind": value.kind,
            "territory": value.territory, "address": value.address,
            "latitude": value.latitude, "longitude": value.longitude,
            "radius_km": value.radius_km, "url": value.url, "allied": value.allied,
            "local": value.local, "distance_km": value.distance_km}


def poll(item: Poll, now: datetime | None = None) -> dict[str, Any]:
    """The Poll entity (https://docs.joinmastodon.org/entities/Poll/). With ``hide_totals``
    the counts per option stay hidden until the poll ends; ``voted`` and ``own_votes`` only
    for a signed-in reader, as Mastodon."""
    expired = item.expired(now or datetime.now(UTC))
    hidden = item.hide_totals and not expired
    entity: dict[str, Any] = {
        "id": str(item.status_id),
        "expires_at": None if item.expires_at is None else iso(item.expires_at),
        "expired": expired,
        "multiple": item.multiple,
        "votes_count": item.votes_count,
        "voters_count": item.voters_count,
        "options": [{"title": title, "votes_count": None if hidden else count}
                    for title, count in zip(item.options, item.votes, strict=True)],
        "emojis": [],
    }
    if item.voted is not None:
        entity["voted"] = item.voted
        entity["own_votes"] = list(item.own_votes)
    return entity


def scheduled_status(config: Config, item: ScheduledStatus,
                     media: Sequence[Media]) -> dict[str, Any]:
    """The ScheduledStatus entity (https://docs.joinmastodon.org/entities/ScheduledStatus/)."""
    p = item.params
    return {
        "id": str(item.id),
        "scheduled_at": iso(item.scheduled_at),
        "params": {
            "text": p.text, "visibility": p.visibility, "spoiler_text": p.spoiler_text or None,
            "sensitive": p.sensitive, "language": p.language,
            "in_reply_to_id": p.in_reply_to_id,
            "media_ids": [str(i) for i in p.media_ids] or None,
            "poll": None if p.poll is None else {
                "options": list(p.poll.options), "expires_in": p.poll.expires_in,
                "multiple": p.poll.multiple, "hide_totals": p.poll.hide_totals},
            "idempotency": p.idempotency, "scheduled_at": None, "application_id": 0,
            "with_rate_limit": False,
        },
        "media_attachments": [media_attachment(config, m) for m in media],
    }


# -- grouped notifications (Mastodon 4.3) -----------------------------------------------------


def partial_account(config: Config, acc: Account) -> dict[str, Any]:
    """The PartialAccountWithAvatar entity: what a row of avatars needs
    (https://docs.joinmastodon.org/methods/grouped_notifications/#PartialAccountWithAvatar)."""
    avatar = acc.avatar_url or f"{config.base_url}/static/avatar.png"
    return {"id": str(acc.id), "acct": acc.acct(), "url": acc.url or acc.actor_uri,
            "avatar": avatar, "avatar_static": avatar, "locked": acc.locked, "bot": acc.bot}


def notification_group(group: NotificationGroup, *,
                       moderation_warning: dict[str, Any] | None = None) -> dict[str, Any]:
    """The NotificationGroup entity; its accounts and status are referenced by id (they are
    in the results' ``accounts`` and ``statuses``). ``most_recent_notification_id`` is a
    number, as Mastodon sends it (clients such as the official iOS app decode an integer);
    the ``page_*`` fields only in a paged listing; ``moderation_warning`` (an AccountWarning)
    on a ``moderation_warning`` group."""
    entity: dict[str, Any] = {
        "group_key": group.key,
        "notifications_count": group.notifications_count,
        "type": group.type.value,
        "most_recent_notification_id": group.most_recent_notification_id,
        "sample_account_ids": [str(i) for i in group.sample_account_ids],
    }
    if group.page_min_id is not None and group.page_max_id is not None:
        entity["page_min_id"] = str(group.page_min_id)
        entity["page_max_id"] = str(group.page_max_id)
    if group.latest_page_notification_at is not None:
        entity["latest_page_notification_at"] = iso(group.latest_page_notification_at)
    if group.type in STATUS_TYPES and group.head.status_id is not None:
        entity["status_id"] = str(group.head.status_id)
    if moderation_warning is not None:
        entity["moderation_warning"] = moderation_warning
    return entity


def grouped_notifications(groups: Sequence[NotificationGroup],
                          accounts: Sequence[dict[str, Any]], statuses: Sequence[dict[str, Any]],
                          partial_accounts: Sequence[dict[str, Any]] | None = None, *,
                          warnings: Mapping[str, dict[str, Any]] | None = None,
                          ) -> dict[str, Any]:
    """The GroupedNotificationsResults entity: groups with the accounts and statuses they
    reference, each once; ``partial_accounts`` only with ``expand_accounts=partial_avatars``;
    ``warnings``: the AccountWarning of each moderation_warning group, by group key."""
    found = warnings or {}
    entity: dict[str, Any] = {
        "accounts": list(accounts), "statuses": list(statuses),
        "notification_groups": [notification_group(g, moderation_warning=found.get(g.key))
                                for g in groups]}
    if partial_accounts is not None:
        entity["partial_accounts"] = list(partial_accounts)
    return entity


def _policy_summary(summary: PolicySummary) -> dict[str, int]:
    return {"pending_requests_count": summary.pending_requests_count,
            "pending_notifications_count": summary.pending_notifications_count}


def notification_policy(policy: NotificationPolicy,
                        summary: PolicySummary) -> dict[str, Any]:
    """The v2 NotificationPolicy entity (https://docs.joinmastodon.org/entities/NotificationPolicy/)
    with the summary of the pending requests."""
    return {"for_not_following": policy.for_not_following.value,
            "for_not_followers": policy.for_not_followers.value,
            "for_new_accounts": policy.for_new_accounts.value,
            "for_private_mentions": policy.for_private_mentions.value,
            "for_limited_accounts": policy.for_limited_accounts.value,
            "summary": _policy_summary(summary)}


def v1_notification_policy(policy: NotificationPolicy,
                           summary: PolicySummary) -> dict[str, Any]:
    """The deprecated v1 NotificationPolicy entity
    (https://docs.joinmastodon.org/entities/V1_NotificationPolicy/): each ``filter_*`` is true
    unless the matching v2 field is ``accept`` (Mastodon's V1 serializer)."""
    return {"filter_not_following": policy.for_not_following is not PolicyValue.ACCEPT,
            "filter_not_followers": policy.for_not_followers is not PolicyValue.ACCEPT,
            "filter_new_accounts": policy.for_new_accounts is not PolicyValue.ACCEPT,
            "filter_private_mentions": policy.for_private_mentions is not PolicyValue.ACCEPT,
            "summary": _policy_summary(summary)}


def notification_request(item: NotificationRequest, account_entity: dict[str, Any],
                         status_entity: dict[str, Any] | None) -> dict[str, Any]:
    """The NotificationRequest entity (https://docs.joinmastodon.org/entities/NotificationRequest/):
    ``notifications_count`` is a string, as Mastodon sends it."""
    return {"id": str(item.id), "created_at": iso(item.created_at),
            "updated_at": iso(item.updated_at), "account": account_entity,
            "notifications_count": str(item.notifications_count),
            "last_status": status_entity}
