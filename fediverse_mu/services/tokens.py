"""Bearer tokens for the Mastodon API: minting (CLI, OAuth), checking them on requests and
revoking them, and the OAuth refresh tokens minted beside them. Only a token's SHA-256 is
stored, so a stolen database does not leak working tokens; refresh tokens, OAuth client secrets
and authorization codes are random secrets of the same kind."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime

from fediverse_mu.domain import SCOPES, Account, Invalid, NotFound, Token, Unauthorized, User
from fediverse_mu.domain.oauth import RefreshToken
from fediverse_mu.events import TOKEN_REVOKED
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import oauth as oauth_store

DEFAULT_SCOPES = frozenset({"read", "write", "follow", "push"})


@dataclass(frozen=True)
class Grant:
    """Who a request acts as and with which scopes."""

    token: Token
    user: User | None
    account: Account | None


@dataclass(frozen=True)
class IssuedToken:
    """A freshly minted token: the secret (shown once to its owner, never stored) and its grant,
    with the refresh token minted beside it, if any (also shown once, never stored)."""

    secret: str = field(repr=False)
    token: Token
    created_at: datetime
    refresh_token: str | None = field(default=None, repr=False)


def new_secret() -> str:
    """A fresh random secret (256 bits, URL-safe): tokens, client secrets, codes."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a bearer token (or of any secret made by :func:`new_secret`)."""
    return hashlib.sha256(token.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """True when ``secret`` hashes to ``stored_hash`` (compared in constant time)."""
    return hmac.compare_digest(hash_token(secret), stored_hash)


def put_new_token(db: Database, *, user_id: int | None, app_id: int | None,
                  scopes: frozenset[str], now: datetime) -> IssuedToken:
    """Mint a token and store its hash, inside the caller's write transaction."""
    secret = new_secret()
    token = oauth_store.put_token(db, token_hash=hash_token(secret), user_id=user_id,
                                  app_id=app_id, scopes=scopes, created_at=now)
    return IssuedToken(secret, token, now)


def put_token_pair(db: Database, *, user_id: int, app_id: int, scopes: frozenset[str],
                   now: datetime, family_id: int | None = None,
                   granted: frozenset[str] | None = None) -> IssuedToken:
    """Mint an access token and its refresh token (RFC 6749 §1.5) inside the caller's write.
    The refresh token joins the rotation chain ``family_id`` (a new one when None) and keeps
    the ``granted`` scopes, which the access token may narrow (§6); default: ``scopes``."""
    issued = put_new_token(db, user_id=user_id, app_id=app_id, scopes=scopes, now=now)
    secret = new_secret()
    oauth_store.put_refresh_token(db, token_hash=hash_token(secret), family_id=family_id,
                                  app_id=app_id, user_id=user_id, scopes=granted or scopes,
                                  access_token_id=issued.token.id, created_at=now)
    return replace(issued, refresh_token=secret)


async def issue_token(svc: Services, *, user_id: int | None, app_id: int | None,
                      scopes: frozenset[str]) -> IssuedToken:
    """Mint and store a token for a user (or for an app alone when ``user_id`` is None)."""
    return await svc.storage.write(put_new_token, user_id=user_id, app_id=app_id,
                                   scopes=scopes, now=svc.now())


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
    issued = await issue_token(svc, user_id=user.id, app_id=None, scopes=scopes)
    return issued.secret


def _grant(db: Database, token_hash: str) -> Grant | None:
    grant = oauth_store.get_live_token(db, token_hash)
    if grant is None:
        return None
    if grant.user_id is None:
        return Grant(grant, None, None)
    user = account_store.get_user_by_id(db, grant.user_id)
    if user is None or user.disabled or not user.approved:
        return None
    return Grant(grant, user, account_store.get_account_by_id(db, user.account_id))


async def authenticate(svc: Services, token: str) -> Grant:
    """The grant behind a bearer token, or Unauthorized."""
    # One read for token, user and account: every API request comes here, and each storage
    # call is a round trip to a reader thread (bench/api.py).
    grant = await svc.storage.read(_grant, hash_token(token))
    if grant is None:
        raise Unauthorized("The access token is invalid")
    return grant


async def find_live_token(svc: Services, token: str) -> Token | None:
    """The grant behind a bearer token, if it exists and was not revoked."""
    return await svc.storage.read(oauth_store.get_live_token, hash_token(token))


def revoke_grant_in(db: Database, token_id: int, now: datetime) -> list[int]:
    """Revoke an access token inside the caller's write and, when it came with a refresh
    token, its whole rotation chain (RFC 7009 §2.1); returns the access tokens' ids."""
    family_id = oauth_store.get_refresh_family(db, token_id)
    revoked = [] if family_id is None else oauth_store.revoke_refresh_family(db, family_id, now)
    oauth_store.revoke_token(db, token_id, now)
    return sorted({token_id, *revoked})


def announce_revoked(svc: Services, token_ids: list[int]) -> None:
    """Tell the streaming hub that these access tokens were revoked (it ends their streams)."""
    if token_ids:
        svc.events.publish(TOKEN_REVOKED, {"token_ids": token_ids})


async def revoke(svc: Services, token: Token) -> None:
    """Revoke a token (and its refresh token): it stops working at once, and its open streams
    are ended."""
    revoked = await svc.storage.write(revoke_grant_in, token.id, svc.now())
    announce_revoked(svc, revoked)


async def find_live_refresh_token(svc: Services, token: str) -> RefreshToken | None:
    """The grant behind a refresh token, if it was neither rotated nor revoked."""
    found = await svc.storage.read(oauth_store.get_refresh_token, hash_token(token))
    if found is None or found.rotated_at is not None or found.revoked_at is not None:
        return None
    return found


async def revoke_refresh(svc: Services, refresh: RefreshToken) -> None:
    """Revoke a refresh token with its rotation chain and the access tokens issued in it
    (RFC 7009 §2.1); their open streams are ended."""
    revoked = await svc.storage.write(oauth_store.revoke_refresh_family, refresh.family_id,
                                      svc.now())
    announce_revoked(svc, revoked)
