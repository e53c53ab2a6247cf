"""Bearer tokens for the Mastodon API: minting (CLI, OAuth) and checking them on requests.
Only a token's SHA-256 is stored, so a stolen database does not leak working tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from fediverse_mu.domain import SCOPES, Account, Invalid, NotFound, Token, Unauthorized, User
from fediverse_mu.services.context import Services
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import oauth as oauth_store

DEFAULT_SCOPES = frozenset({"read", "write", "follow", "push"})


@dataclass(frozen=True)
class Grant:
    """Who a request acts as and with which scopes."""

    token: Token
    user: User | None
    account: Account | None


def hash_token(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scopes(text: str) -> frozenset[str]:
    """Split a space-separated scope list; raise Invalid on an unknown scope."""
    scopes = frozenset(text.split())
    unknown = scopes - SCOPES
    if not scopes or unknown:
        raise Invalid("unknown scope(s): " + ", ".join(sorted(unknown)) if unknown
                      else "at least one scope is required")
    return scopes


async def create_token_for(svc: Services, username: str,
                           scopes: frozenset[str] = DEFAULT_SCOPES) -> str:
    """Mint a bearer token for a local user (admin scripts and tests); returns the secret."""
    account = await svc.storage.read(account_store.get_local_account, username)
    user = None if account is None else await svc.storage.read(
        account_store.get_user_by_account_id, account.id)
    if account is None or user is None:
        raise NotFound(f"no local user named '{username}'")
    token = secrets.token_urlsafe(32)
    await svc.storage.write(oauth_store.put_token, token_hash=hash_token(token),
                            user_id=user.id, app_id=None, scopes=scopes,
                            created_at=datetime.fromtimestamp(svc.clock(), UTC))
    return token


async def authenticate(svc: Services, token: str) -> Grant:
    """The grant behind a bearer token, or Unauthorized."""
    grant = await svc.storage.read(oauth_store.get_live_token, hash_token(token))
    if grant is None:
        raise Unauthorized("The access token is invalid")
    if grant.user_id is None:
        return Grant(grant, None, None)
    user = await svc.storage.read(account_store.get_user_by_id, grant.user_id)
    if user is None or user.disabled or not user.approved:
        raise Unauthorized("The access token is invalid")
    account = await svc.storage.read(account_store.get_account_by_id, user.account_id)
    return Grant(grant, user, account)
