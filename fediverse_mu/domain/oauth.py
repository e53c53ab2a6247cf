"""OAuth scopes as Mastodon defines them, access and refresh tokens, client applications,
authorization codes and the OAuth protocol error."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from fediverse_mu.domain.errors import DomainError

# https://docs.joinmastodon.org/api/oauth-scopes/
_GRANULAR = {
    "read": ("accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists",
             "mutes", "notifications", "search", "statuses"),
    "write": ("accounts", "blocks", "bookmarks", "conversations", "favourites", "filters",
              "follows", "lists", "media", "mutes", "notifications", "reports", "statuses"),
}
_ADMIN = tuple(
    f"admin:{verb}:{thing}"
    for verb, things in (("read", ("accounts", "reports", "domain_allows", "domain_blocks",
                                   "ip_blocks", "email_domain_blocks", "canonical_email_blocks")),
                         ("write", ("accounts", "reports", "domain_allows", "domain_blocks",
                                    "ip_blocks", "email_domain_blocks",
                                    "canonical_email_blocks")))
    for thing in things
)
SCOPES: frozenset[str] = frozenset(
    ["read", "write", "follow", "push", "profile", "admin:read", "admin:write", *_ADMIN]
    + [f"{top}:{sub}" for top, subs in _GRANULAR.items() for sub in subs]
)
# The legacy ``follow`` scope grants these granular ones.
_FOLLOW = ("read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes",
           "write:mutes")


def expand_scopes(scopes: frozenset[str]) -> frozenset[str]:
    """Every granular scope implied by ``scopes`` (``read`` implies ``read:statuses``…)."""
    out = set(scopes)
    for top, subs in _GRANULAR.items():
        if top in scopes:
            out.update(f"{top}:{sub}" for sub in subs)
    if "follow" in scopes:
        out.update(_FOLLOW)
    for top in ("admin:read", "admin:write"):
        if top in scopes:
            out.update(s for s in _ADMIN if s.startswith(top + ":"))
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer token's grant: whose it is and what it may do (the secret is never kept)."""

    id: int
    user_id: int | None
    app_id: int | None
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        """True when this token grants ``scope`` (directly or through a broader scope)."""
        return scope in expand_scopes(self.scopes)


# The "out of band" redirect URI: the code is shown to the user instead of being sent back
# (https://docs.joinmastodon.org/methods/oauth/#authorize).
OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """A registered client application (only the hash of its secret is kept)."""

    id: int
    name: str
    website: str | None
    redirect_uris: tuple[str, ...]
    scopes: frozenset[str]
    client_id: str
    client_secret_hash: str = field(repr=False)
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    """A one-time authorization code (stored by hash), bound to its client, redirect URI,
    scopes and PKCE challenge."""

    id: int
    app_id: int
    user_id: int
    redirect_uri: str
    scopes: frozenset[str]
    code_challenge: str | None
    code_challenge_method: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    token_id: int | None


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """A refresh token's grant (stored by hash): one link of a rotation chain (``family_id``,
    the first link's id), issued with the access token ``access_token_id`` and carrying the
    scopes the user granted. ``revoked_at`` is also set once that access token was revoked."""

    id: int
    family_id: int
    app_id: int
    user_id: int
    scopes: frozenset[str]
    access_token_id: int
    created_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


class OAuthError(DomainError):
    """An OAuth 2 protocol error (RFC 6749 §4.1.2.1 and §5.2): ``error`` is the registered
    code (``invalid_grant``…). When ``redirect_uri`` is set, the authorization endpoint sends
    the error back to the client instead of showing it."""

    def __init__(self, error: str, description: str, *, status: int = 400,
                 redirect_uri: str | None = None, state: str | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.status = status
        self.redirect_uri = redirect_uri
        self.state = state
