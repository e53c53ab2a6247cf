"""OAuth 2 login, as every Mastodon client does it (https://docs.joinmastodon.org/spec/oauth/):
registering client applications, the authorization request and its one-time codes (bound to
client, redirect URI, scopes and PKCE challenge), the password check behind the login form and
the password grant (throttled per IP address and per login name), the token endpoint's grants
(refresh tokens rotated on each use, RFC 6749 §6), revocation, and the signed login-session and
CSRF values of the authorization page.

Tokens themselves are minted and hashed by :mod:`fediverse_mu.services.tokens`."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from fediverse_mu.domain import (
    OOB_REDIRECT_URI,
    SCOPES,
    Account,
    Forbidden,
    Invalid,
    NotFound,
    OAuthApp,
    OAuthError,
    RateLimited,
    Token,
    Unauthorized,
    User,
    expand_scopes,
)
from fediverse_mu.services import passwords, tokens
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import oauth as oauth_store

CODE_LIFETIME = timedelta(minutes=10)
USED_CODES_KEPT = timedelta(days=1)  # to recognise (and punish) a replayed code
SESSION_LIFETIME = timedelta(days=7)
DEFAULT_SCOPES = frozenset({"read"})  # Mastodon's default when a client names none
PKCE_METHOD = "S256"  # "plain" is refused: it protects nothing if the request leaks
MAX_APP_NAME = 60
MAX_URI = 2000
MAX_REDIRECT_URIS = 20

# Messages shown on the authorization page (translated there, see web/locales/fr.json).
UNKNOWN_APP = "Unknown application."
BAD_REDIRECT_URI = "This redirect URI is not registered for the application."
ONLY_CODE = "Only response_type=code is supported."
SCOPE_NOT_ALLOWED = "The requested scopes are not allowed for this application."
ONLY_S256 = "Only the S256 code challenge method is supported."
BAD_CHALLENGE = "The code challenge is malformed."
BAD_CREDENTIALS = "Invalid e-mail address or password."
ACCOUNT_UNAVAILABLE = "This account is disabled or not approved yet."
TOO_MANY_ATTEMPTS = "Too many failed login attempts. Please try again in a few minutes."

_PKCE_VALUE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 §4.1 and §4.2
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")
_FORBIDDEN_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "about", "blob"})



# -- client applications ------------------------------------------------------------------------

@dataclass(frozen=True)
class NewApp:
    """A just-registered application and its client secret (shown once, stored hashed)."""

    app: OAuthApp
    client_secret: str = field(repr=False)


def split_redirect_uris(values: Iterable[str]) -> tuple[str, ...]:
    """Redirect URIs from one or several values, each possibly holding several URIs separated
    by spaces or newlines (Mastodon.py sends them joined with ``\\n``); duplicates dropped."""
    found: list[str] = []
    for value in values:
        for uri in value.split():
            if uri not in found:
                found.append(uri)
    return tuple(found)


def _plain_ascii(text: str) -> bool:
    return text.isascii() and text.isprintable() and not any(c.isspace() for c in text)


def valid_redirect_uri(uri: str) -> bool:
    """True for an absolute URI without fragment (custom app schemes such as ``tusky://``
    included) or the out-of-band URN; scripts and local files are refused."""
    if uri == OOB_REDIRECT_URI:
        return True
    if len(uri) > MAX_URI or not _plain_ascii(uri) or "#" in uri:
        return False
    try:
        parts = urlsplit(uri)
        hostname = parts.hostname
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if not _SCHEME.match(parts.scheme) or scheme in _FORBIDDEN_SCHEMES:
        return False
    if scheme in ("http", "https"):
        return bool(hostname)
    return bool(parts.netloc or parts.path)


def _website(website: str | None) -> str | None:
    website = (website or "").strip()
    if not website:
        return None
    try:
        parts = urlsplit(website)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok or len(website) > MAX_URI or not _plain_ascii(website):
        raise Invalid("Validation failed: Website must be an http(s) URL")
    return website


async def register_app(svc: Services, *, name: str | None, redirect_uris: Iterable[str],
                       scopes: str | None, website: str | None) -> NewApp:
    """Register a client application (``POST /api/v1/apps``)."""
    name = (name or "").strip()
    if not name:
        raise Invalid("Validation failed: Application name can't be blank")
    if len(name) > MAX_APP_NAME:
        raise Invalid(f"Validation failed: Application name is too long (maximum is "
                      f"{MAX_APP_NAME} characters)")
    uris = split_redirect_uris(redirect_uris)
    if not uris:
        raise Invalid("Validation failed: Redirect URI can't be blank")
    if len(uris) > MAX_REDIRECT_URIS or not all(valid_redirect_uri(uri) for uri in uris):
        raise Invalid("Validation failed: Redirect URI must be an absolute URI without "
                      "fragment, or urn:ietf:wg:oauth:2.0:oob")
    granted = tokens.parse_scopes(scopes) if scopes and scopes.strip() else DEFAULT_SCOPES
    secret = tokens.new_secret()
    app = await svc.storage.write(
        oauth_store.put_app, name=name, website=_website(website), redirect_uris=uris,
        scopes=granted, client_id=tokens.new_secret(),
        client_secret_hash=tokens.hash_token(secret), created_at=svc.now())
    return NewApp(app, secret)


async def app_of_token(svc: Services, token: Token) -> OAuthApp:
    """The application a token was issued to (``GET /api/v1/apps/verify_credentials``)."""
    if token.app_id is None:
        raise Unauthorized("This token was not issued to an application")
    app = await svc.storage.read(oauth_store.get_app_by_id, token.app_id)
    if app is None:
        raise NotFound("Record not found")
    return app


async def authenticate_client(svc: Services, client_id: str | None,
                              client_secret: str | None) -> OAuthApp:
    """The application whose credentials these are, or ``invalid_client`` (401)."""
    app = None
    if client_id:
        app = await svc.storage.read(oauth_store.get_app_by_client_id, client_id)
    if app is None or not tokens.secret_matches(client_secret or "", app.client_secret_hash):
        raise OAuthError("invalid_client", "Client authentication failed due to unknown "
                         "client, no client authentication included, or unsupported "
                         "authentication method.", status=401)
    return app


def _requested_scopes(app: OAuthApp, scope: str | None) -> frozenset[str]:
    requested = frozenset(scope.split()) if scope and scope.strip() else DEFAULT_SCOPES
    # A granular scope (read:statuses) is allowed when the app registered a broader one (read).
    if not requested <= SCOPES or not requested <= expand_scopes(app.scopes):
        raise OAuthError("invalid_scope", SCOPE_NOT_ALLOWED)
    return requested


# -- the authorization request ------------------------------------------------------------------

@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked ``GET /oauth/authorize`` request, waiting for the user's decision."""

    app: OAuthApp
    redirect_uri: str
    scopes: frozenset[str]
    state: str | None
    code_challenge: str | None
    code_challenge_method: str | None

    @property
    def out_of_band(self) -> bool:
        """True when the code is to be shown to the user rather than sent back."""
        return self.redirect_uri == OOB_REDIRECT_URI


async def authorization_request(
        svc: Services, *, client_id: str | None, redirect_uri: str | None,
        response_type: str | None, scope: str | None, state: str | None,
        code_challenge: str | None, code_challenge_method: str | None) -> AuthorizationRequest:
    """Check an authorization request. An unknown client or redirect URI raises an OAuthError
    to show to the user (never redirect to an unchecked URI, RFC 6749 §4.1.2.1); other errors
    carry the redirect URI they are to be sent back to (none for the out-of-band URI)."""
    app = None
    if client_id:
        app = await svc.storage.read(oauth_store.get_app_by_client_id, client_id)
    if app is None:
        raise OAuthError("invalid_client", UNKNOWN_APP)
    if not redirect_uri and len(app.redirect_uris) == 1:
        redirect_uri = app.redirect_uris[0]
    if not redirect_uri or redirect_uri not in app.redirect_uris:  # exact match only
        raise OAuthError("invalid_request", BAD_REDIRECT_URI)
    back = None if redirect_uri == OOB_REDIRECT_URI else redirect_uri

    def fail(error: str, message: str) -> OAuthError:
        return OAuthError(error, message, redirect_uri=back, state=state)

    if response_type != "code":
        raise fail("unsupported_response_type", ONLY_CODE)
    try:
        scopes = _requested_scopes(app, scope)
    except OAuthError as exc:
        raise fail(exc.error, exc.message) from None
    if code_challenge:
        if (code_challenge_method or "plain") != PKCE_METHOD:  # RFC 7636: the default is plain
            raise fail("invalid_request", ONLY_S256)
        if not _PKCE_VALUE.match(code_challenge):
            raise fail("invalid_request", BAD_CHALLENGE)
    elif code_challenge_method:
        raise fail("invalid_request", BAD_CHALLENGE)
    return AuthorizationRequest(app, redirect_uri, scopes, state, code_challenge or None,
                                PKCE_METHOD if code_challenge else None)


def _put_code(db: Database, request: AuthorizationRequest, user: User, code_hash: str,
              now: datetime) -> None:
    oauth_store.delete_expired_codes(db, now - USED_CODES_KEPT)
    oauth_store.put_authorization_code(
        db, code_hash=code_hash, app_id=request.app.id, user_id=user.id,
        redirect_uri=request.redirect_uri, scopes=request.scopes,
        code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method,
        created_at=now, expires_at=now + CODE_LIFETIME)


async def issue_code(svc: Services, request: AuthorizationRequest, user: User) -> str:
    """The user approved: a one-time code (valid 10 minutes, stored hashed) for the client."""
    code = tokens.new_secret()
    await svc.storage.write(_put_code, request, user, tokens.hash_token(code), svc.now())
    return code


# -- login --------------------------------------------------------------------------------------

def _login_keys(ip: str, identifier: str) -> tuple[str, str]:
    return f"ip:{ip}", f"login:{identifier.casefold()}"


async def check_login(svc: Services, identifier: str, password: str, *, ip: str) -> User:
    """The user behind an e-mail address (or username) and password. Bad credentials give
    the same answer, after the same hashing work, whether the account exists or not; more
    than 10 failures in 5 minutes from one IP address or for one login name are refused."""
    identifier = identifier.strip()
    keys = _login_keys(ip, identifier)
    stamp = svc.clock()
    wait = svc.login_throttle.acquire(keys, stamp)
    if wait is not None:
        raise RateLimited(TOO_MANY_ATTEMPTS, retry_after=math.ceil(wait))
    found = None
    if identifier:
        found = await svc.storage.read(account_store.get_user_login, identifier)
    ok = await asyncio.to_thread(passwords.check_login_password,
                                 None if found is None else found[1], password)
    if found is None or not ok:
        raise Unauthorized(BAD_CREDENTIALS)
    svc.login_throttle.forgive(keys, stamp)
    user = found[0]
    if user.disabled or not user.approved:
        raise Forbidden(ACCOUNT_UNAVAILABLE)
    return user


# -- the login session and CSRF values of the authorization page -------------------------------

def _mac(svc: Services, purpose: str, data: str) -> str:
    message = f"fediverse-mu/{purpose}\0{data}".encode()
    return hmac.new(svc.config.secret_key.encode(), message, hashlib.sha256).hexdigest()


def new_csrf_nonce() -> str:
    """A fresh per-browser nonce (kept in a cookie) from which the form's CSRF token derives."""
    return tokens.new_secret()


def csrf_token(svc: Services, nonce: str) -> str:
    """The CSRF token of a form: an HMAC of the browser's nonce with the instance secret."""
    return _mac(svc, "csrf", nonce)


def csrf_token_matches(svc: Services, nonce: str | None, token: str | None) -> bool:
    """True when ``token`` is the CSRF token of ``nonce`` (compared in constant time)."""
    if not nonce or not token:
        return False
    return hmac.compare_digest(csrf_token(svc, nonce), token)


def session_value(svc: Services, user: User) -> str:
    """A signed login-session value for a cookie: ``user_id.expiry.hmac``."""
    payload = f"{user.id}.{int(svc.clock() + SESSION_LIFETIME.total_seconds())}"
    return f"{payload}.{_mac(svc, 'session', payload)}"


async def session_login(svc: Services, value: str | None) -> tuple[User, Account] | None:
    """The user (and account) of a valid, unexpired session value, if still allowed in."""
    if not value:
        return None
    payload, _, mac = value.rpartition(".")
    if not hmac.compare_digest(_mac(svc, "session", payload), mac):
        return None
    user_id, _, expires = payload.partition(".")
    if not (user_id.isdigit() and expires.isdigit()) or int(expires) <= svc.clock():
        return None
    user = await svc.storage.read(account_store.get_user_by_id, int(user_id))
    if user is None or user.disabled or not user.approved:
        return None
    account = await svc.storage.read(account_store.get_account_by_id, user.account_id)
    return None if account is None else (user, account)


# -- the token endpoint -------------------------------------------------------------------------

@dataclass(frozen=True)
class TokenRequest:
    """The parameters of ``POST /oauth/token`` (secrets hidden from repr, so never logged)."""

    grant_type: str | None
    client_id: str | None
    client_secret: str | None = field(default=None, repr=False)
    code: str | None = field(default=None, repr=False)
    redirect_uri: str | None = None
    code_verifier: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    scope: str | None = None
    ip: str = ""
    refresh_token: str | None = field(default=None, repr=False)


def _invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def _check_pkce(challenge: str | None, verifier: str | None) -> None:
    if challenge is None:
        return  # no challenge was sent: there is nothing to prove (RFC 7636 is opt-in)
    if not verifier or not _PKCE_VALUE.match(verifier):
        raise _invalid_grant("The code_verifier is missing or malformed")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    if not hmac.compare_digest(expected, challenge):
        raise _invalid_grant("The code_verifier does not match the code_challenge")


def _redeem(db: Database, app: OAuthApp, code_hash: str, redirect_uri: str | None,
            verifier: str | None, now: datetime) -> tokens.IssuedToken | None:
    """Exchange a code for a token in one transaction; any error rolls everything back.
    Returns None for a replayed code, after revoking the token it was first exchanged for."""
    code = oauth_store.get_authorization_code(db, code_hash)
    if code is None or code.app_id != app.id:
        raise _invalid_grant("The authorization code is invalid")
    if code.used_at is not None:
        # RFC 6749 §4.1.2: a code used twice may have been stolen; revoke what it gave (and
        # what its refresh tokens gave since).
        if code.token_id is not None:
            tokens.revoke_grant_in(db, code.token_id, now)
        return None
    if code.expires_at <= now:
        raise _invalid_grant("The authorization code has expired")
    if redirect_uri is None and app.redirect_uris == (code.redirect_uri,):
        redirect_uri = code.redirect_uri  # it could be left out of the authorization request
    if redirect_uri != code.redirect_uri:
        raise _invalid_grant("The redirect_uri does not match the authorization request")
    _check_pkce(code.code_challenge, verifier)
    user = account_store.get_user_by_id(db, code.user_id)
    if user is None or user.disabled or not user.approved:
        raise _invalid_grant(ACCOUNT_UNAVAILABLE)
    issued = tokens.put_token_pair(db, user_id=code.user_id, app_id=app.id,
                                   scopes=code.scopes, now=now)
    if not oauth_store.mark_code_used(db, code.id, used_at=now, token_id=issued.token.id):
        raise _invalid_grant("The authorization code was already used")
    return issued


async def _authorization_code_grant(svc: Services, app: OAuthApp,
                                    request: TokenRequest) -> tokens.IssuedToken:
    if not request.code:
        raise OAuthError("invalid_request", "The code parameter is required")
    issued = await svc.storage.write(_redeem, app, tokens.hash_token(request.code),
                                     request.redirect_uri or None, request.code_verifier,
                                     svc.now())
    if issued is None:
        raise _invalid_grant("The authorization code was already used")
    return issued


async def _password_grant(svc: Services, app: OAuthApp,
                          request: TokenRequest) -> tokens.IssuedToken:
    scopes = _requested_scopes(app, request.scope)
    try:
        user = await check_login(svc, request.username or "", request.password or "",
                                 ip=request.ip)
    except (Unauthorized, Forbidden) as exc:
        raise _invalid_grant(exc.message) from None
    return await svc.storage.write(tokens.put_token_pair, user_id=user.id, app_id=app.id,
                                   scopes=scopes, now=svc.now())


def _refreshed_scopes(granted: frozenset[str], scope: str | None) -> frozenset[str]:
    """RFC 6749 §6: the scopes asked for may narrow those the user granted, never widen them
    (a granular ``read:statuses`` is within a granted ``read``); none asked: all of them."""
    if not scope or not scope.strip():
        return granted
    requested = frozenset(scope.split())
    if not requested <= SCOPES or not requested <= expand_scopes(granted):
        raise OAuthError("invalid_scope", "The requested scope exceeds the scope granted by "
                         "the resource owner")
    return requested


def _rotate(db: Database, app: OAuthApp, token_hash: str, scope: str | None,
            now: datetime) -> tuple[tokens.IssuedToken | None, list[int]]:
    """Exchange a refresh token for a new access token and a new refresh token in one
    transaction (any error rolls everything back). Returns the new pair (None for a reused
    refresh token) and the access tokens this revoked."""
    found = oauth_store.get_refresh_token(db, token_hash)
    if found is None or found.app_id != app.id:
        raise _invalid_grant("The refresh token is invalid")
    if found.rotated_at is not None:
        # A rotated refresh token used again: the client or an attacker holds a stolen copy,
        # there is no telling which, so the whole chain ends (RFC 9700 §4.14.2).
        return None, oauth_store.revoke_refresh_family(db, found.family_id, now)
    if found.revoked_at is not None:
        raise _invalid_grant("The refresh token was revoked")
    user = account_store.get_user_by_id(db, found.user_id)
    if user is None or user.disabled or not user.approved:
        raise _invalid_grant(ACCOUNT_UNAVAILABLE)
    scopes = _refreshed_scopes(found.scopes, scope)
    if not oauth_store.mark_refresh_token_rotated(db, found.id, now):
        raise _invalid_grant("The refresh token is invalid")
    oauth_store.revoke_token(db, found.access_token_id, now)
    issued = tokens.put_token_pair(db, user_id=found.user_id, app_id=app.id, scopes=scopes,
                                   now=now, family_id=found.family_id, granted=found.scopes)
    return issued, [found.access_token_id]


async def _refresh_token_grant(svc: Services, app: OAuthApp,
                               request: TokenRequest) -> tokens.IssuedToken:
    if not request.refresh_token:
        raise OAuthError("invalid_request", "The refresh_token parameter is required")
    issued, revoked = await svc.storage.write(_rotate, app,
                                              tokens.hash_token(request.refresh_token),
                                              request.scope, svc.now())
    tokens.announce_revoked(svc, revoked)
    if issued is None:
        raise _invalid_grant("The refresh token was already used")
    return issued


async def obtain_token(svc: Services, request: TokenRequest) -> tokens.IssuedToken:
    """``POST /oauth/token``: authenticate the client, then run its grant. Raises OAuthError
    (RFC 6749 §5.2) or RateLimited (the password grant's login throttle)."""
    app = await authenticate_client(svc, request.client_id, request.client_secret)
    match request.grant_type:
        case "authorization_code":
            return await _authorization_code_grant(svc, app, request)
        case "password":  # Mastodon.py's log_in(username, password) and toot use it
            return await _password_grant(svc, app, request)
        case "refresh_token":
            return await _refresh_token_grant(svc, app, request)
        case "client_credentials":  # an app-only token, with no user behind it (and no
            # refresh token: the client can ask for another, RFC 6749 §4.4.3)
            scopes = _requested_scopes(app, request.scope)
            return await tokens.issue_token(svc, user_id=None, app_id=app.id, scopes=scopes)
        case None | "":
            raise OAuthError("invalid_request", "The grant_type parameter is required")
        case _:
            raise OAuthError("unsupported_grant_type", "The authorization grant type is not "
                             "supported by the authorization server.")


async def revoke_token(svc: Services, *, client_id: str | None, client_secret: str | None,
                       token: str | None) -> None:
    """``POST /oauth/revoke`` (RFC 7009): the client revokes one of its own access or refresh
    tokens, with the rest of its grant. An unknown or already revoked token is not an error
    (§2.2); ``token_type_hint`` is not needed, both kinds are looked for (§2.1)."""
    app = await authenticate_client(svc, client_id, client_secret)
    if not token:
        raise OAuthError("invalid_request", "The token parameter is required")
    found = await tokens.find_live_token(svc, token)
    refresh = None if found is not None else await tokens.find_live_refresh_token(svc, token)
    owner = found or refresh
    if owner is None:
        return
    if owner.app_id != app.id:
        raise OAuthError("unauthorized_client", "You are not authorized to revoke this token",
                         status=403)
    if found is not None:
        await tokens.revoke(svc, found)
    elif refresh is not None:
        await tokens.revoke_refresh(svc, refresh)
