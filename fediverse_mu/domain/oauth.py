"""OAuth scopes as Mastodon defines them, and access tokens."""

from __future__ import annotations

from dataclasses import dataclass

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
