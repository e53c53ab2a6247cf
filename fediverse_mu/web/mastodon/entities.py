"""Every Mastodon API entity is built here, never ad hoc in handlers
(https://docs.joinmastodon.org/entities/). Dates are ISO 8601 UTC with milliseconds; ids are
strings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fediverse_mu import __version__
from fediverse_mu.config import Config
from fediverse_mu.domain import SCOPES, Account, OAuthApp, Role, User
from fediverse_mu.services.instance import InstanceStats
from fediverse_mu.services.tokens import IssuedToken

# Clients such as Mastodon.py and Tusky detect features from this version string; the form
# "<mastodon version> (compatible; <software> <version>)" is what Pleroma and Akkoma use too.
MASTODON_COMPAT_VERSION = f"4.3.0 (compatible; fediverse-mu {__version__})"
MAX_CHARACTERS = 500
MAX_MEDIA = 4
IMAGE_SIZE_LIMIT = 16 * 1024 * 1024
SUPPORTED_MIME_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]


def iso(moment: datetime) -> str:
    """Mastodon's date format: ``2026-11-21T06:34:37.000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


def _static(config: Config, name: str) -> str:
    return f"{config.base_url}/static/{name}"


def account(config: Config, acc: Account, *, statuses_count: int = 0,
            followers_count: int = 0, following_count: int = 0) -> dict[str, Any]:
    """The Account entity."""
    avatar = _static(config, "avatar.png")
    header = _static(config, "header.png")
    return {
        "id": str(acc.id),
        "username": acc.username,
        "acct": acc.acct(),
        "url": acc.url or acc.actor_uri,
        "uri": acc.actor_uri,
        "display_name": acc.display_name,
        "note": acc.note,
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
        "fields": [],
        "roles": [],
    }


_ROLE_IDS = {Role.RESIDENT: "-99", Role.MODERATOR: "2", Role.ADMIN: "3"}
_ROLE_PERMISSIONS = {Role.RESIDENT: "0", Role.MODERATOR: "1308", Role.ADMIN: "1"}


def role(user: User) -> dict[str, Any]:
    """The Role entity of a user."""
    return {"id": _ROLE_IDS[user.role], "name": "" if user.role is Role.RESIDENT else
            user.role.value.capitalize(), "color": "", "permissions":
            _ROLE_PERMISSIONS[user.role], "highlighted": user.role is not Role.RESIDENT}


def credential_account(config: Config, acc: Account, user: User, *,
                       statuses_count: int = 0) -> dict[str, Any]:
    """The CredentialAccount entity (the logged-in user's own account, with ``source``)."""
    entity = account(config, acc, statuses_count=statuses_count)
    entity["source"] = {"note": acc.note, "fields": [], "privacy": "public", "sensitive": False,
                        "language": user.locale, "follow_requests_count": 0,
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
                              "image_matrix_limit": 16_777_216, "video_size_limit": 0,
                              "video_frame_rate_limit": 0, "video_matrix_limit": 0,
                              "description_limit": 1500},
        "polls": {"max_options": 4, "max_characters_per_option": 50,
                  "min_expiration": 300, "max_expiration": 2_629_746},
    }


def instance_v2(config: Config, stats: InstanceStats) -> dict[str, Any]:
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
        "rules": [],
    }


def instance_v1(config: Config, stats: InstanceStats) -> dict[str, Any]:
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
        "rules": [],
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
    """The Token entity (``POST /oauth/token``)."""
    return {"access_token": issued.secret, "token_type": "Bearer",
            "scope": " ".join(sorted(issued.token.scopes)),
            "created_at": int(issued.created_at.timestamp())}


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
        "grant_types_supported": ["authorization_code", "password", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }
