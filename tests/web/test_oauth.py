"""OAuth 2 login as Mastodon clients do it: app registration, the authorization page (code
flow with PKCE, out-of-band codes, login sessions, CSRF), the token endpoint's grants and
errors (RFC 6749 §5.2), revocation, server metadata, the login throttle, and Mastodon.py end
to end against a real socket. Every refusal also checks that nothing was created or used."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import logging
import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from mastodon import Mastodon

from fediverse_mu.appkeys import services_key
from fediverse_mu.services import oauth as oauth_service
from fediverse_mu.services.context import Services
from fediverse_mu.services.throttle import Throttle
from fediverse_mu.web import i18n, session
from fediverse_mu.web import oauth as oauth_web
from tests.conftest import PASSWORD, FakeClock, RealServer, count, make_token, make_user

REDIRECT = "https://client.example/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"
Schema = Callable[[Any, str], None]


def _svc(client: TestClient) -> Services:
    return client.server.app[services_key]


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def tokens_count(svc: Services) -> int:
    return await count(svc, "SELECT count(*) FROM oauth_tokens")


async def used_codes(svc: Services) -> int:
    return await count(svc, "SELECT count(*) FROM oauth_authorization_codes"
                            " WHERE used_at IS NOT NULL")


async def register(client: TestClient, *, redirect_uris: str = REDIRECT,
                   scopes: str = "read write follow push") -> dict[str, Any]:
    response = await client.post("/api/v1/apps", data={
        "client_name": "Test client", "redirect_uris": redirect_uris, "scopes": scopes,
        "website": "https://client.example"})
    assert response.status == 200, await response.text()
    app: dict[str, Any] = await response.json()
    return app


def hidden_fields(page: str) -> dict[str, str]:
    inputs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in inputs}


async def authorize_page(client: TestClient, app: dict[str, Any], **params: str) -> str:
    query = {"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code",
             "scope": "read write", "state": "xyz", **params}
    response = await client.get("/oauth/authorize?" + urlencode(query))
    assert response.status == 200, await response.text()
    assert response.content_type == "text/html"
    return await response.text()


async def submit(client: TestClient, page: str, *, username: str | None = "alice",
                 password: str | None = PASSWORD, decision: str = "approve",
                 headers: dict[str, str] | None = None, **overrides: str) -> Any:
    form = {**hidden_fields(page), "decision": decision, **overrides}
    if username is not None:
        form["username"] = username
    if password is not None:
        form["password"] = password
    return await client.post("/oauth/authorize", data=form, allow_redirects=False,
                             headers=headers)


def redirect_params(response: Any) -> dict[str, str]:
    assert response.status == 302, response.status
    location = response.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def get_code(client: TestClient, app: dict[str, Any], **params: str) -> str:
    response = await submit(client, await authorize_page(client, app, **params))
    found = redirect_params(response)
    assert found["state"] == "xyz"
    return found["code"]


async def token_request(client: TestClient, app: dict[str, Any] | None, *,
                        auth: tuple[str, str] | None = None, **params: str) -> Any:
    body = dict(params)
    if app is not None:
        body.update(client_id=app["client_id"], client_secret=app["client_secret"])
    headers = {}
    if auth is not None:
        raw = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {raw}"
    return await client.post("/oauth/token", data=body, headers=headers)


async def assert_oauth_error(response: Any, status: int, error: str) -> None:
    assert response.status == status, await response.text()
    body = await response.json()
    assert body["error"] == error
    assert isinstance(body["error_description"], str) and body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"


async def me(client: TestClient, token: str) -> Any:
    return await client.get("/api/v1/accounts/verify_credentials",
                            headers={"Authorization": f"Bearer {token}"})


# -- discovery and app registration ------------------------------------------------------------

async def test_authorization_server_metadata(client: TestClient) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status == 200
    meta = await response.json()
    assert meta["issuer"] == "http://a.test/"
    assert meta["authorization_endpoint"] == "http://a.test/oauth/authorize"
    assert meta["token_endpoint"] == "http://a.test/oauth/token"
    assert meta["revocation_endpoint"] == "http://a.test/oauth/revoke"
    assert meta["app_registration_endpoint"] == "http://a.test/api/v1/apps"
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["grant_types_supported"]) == {"authorization_code", "password",
                                                  "client_credentials", "refresh_token"}
    assert {"client_secret_basic", "client_secret_post"} <= set(
        meta["token_endpoint_auth_methods_supported"])
    assert {"read", "write", "follow", "push", "profile", "read:statuses"} <= set(
        meta["scopes_supported"])
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_apps_create_matches_the_openapi_shape(
        client: TestClient, svc: Services, assert_schema: Schema) -> None:
    # Mastodon.py joins several redirect URIs with newlines in one form field.
    response = await client.post("/api/v1/apps", data={
        "client_name": "Tusky", "redirect_uris": f"{REDIRECT}\ntusky://oauth",
        "scopes": "read write follow push", "website": "https://tusky.app"})
    assert response.status == 200
    body = await response.json()
    assert_schema(body, "CredentialApplication")
    assert body["name"] == "Tusky" and body["website"] == "https://tusky.app"
    assert body["redirect_uris"] == [REDIRECT, "tusky://oauth"]
    assert body["redirect_uri"] == f"{REDIRECT}\ntusky://oauth"
    assert set(body["scopes"]) == {"read", "write", "follow", "push"}
    assert body["client_id"] and body["client_secret"] and body["vapid_key"] == ""
    # Only the secret's hash is stored.
    assert await count(svc, "SELECT count(*) FROM oauth_apps WHERE client_secret_hash = ?",
                       hashlib.sha256(body["client_secret"].encode()).hexdigest()) == 1
    assert await count(svc, "SELECT count(*) FROM oauth_apps WHERE client_secret_hash = ?",
                       body["client_secret"]) == 0


async def test_apps_create_accepts_json_arrays_and_defaults_to_read(
        client: TestClient, assert_schema: Schema) -> None:
    response = await client.post("/api/v1/apps", json={
        "client_name": "Elk", "redirect_uris": ["https://elk.example/a", "https://elk.example/b"]})
    assert response.status == 200
    body = await response.json()
    assert_schema(body, "CredentialApplication")
    assert body["scopes"] == ["read"] and body["website"] is None
    assert body["redirect_uris"] == ["https://elk.example/a", "https://elk.example/b"]


@pytest.mark.parametrize("fields", [
    {"redirect_uris": REDIRECT},                                     # no name
    {"client_name": "x"},                                            # no redirect URI
    {"client_name": "x", "redirect_uris": "javascript:alert(1)"},
    {"client_name": "x", "redirect_uris": "/relative/path"},
    {"client_name": "x", "redirect_uris": "https://client.example/cb#fragment"},
    {"client_name": "x", "redirect_uris": REDIRECT, "scopes": "read launch:missiles"},
    {"client_name": "x", "redirect_uris": REDIRECT, "website": "javascript:alert(1)"},
    {"client_name": "x" * 61, "redirect_uris": REDIRECT},
])
async def test_apps_create_refuses_bad_input(client: TestClient, svc: Services,
                                             fields: dict[str, str]) -> None:
    response = await client.post("/api/v1/apps", data=fields)
    assert response.status == 422
    assert "error" in await response.json()
    assert await count(svc, "SELECT count(*) FROM oauth_apps") == 0


async def test_apps_create_refuses_a_json_array_body(client: TestClient) -> None:
    response = await client.post("/api/v1/apps", data=b"[1]",
                                 headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert "error" in await response.json()


# -- Mastodon.py, end to end over a real socket -------------------------------------------------

async def test_mastodon_py_logs_in_with_a_password_and_a_code(real_server: RealServer) -> None:
    base = real_server.base_url
    await make_user(real_server.svc, "alice")

    def password_flow() -> tuple[str, str, Any, Mastodon]:
        client_id, client_secret = Mastodon.create_app(
            "fediverse-mu tests", scopes=["read", "write"], api_base_url=base)
        api = Mastodon(client_id=client_id, client_secret=client_secret,
                       api_base_url=base)
        token = api.log_in("alice@example.test", PASSWORD, scopes=["read", "write"],
                           allow_http=True)
        again = Mastodon(client_id=client_id, client_secret=client_secret,
                         api_base_url=base)
        by_name = again.log_in("alice", PASSWORD, scopes=["read"], allow_http=True)
        return token, by_name, api.account_verify_credentials(), api

    token, by_name, account, api = await asyncio.to_thread(password_flow)
    assert account["username"] == "alice" and account["acct"] == "alice"
    assert token != by_name

    # The code flow: Mastodon.py builds the authorization URL, a browser approves.
    url = await asyncio.to_thread(api.auth_request_url, redirect_uris=OOB,
                                  scopes=["read"], allow_http=True)
    assert url.startswith(f"{base}/oauth/authorize?")
    # A browser: it keeps cookies, even for an IP-address host.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as browser:
        async with browser.get(url) as response:
            assert response.status == 200
            page = await response.text()
        form = {**hidden_fields(page), "username": "alice", "password": PASSWORD,
                "decision": "approve"}
        async with browser.post(f"{base}/oauth/authorize", data=form) as response:
            assert response.status == 200
            shown = await response.text()
    code = re.search(r'<code class="oauth-code">([^<]+)</code>', shown)
    assert code is not None

    def code_flow() -> Any:
        api.log_in(code=code.group(1), scopes=["read"], allow_http=True)
        return api.account_verify_credentials()

    assert (await asyncio.to_thread(code_flow))["username"] == "alice"


# -- the authorization code flow, by hand ------------------------------------------------------

async def test_code_flow_with_pkce(client: TestClient, svc: Services, assert_schema: Schema,
                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await make_user(svc, "alice")
    app = await register(client)
    verifier, challenge = pkce_pair()
    page = await authorize_page(client, app, code_challenge=challenge,
                                code_challenge_method="S256")
    assert '<html lang="fr">' in page and "Autoriser une application" in page
    assert "Test client" in page and 'name="password"' in page
    assert hidden_fields(page)["csrf_token"]
    response = await submit(client, await authorize_page(
        client, app, code_challenge=challenge, code_challenge_method="S256"))
    found = redirect_params(response)
    assert response.headers["Location"].startswith(REDIRECT + "?")
    assert found["state"] == "xyz"
    code = found["code"]
    assert await count(svc, "SELECT count(*) FROM oauth_authorization_codes"
                            " WHERE code_hash = ?", hashlib.sha256(code.encode()).hexdigest()) == 1

    response = await token_request(client, app, grant_type="authorization_code", code=code,
                                   redirect_uri=REDIRECT, code_verifier=verifier)
    assert response.status == 200
    body = await response.json()
    assert_schema(body, "Token")
    assert body["token_type"] == "Bearer" and set(body["scope"].split()) == {"read", "write"}
    assert response.headers["Cache-Control"] == "no-store"
    account = await me(client, body["access_token"])
    assert account.status == 200 and (await account.json())["username"] == "alice"
    assert await used_codes(svc) == 1
    for secret in (PASSWORD, code, verifier, body["access_token"], app["client_secret"]):
        assert secret not in caplog.text


async def test_authorize_page_in_english_keeps_the_request_in_language_links(
        client: TestClient, svc: Services) -> None:
    app = await register(client)
    page = await authorize_page(client, app, lang="en")
    assert '<html lang="en">' in page and "Authorize an application" in page
    links = re.findall(r'href="\?([^"]+)" lang="fr"', page)
    assert links and "client_id=" in html.unescape(links[0])
    assert "form-action 'self' https://client.example" in client_csp(await client.get(
        "/oauth/authorize?" + urlencode({"client_id": app["client_id"], "response_type": "code",
                                         "redirect_uri": REDIRECT})))


def client_csp(response: Any) -> str:
    return str(response.headers["Content-Security-Policy"])


async def test_out_of_band_code_is_shown(client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client, redirect_uris=OOB)
    page = await authorize_page(client, app, redirect_uri=OOB)
    response = await submit(client, page)
    assert response.status == 200 and response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    shown = await response.text()
    assert "Code d'autorisation" in html.unescape(shown)
    code = re.search(r'<code class="oauth-code">([^<]+)</code>', shown)
    assert code is not None
    response = await token_request(client, app, grant_type="authorization_code",
                                   code=code.group(1), redirect_uri=OOB)
    assert response.status == 200
    assert (await me(client, (await response.json())["access_token"])).status == 200


async def test_deny_sends_access_denied_back_without_a_code(client: TestClient,
                                                            svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    response = await submit(client, await authorize_page(client, app), username=None,
                            password=None, decision="deny")
    assert redirect_params(response) == {
        "error": "access_denied", "state": "xyz",
        "error_description": "The resource owner denied the request."}
    assert await count(svc, "SELECT count(*) FROM oauth_authorization_codes") == 0


async def test_login_session_skips_the_password_unless_force_login(
        client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    await get_code(client, app)  # logs in: the browser now holds a session cookie
    page = await authorize_page(client, app)
    assert "@alice" in page and 'name="password"' not in page
    code = redirect_params(await submit(client, page, username=None, password=None))["code"]
    assert code
    forced = await authorize_page(client, app, force_login="true")
    assert 'name="password"' in forced
    assert hidden_fields(forced)["force_login"] == "true"
    response = await submit(client, forced, username=None, password=None)
    assert response.status == 422  # the session is ignored: credentials are needed
    assert await count(svc, "SELECT count(*) FROM oauth_authorization_codes") == 2


async def test_a_forged_session_cookie_is_ignored(client: TestClient, svc: Services) -> None:
    alice = await make_user(svc, "alice")
    app = await register(client)
    client.session.cookie_jar.update_cookies(
        {session.SESSION_COOKIE: f"{alice.user.id}.9999999999.{'0' * 64}"})
    page = await authorize_page(client, app)
    assert 'name="password"' in page


async def test_client_credentials_and_app_verify_credentials(
        client: TestClient, svc: Services, assert_schema: Schema) -> None:
    app = await register(client)
    response = await token_request(client, app, grant_type="client_credentials",
                                   scope="read")
    assert response.status == 200
    body = await response.json()
    assert_schema(body, "Token")
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    response = await client.get("/api/v1/apps/verify_credentials", headers=headers)
    assert response.status == 200
    entity = await response.json()
    assert_schema(entity, "Application")
    assert entity["name"] == "Test client" and "client_secret" not in entity
    # An app-only token acts for no user.
    assert (await me(client, body["access_token"])).status == 401
    # A token minted from the CLI belongs to no app.
    cli = await make_token(svc, "alice")
    response = await client.get("/api/v1/apps/verify_credentials",
                                headers={"Authorization": f"Bearer {cli}"})
    assert response.status == 401


async def test_client_credentials_over_basic_auth_and_json(client: TestClient) -> None:
    app = await register(client)
    response = await token_request(client, None, auth=(app["client_id"], app["client_secret"]),
                                   grant_type="client_credentials")
    assert response.status == 200
    assert (await response.json())["scope"] == "read"
    response = await client.post("/oauth/token", json={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": "write"})
    assert response.status == 200
    assert (await response.json())["scope"] == "write"


async def test_revoke(client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    other = await register(client)
    response = await token_request(client, app, grant_type="password", username="alice",
                                   password=PASSWORD, scope="read")
    token = (await response.json())["access_token"]
    assert (await me(client, token)).status == 200
    # Another app may not revoke it.
    response = await client.post("/oauth/revoke", data={
        "token": token, "client_id": other["client_id"],
        "client_secret": other["client_secret"]})
    await assert_oauth_error(response, 403, "unauthorized_client")
    assert (await me(client, token)).status == 200
    # Nor may someone without the app's secret.
    response = await client.post("/oauth/revoke", data={
        "token": token, "client_id": app["client_id"], "client_secret": "wrong"})
    await assert_oauth_error(response, 401, "invalid_client")
    assert (await me(client, token)).status == 200
    response = await client.post("/oauth/revoke", data={
        "token": token, "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert response.status == 200 and await response.json() == {}
    revoked = await me(client, token)
    assert revoked.status == 401
    assert await revoked.json() == {"error": "The access token is invalid"}
    # Revoking again, or an unknown token, is not an error (RFC 7009 §2.2).
    response = await client.post("/oauth/revoke", data={
        "token": token, "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert response.status == 200


# -- the password grant and scopes --------------------------------------------------------------

async def test_password_grant_by_email_or_username(client: TestClient, svc: Services,
                                                   assert_schema: Schema) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    for username in ("alice@example.test", "ALICE"):
        response = await token_request(client, app, grant_type="password", username=username,
                                       password=PASSWORD, scope="read write")
        assert response.status == 200
        body = await response.json()
        assert_schema(body, "Token")
        assert (await me(client, body["access_token"])).status == 200


async def test_wrong_password_and_unknown_user_look_the_same(client: TestClient,
                                                            svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    bodies = []
    for username, password in (("alice", "wrong password"), ("nobody", PASSWORD),
                               ("nobody@example.test", PASSWORD)):
        response = await token_request(client, app, grant_type="password", username=username,
                                       password=password)
        await assert_oauth_error(response, 400, "invalid_grant")
        bodies.append(await response.json())
    assert bodies[0] == bodies[1] == bodies[2]
    assert await tokens_count(svc) == 0


async def test_scope_beyond_the_app_is_refused(client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client, scopes="read")
    for grant in ({"grant_type": "password", "username": "alice", "password": PASSWORD},
                  {"grant_type": "client_credentials"}):
        for scope in ("read write", "admin:read", "nonsense"):
            response = await token_request(client, app, scope=scope, **grant)
            await assert_oauth_error(response, 400, "invalid_scope")
    # A granular scope inside a registered one is fine.
    response = await token_request(client, app, grant_type="client_credentials",
                                   scope="read:statuses")
    assert response.status == 200
    assert await tokens_count(svc) == 1
    # On the authorization page the error goes back to the client.
    response = await client.get("/oauth/authorize?" + urlencode({
        "client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code",
        "scope": "read write", "state": "s1"}), allow_redirects=False)
    assert redirect_params(response) | {"error_description": ""} == {
        "error": "invalid_scope", "state": "s1", "error_description": ""}


async def test_token_without_the_scope_is_403_and_profile_is_enough(
        client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client, scopes="write profile")
    response = await token_request(client, app, grant_type="password", username="alice",
                                   password=PASSWORD, scope="write")
    response = await me(client, (await response.json())["access_token"])
    assert response.status == 403
    assert "scope" in (await response.json())["error"]
    response = await token_request(client, app, grant_type="password", username="alice",
                                   password=PASSWORD, scope="profile")
    assert (await me(client, (await response.json())["access_token"])).status == 200


# -- refusals: each leaves nothing behind -------------------------------------------------------

async def test_wrong_redirect_uri_on_authorize_is_shown_not_followed(
        client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    response = await client.get("/oauth/authorize?" + urlencode({
        "client_id": app["client_id"], "redirect_uri": "https://evil.example/cb",
        "response_type": "code"}), allow_redirects=False)
    assert response.status == 400 and "Location" not in response.headers
    assert "n'est pas enregistrée" in html.unescape(await response.text())
    # A tampered hidden field on the form is refused the same way, and no code is issued.
    page = await authorize_page(client, app)
    response = await submit(client, page, redirect_uri="https://evil.example/cb")
    assert response.status == 400 and "Location" not in response.headers
    response = await submit(client, page, redirect_uri=REDIRECT + "/")  # exact match only
    assert response.status == 400
    assert await count(svc, "SELECT count(*) FROM oauth_authorization_codes") == 0


async def test_unknown_client_on_authorize(client: TestClient) -> None:
    response = await client.get("/oauth/authorize?client_id=nope&response_type=code"
                                "&redirect_uri=" + REDIRECT, allow_redirects=False)
    assert response.status == 400 and "Location" not in response.headers
    assert "Application inconnue" in await response.text()


async def test_wrong_redirect_uri_on_token(client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client, redirect_uris=f"{REDIRECT} https://client.example/other")
    code = await get_code(client, app)
    for redirect_uri in ("https://client.example/other", None):
        params = {"grant_type": "authorization_code", "code": code}
        if redirect_uri:
            params["redirect_uri"] = redirect_uri
        response = await token_request(client, app, **params)
        await assert_oauth_error(response, 400, "invalid_grant")
    assert await tokens_count(svc) == 0 and await used_codes(svc) == 0
    response = await token_request(client, app, grant_type="authorization_code", code=code,
                                   redirect_uri=REDIRECT)
    assert response.status == 200  # the code was not burnt by the failures


async def test_reused_code_is_refused_and_revokes_the_first_token(
        client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    code = await get_code(client, app)
    first = await token_request(client, app, grant_type="authorization_code", code=code,
                                redirect_uri=REDIRECT)
    token = (await first.json())["access_token"]
    assert (await me(client, token)).status == 200
    again = await token_request(client, app, grant_type="authorization_code", code=code,
                                redirect_uri=REDIRECT)
    await assert_oauth_error(again, 400, "invalid_grant")
    assert await tokens_count(svc) == 1  # no new token…
    assert (await me(client, token)).status == 401  # …and the first one is revoked (§4.1.2)


async def test_expired_code(clocked: TestClient, clock: FakeClock) -> None:
    svc = _svc(clocked)
    await make_user(svc, "alice")
    app = await register(clocked)
    code = await get_code(clocked, app)
    clock.advance(10 * 60 + 1)
    response = await token_request(clocked, app, grant_type="authorization_code", code=code,
                                   redirect_uri=REDIRECT)
    await assert_oauth_error(response, 400, "invalid_grant")
    assert "expired" in (await response.json())["error_description"]
    assert await tokens_count(svc) == 0 and await used_codes(svc) == 0


async def test_code_just_inside_its_lifetime_works(clocked: TestClient, clock: FakeClock) -> None:
    await make_user(_svc(clocked), "alice")
    app = await register(clocked)
    code = await get_code(clocked, app)
    clock.advance(10 * 60 - 1)
    response = await token_request(clocked, app, grant_type="authorization_code", code=code,
                                   redirect_uri=REDIRECT)
    assert response.status == 200


async def test_wrong_or_missing_pkce_verifier(client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    verifier, challenge = pkce_pair()
    code = await get_code(client, app, code_challenge=challenge, code_challenge_method="S256")
    other, _ = pkce_pair()
    for extra in ({"code_verifier": other}, {}, {"code_verifier": "short"}):
        response = await token_request(client, app, grant_type="authorization_code",
                                       code=code, redirect_uri=REDIRECT, **extra)
        await assert_oauth_error(response, 400, "invalid_grant")
    assert await tokens_count(svc) == 0 and await used_codes(svc) == 0
    response = await token_request(client, app, grant_type="authorization_code", code=code,
                                   redirect_uri=REDIRECT, code_verifier=verifier)
    assert response.status == 200


@pytest.mark.parametrize("method", ["plain", None, "S512"])
async def test_pkce_other_than_s256_is_refused(client: TestClient, svc: Services,
                                               method: str | None) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    query = {"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code",
             "state": "s", "code_challenge": "a" * 43}
    if method is not None:
        query["code_challenge_method"] = method
    response = await client.get("/oauth/authorize?" + urlencode(query), allow_redirects=False)
    assert redirect_params(response)["error"] == "invalid_request"
    # Posting the form by hand with such a challenge issues no code either.
    page = await authorize_page(client, app)
    response = await submit(client, page, code_challenge="a" * 43,
                            code_challenge_method=method or "")
    assert redirect_params(response)["error"] == "invalid_request"
    assert await count(svc, "SELECT count(*) FROM oauth_authorization_codes") == 0


async def test_code_of_another_client_is_refused(client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    thief = await register(client)
    code = await get_code(client, app)
    response = await token_request(client, thief, grant_type="authorization_code", code=code,
                                   redirect_uri=REDIRECT)
    await assert_oauth_error(response, 400, "invalid_grant")
    assert await tokens_count(svc) == 0 and await used_codes(svc) == 0


async def test_wrong_client_secret_and_unknown_client(client: TestClient,
                                                      svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    code = await get_code(client, app)
    attempts = [
        {"client_id": app["client_id"], "client_secret": "wrong"},
        {"client_id": app["client_id"]},
        {"client_id": "unknown", "client_secret": app["client_secret"]},
        {},
    ]
    for credentials in attempts:
        response = await client.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            **credentials})
        await assert_oauth_error(response, 401, "invalid_client")
        assert "WWW-Authenticate" not in response.headers
    response = await token_request(client, None, auth=(app["client_id"], "wrong"),
                                   grant_type="client_credentials")
    await assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    response = await client.post("/oauth/token", data={"grant_type": "client_credentials"},
                                 headers={"Authorization": "Basic !!notbase64"})
    await assert_oauth_error(response, 401, "invalid_client")
    assert await tokens_count(svc) == 0 and await used_codes(svc) == 0


async def test_two_different_client_credentials_are_refused(client: TestClient,
                                                            svc: Services) -> None:
    app = await register(client)
    other = await register(client)
    response = await token_request(client, other, auth=(app["client_id"], app["client_secret"]),
                                   grant_type="client_credentials")
    await assert_oauth_error(response, 400, "invalid_request")
    assert await tokens_count(svc) == 0


@pytest.mark.parametrize(("grant_type", "error"), [
    ("implicit", "unsupported_grant_type"),
    ("urn:ietf:params:oauth:grant-type:device_code", "unsupported_grant_type"),
    ("", "invalid_request"),
])
async def test_unsupported_or_missing_grant_type(client: TestClient, svc: Services,
                                                 grant_type: str, error: str) -> None:
    app = await register(client)
    response = await token_request(client, app, grant_type=grant_type)
    await assert_oauth_error(response, 400, error)
    assert await tokens_count(svc) == 0


async def test_malformed_token_requests(client: TestClient, svc: Services) -> None:
    app = await register(client)
    response = await client.post("/oauth/token", data=b"{not json",
                                 headers={"Content-Type": "application/json"})
    await assert_oauth_error(response, 400, "invalid_request")
    response = await token_request(client, app, grant_type="authorization_code")
    await assert_oauth_error(response, 400, "invalid_request")  # no code
    response = await token_request(client, app, grant_type="authorization_code",
                                   code="made-up", redirect_uri=REDIRECT)
    await assert_oauth_error(response, 400, "invalid_grant")
    assert await tokens_count(svc) == 0


@pytest.mark.parametrize("csrf", [None, "", "0" * 64])
async def test_csrf_token_missing_or_wrong(client: TestClient, svc: Services,
                                           csrf: str | None) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    page = await authorize_page(client, app)
    form = {**hidden_fields(page), "username": "alice", "password": PASSWORD,
            "decision": "approve"}
    if csrf is None:
        del form["csrf_token"]
    else:
        form["csrf_token"] = csrf
    response = await client.post("/oauth/authorize", data=form, allow_redirects=False)
    assert response.status == 403 and "Location" not in response.headers
    assert "Le formulaire a expiré" in await response.text()
    assert await count(svc, "SELECT count(*) FROM oauth_authorization_codes") == 0


async def test_csrf_token_from_another_browser_is_refused(client: TestClient,
                                                          svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    victim_page = await authorize_page(client, app)
    client.session.cookie_jar.clear()  # the attacker's browser has its own nonce
    await authorize_page(client, app)
    response = await submit(client, victim_page)
    assert response.status == 403
    assert await count(svc, "SELECT count(*) FROM oauth_authorization_codes") == 0


async def test_wrong_password_on_the_page(client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    response = await submit(client, await authorize_page(client, app), password="nope")
    assert response.status == 422
    text = await response.text()
    assert "Adresse e-mail ou mot de passe incorrect" in text
    assert 'value="alice"' in text  # the login name is kept, the password is not
    assert await count(svc, "SELECT count(*) FROM oauth_authorization_codes") == 0


# -- the login throttle -------------------------------------------------------------------------

async def test_eleventh_failure_from_one_ip_is_throttled(clocked: TestClient,
                                                         clock: FakeClock) -> None:
    svc = _svc(clocked)
    await make_user(svc, "alice")
    app = await register(clocked)
    for attempt in range(10):  # different login names: the IP address is what is counted
        response = await token_request(clocked, app, grant_type="password",
                                       username=f"user{attempt}", password="wrong")
        await assert_oauth_error(response, 400, "invalid_grant")
        clock.advance(1)
    response = await token_request(clocked, app, grant_type="password", username="someone",
                                   password="wrong")
    assert response.status == 429
    assert "error" in await response.json()
    assert 0 < int(response.headers["Retry-After"]) <= 300
    # Even the right password waits until the window has passed.
    response = await token_request(clocked, app, grant_type="password", username="alice",
                                   password=PASSWORD)
    assert response.status == 429
    page = await submit(clocked, await authorize_page(clocked, app))
    assert page.status == 429
    assert "Trop de tentatives" in await page.text()
    assert await tokens_count(svc) == 0
    clock.advance(300)
    response = await token_request(clocked, app, grant_type="password", username="alice",
                                   password=PASSWORD)
    assert response.status == 200


async def test_failures_for_one_account_are_throttled_across_addresses(
        clocked: TestClient, clock: FakeClock) -> None:
    svc = _svc(clocked)
    await make_user(svc, "alice")
    app = await register(clocked)
    for attempt in range(10):  # behind the local reverse proxy: X-Forwarded-For is trusted
        response = await clocked.post("/oauth/token", data={
            "grant_type": "password", "username": "alice", "password": f"wrong{attempt}",
            "client_id": app["client_id"], "client_secret": app["client_secret"]},
            headers={"X-Forwarded-For": f"203.0.113.{attempt}"})
        await assert_oauth_error(response, 400, "invalid_grant")
    response = await clocked.post("/oauth/token", data={
        "grant_type": "password", "username": "alice", "password": PASSWORD,
        "client_id": app["client_id"], "client_secret": app["client_secret"]},
        headers={"X-Forwarded-For": "198.51.100.7"})
    assert response.status == 429
    # Another account from the same addresses is not affected.
    await make_user(svc, "bob")
    response = await token_request(clocked, app, grant_type="password", username="bob",
                                   password=PASSWORD)
    assert response.status == 200
    clock.advance(301)
    response = await token_request(clocked, app, grant_type="password", username="alice",
                                   password=PASSWORD)
    assert response.status == 200


async def test_successful_logins_do_not_count(clocked: TestClient) -> None:
    svc = _svc(clocked)
    await make_user(svc, "alice")
    app = await register(clocked)
    for _ in range(12):
        response = await token_request(clocked, app, grant_type="password", username="alice",
                                       password=PASSWORD)
        assert response.status == 200


def test_throttle_sliding_window() -> None:
    throttle = Throttle(limit=3, window=10.0, max_keys=100)
    keys = ("ip:1", "login:a")
    for moment in (0.0, 1.0, 2.0):
        assert throttle.acquire(keys, moment) is None
    assert throttle.acquire(keys, 3.0) == pytest.approx(7.0)  # the first expires at 10
    assert throttle.acquire(("ip:2", "login:a"), 3.0) is not None  # the name is blocked too
    assert throttle.acquire(("ip:2", "login:b"), 3.0) is None
    assert throttle.acquire(keys, 10.0) is None  # one slot freed, and now taken
    assert throttle.acquire(keys, 10.5) is not None
    throttle.forgive(keys, 10.0)  # that attempt succeeded
    assert throttle.acquire(keys, 10.5) is None


def test_throttle_memory_is_bounded() -> None:
    throttle = Throttle(limit=3, window=10.0, max_keys=50)
    for n in range(500):
        throttle.acquire((f"ip:{n}",), float(n))
    assert len(throttle._failures) <= 50


# -- the page's messages are translated ---------------------------------------------------------

def test_messages_shown_on_pages_have_french_translations() -> None:
    french = i18n.catalogue("fr")
    shown = [oauth_service.UNKNOWN_APP, oauth_service.BAD_REDIRECT_URI, oauth_service.ONLY_CODE,
             oauth_service.SCOPE_NOT_ALLOWED, oauth_service.ONLY_S256,
             oauth_service.BAD_CHALLENGE, oauth_service.BAD_CREDENTIALS,
             oauth_service.ACCOUNT_UNAVAILABLE, oauth_service.TOO_MANY_ATTEMPTS,
             oauth_web.CSRF_FAILED]
    assert [message for message in shown if message not in french] == []


def test_token_request_repr_hides_secrets() -> None:
    request = oauth_service.TokenRequest(grant_type="password", client_id="id",
                                         client_secret="s3cret", code="c0de",
                                         code_verifier="v3rifier", username="alice",
                                         password="pa55word")
    text = repr(request)
    assert "alice" in text
    assert not any(secret in text for secret in ("s3cret", "c0de", "v3rifier", "pa55word"))
