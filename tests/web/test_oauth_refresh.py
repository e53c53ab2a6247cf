"""OAuth 2 refresh tokens (RFC 6749 §6): issued with the authorization code and password
grants (not client credentials), stored by hash, rotated on each use (the old access and
refresh tokens stop working), a reused refresh token ending its whole chain (RFC 9700
§4.14.2), scopes narrowed but never widened, revocation by either token (RFC 7009), the server
metadata, and Mastodon.py's ``log_in(refresh_token=…)`` over a real socket. Every refusal also
checks that no token was created, rotated or revoked, and that the old tokens still work."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from mastodon import Mastodon
from mastodon.errors import MastodonUnauthorizedError

from fediverse_mu.events import TOKEN_REVOKED
from fediverse_mu.services import moderation
from fediverse_mu.services.context import Services
from tests.conftest import PASSWORD, RealServer, auth, make_user
from tests.web.test_oauth import (
    REDIRECT,
    assert_oauth_error,
    get_code,
    me,
    pkce_pair,
    register,
    token_request,
)

Schema = Callable[[Any, str], None]
State = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


async def state(svc: Services) -> State:
    """Every access token's and refresh token's state, to show that a refusal changed none."""
    def run(db: Any) -> State:
        access = db.execute("SELECT id, scopes, revoked_at FROM oauth_tokens ORDER BY id")
        refresh = db.execute("SELECT id, family_id, access_token_id, rotated_at, revoked_at"
                             " FROM oauth_refresh_tokens ORDER BY id")
        return [tuple(row) for row in access], [tuple(row) for row in refresh]
    return await svc.storage.read(run)


async def password_login(client: TestClient, app: dict[str, Any],
                         scope: str = "read write") -> dict[str, Any]:
    response = await token_request(client, app, grant_type="password", username="alice",
                                   password=PASSWORD, scope=scope)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def refresh(client: TestClient, app: dict[str, Any] | None, refresh_token: str,
                  **params: Any) -> Any:
    return await token_request(client, app, grant_type="refresh_token",
                               refresh_token=refresh_token, **params)


async def refreshed(client: TestClient, app: dict[str, Any], refresh_token: str,
                    **params: Any) -> dict[str, Any]:
    response = await refresh(client, app, refresh_token, **params)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def works(client: TestClient, token: str) -> bool:
    response = await me(client, token)
    assert response.status in (200, 401), await response.text()
    return bool(response.status == 200)


def revocations(svc: Services) -> list[int]:
    """The access token ids announced as revoked from now on (streams end on them)."""
    seen: list[int] = []
    svc.events.subscribe(TOKEN_REVOKED, lambda _topic, payload: seen.extend(
        payload["token_ids"]))
    return seen


async def token_id(svc: Services, token: str) -> int:
    digest = hashlib.sha256(token.encode()).hexdigest()

    def run(db: Any) -> int:
        return int(db.execute("SELECT id FROM oauth_tokens WHERE token_hash = ?",
                              [digest]).fetchone()[0])
    return await svc.storage.read(run)


# -- issuing and rotating ----------------------------------------------------------------------

async def test_code_grant_gives_a_refresh_token_that_rotates(
        client: TestClient, svc: Services, assert_schema: Schema) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    verifier, challenge = pkce_pair()
    code = await get_code(client, app, code_challenge=challenge, code_challenge_method="S256")
    response = await token_request(client, app, grant_type="authorization_code", code=code,
                                   redirect_uri=REDIRECT, code_verifier=verifier)
    assert response.status == 200
    first = await response.json()
    assert_schema(first, "Token")
    assert first["scope"] == "read write" and "expires_in" not in first
    assert isinstance(first["refresh_token"], str) and len(first["refresh_token"]) >= 43
    assert first["refresh_token"] != first["access_token"]

    # Only the hash is stored.
    def stored(db: Any) -> list[str]:
        return [row[0] for row in db.execute("SELECT token_hash FROM oauth_refresh_tokens")]
    assert await svc.storage.read(stored) == [
        hashlib.sha256(first["refresh_token"].encode()).hexdigest()]

    announced = revocations(svc)
    old_id = await token_id(svc, first["access_token"])
    second = await refreshed(client, app, first["refresh_token"])
    assert_schema(second, "Token")
    assert second["scope"] == "read write" and second["token_type"] == "Bearer"
    assert "expires_in" not in second
    assert len({first["access_token"], first["refresh_token"], second["access_token"],
                second["refresh_token"]}) == 4
    assert response.headers["Cache-Control"] == "no-store"
    assert await works(client, second["access_token"])
    revoked = await me(client, first["access_token"])
    assert revoked.status == 401
    assert await revoked.json() == {"error": "The access token is invalid"}
    assert announced == [old_id]  # its open streams are ended

    # The new refresh token rotates in turn.
    third = await refreshed(client, app, second["refresh_token"])
    assert await works(client, third["access_token"])
    assert not await works(client, second["access_token"])


async def test_password_grant_refreshes_over_basic_auth_and_json(client: TestClient,
                                                                 svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    first = await password_login(client, app)
    assert first["refresh_token"]
    response = await refresh(client, None, first["refresh_token"],
                             auth=(app["client_id"], app["client_secret"]))
    assert response.status == 200, await response.text()
    second = await response.json()
    response = await client.post("/oauth/token", json={
        "grant_type": "refresh_token", "refresh_token": second["refresh_token"],
        "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert response.status == 200, await response.text()
    third = await response.json()
    assert third["scope"] == "read write"
    assert [await works(client, body["access_token"]) for body in (first, second, third)] == [
        False, False, True]


async def test_client_credentials_get_no_refresh_token(client: TestClient,
                                                       svc: Services) -> None:
    app = await register(client)
    response = await token_request(client, app, grant_type="client_credentials", scope="read")
    assert response.status == 200
    body = await response.json()
    assert "refresh_token" not in body  # RFC 6749 §4.4.3
    assert (await state(svc))[1] == []


async def test_authorization_server_metadata_lists_the_refresh_grant(
        client: TestClient) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status == 200
    assert "refresh_token" in (await response.json())["grant_types_supported"]


# -- reuse -------------------------------------------------------------------------------------

async def test_a_reused_refresh_token_revokes_its_whole_chain(client: TestClient,
                                                              svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    first = await password_login(client, app)
    elsewhere = await password_login(client, app)  # another login: another chain
    second = await refreshed(client, app, first["refresh_token"])
    third = await refreshed(client, app, second["refresh_token"])
    announced = revocations(svc)
    current_id = await token_id(svc, third["access_token"])

    # The first refresh token again: a stolen copy is in play, the chain ends.
    response = await refresh(client, app, first["refresh_token"])
    await assert_oauth_error(response, 400, "invalid_grant")
    assert not await works(client, third["access_token"])
    assert announced == [current_id]
    for used in (third, second, first):
        response = await refresh(client, app, used["refresh_token"])
        await assert_oauth_error(response, 400, "invalid_grant")
    # The other login is untouched.
    assert await works(client, elsewhere["access_token"])
    assert await works(client, (await refreshed(client, app, elsewhere["refresh_token"]))[
        "access_token"])


async def test_two_refreshes_racing_with_one_token_end_the_chain(client: TestClient,
                                                                 svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    first = await password_login(client, app)
    responses = await asyncio.gather(*(refresh(client, app, first["refresh_token"])
                                       for _ in range(2)))
    assert sorted(r.status for r in responses) == [200, 400]
    winner = next(r for r in responses if r.status == 200)
    # The second use is a reuse: what the first one gave is revoked too (RFC 9700 §4.14.2).
    assert not await works(client, (await winner.json())["access_token"])
    assert not await works(client, first["access_token"])


async def test_a_replayed_code_revokes_the_tokens_refreshed_from_it(client: TestClient,
                                                                    svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    code = await get_code(client, app)
    response = await token_request(client, app, grant_type="authorization_code", code=code,
                                   redirect_uri=REDIRECT)
    first = await response.json()
    second = await refreshed(client, app, first["refresh_token"])
    response = await token_request(client, app, grant_type="authorization_code", code=code,
                                   redirect_uri=REDIRECT)
    await assert_oauth_error(response, 400, "invalid_grant")
    assert not await works(client, second["access_token"])  # RFC 6749 §4.1.2
    response = await refresh(client, app, second["refresh_token"])
    await assert_oauth_error(response, 400, "invalid_grant")


# -- refusals that change nothing --------------------------------------------------------------

async def test_refresh_token_of_another_client_is_refused(client: TestClient,
                                                          svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    other = await register(client)
    first = await password_login(client, app)
    before = await state(svc)
    response = await refresh(client, other, first["refresh_token"])
    await assert_oauth_error(response, 400, "invalid_grant")
    assert await state(svc) == before
    assert await works(client, first["access_token"])
    assert await works(client, (await refreshed(client, app, first["refresh_token"]))[
        "access_token"])


async def test_wrong_client_credentials_and_bad_refresh_tokens(client: TestClient,
                                                               svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    first = await password_login(client, app)
    before = await state(svc)
    for credentials in ({"client_id": app["client_id"], "client_secret": "wrong"},
                        {"client_id": app["client_id"]},
                        {"client_id": "unknown", "client_secret": app["client_secret"]}):
        response = await client.post("/oauth/token", data={
            "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
            **credentials})
        await assert_oauth_error(response, 401, "invalid_client")
    response = await refresh(client, None, first["refresh_token"],
                             auth=(app["client_id"], "wrong"))
    await assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    response = await token_request(client, app, grant_type="refresh_token")
    await assert_oauth_error(response, 400, "invalid_request")
    for made_up in ("made-up", first["access_token"]):
        response = await refresh(client, app, made_up)
        await assert_oauth_error(response, 400, "invalid_grant")
    assert await state(svc) == before
    assert await works(client, first["access_token"])
    assert await works(client, (await refreshed(client, app, first["refresh_token"]))[
        "access_token"])


@pytest.mark.parametrize("scope", ["read write follow", "write:statuses read push", "bogus"])
async def test_widened_scope_is_refused(client: TestClient, svc: Services,
                                        scope: str) -> None:
    await make_user(svc, "alice")
    app = await register(client)  # the app may ask for read write follow push
    first = await password_login(client, app, scope="read write")
    before = await state(svc)
    response = await refresh(client, app, first["refresh_token"], scope=scope)
    await assert_oauth_error(response, 400, "invalid_scope")
    assert await state(svc) == before
    assert await works(client, first["access_token"])
    second = await refreshed(client, app, first["refresh_token"])
    assert second["scope"] == "read write"


async def test_narrowed_scope_is_enforced(client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    first = await password_login(client, app, scope="read write")
    narrow = await refreshed(client, app, first["refresh_token"], scope="read")
    assert narrow["scope"] == "read"
    assert await works(client, narrow["access_token"])
    response = await client.post("/api/v1/statuses", json={"status": "hello"},
                                 headers=auth(narrow["access_token"]))
    assert response.status == 403, await response.text()
    # A granular scope within a granted one is narrower too.
    granular = await refreshed(client, app, narrow["refresh_token"], scope="read:accounts")
    assert granular["scope"] == "read:accounts"
    response = await client.get("/api/v1/timelines/home",
                                headers=auth(granular["access_token"]))
    assert response.status == 403, await response.text()
    # The refresh token keeps the scopes the user granted (RFC 6749 §6): asking for nothing
    # gives them all back, never more.
    full = await refreshed(client, app, granular["refresh_token"])
    assert full["scope"] == "read write"
    response = await client.post("/api/v1/statuses", json={"status": "hello"},
                                 headers=auth(full["access_token"]))
    assert response.status == 200, await response.text()


async def test_disabled_or_suspended_user_cannot_refresh(client: TestClient,
                                                         svc: Services) -> None:
    alice = await make_user(svc, "alice")
    app = await register(client)
    first = await password_login(client, app)

    def set_disabled(db: Any, disabled: bool) -> None:
        db.execute("UPDATE users SET disabled = ? WHERE id = ?", [int(disabled), alice.user.id])

    await svc.storage.write(set_disabled, True)
    before = await state(svc)
    response = await refresh(client, app, first["refresh_token"])
    await assert_oauth_error(response, 400, "invalid_grant")
    assert await state(svc) == before
    await svc.storage.write(set_disabled, False)
    second = await refreshed(client, app, first["refresh_token"])

    # A suspension revokes the user's tokens, and with them their refresh tokens.
    await moderation.act_on_account(svc, None, alice.account.id, "suspend", "spam")
    response = await refresh(client, app, second["refresh_token"])
    await assert_oauth_error(response, 400, "invalid_grant")
    await moderation.act_on_account(svc, None, alice.account.id, "unsuspend")
    response = await refresh(client, app, second["refresh_token"])
    await assert_oauth_error(response, 400, "invalid_grant")


# -- revocation --------------------------------------------------------------------------------

async def test_revoke_by_refresh_token(client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    other = await register(client)
    first = await password_login(client, app)
    second = await refreshed(client, app, first["refresh_token"])
    before = await state(svc)
    response = await client.post("/oauth/revoke", data={
        "token": second["refresh_token"], "client_id": other["client_id"],
        "client_secret": other["client_secret"]})
    await assert_oauth_error(response, 403, "unauthorized_client")
    assert await state(svc) == before
    assert await works(client, second["access_token"])

    announced = revocations(svc)
    response = await client.post("/oauth/revoke", data={
        "token": second["refresh_token"], "token_type_hint": "refresh_token",
        "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert response.status == 200 and await response.json() == {}
    assert not await works(client, second["access_token"])
    assert announced == [await token_id(svc, second["access_token"])]
    response = await refresh(client, app, second["refresh_token"])
    await assert_oauth_error(response, 400, "invalid_grant")
    # Revoking it again, or a rotated one, is not an error (RFC 7009 §2.2).
    for token in (second["refresh_token"], first["refresh_token"]):
        response = await client.post("/oauth/revoke", data={
            "token": token, "client_id": app["client_id"],
            "client_secret": app["client_secret"]})
        assert response.status == 200


async def test_revoking_the_access_token_kills_its_refresh_token(client: TestClient,
                                                                 svc: Services) -> None:
    await make_user(svc, "alice")
    app = await register(client)
    first = await password_login(client, app)
    second = await refreshed(client, app, first["refresh_token"])
    response = await client.post("/oauth/revoke", data={
        "token": second["access_token"], "client_id": app["client_id"],
        "client_secret": app["client_secret"]})
    assert response.status == 200
    response = await refresh(client, app, second["refresh_token"])
    await assert_oauth_error(response, 400, "invalid_grant")
    assert all(revoked is not None for *_, revoked in (await state(svc))[1])


# -- Mastodon.py, over a real socket ------------------------------------------------------------

async def test_mastodon_py_logs_in_again_with_its_refresh_token(
        real_server: RealServer) -> None:
    base = real_server.base_url
    await make_user(real_server.svc, "alice")

    def flow() -> tuple[str, str, str, dict[str, Any]]:
        client_id, client_secret = Mastodon.create_app(
            "fediverse-mu tests", scopes=["read", "write"], api_base_url=base)
        api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
        old = api.log_in("alice", PASSWORD, scopes=["read", "write"], allow_http=True)
        # Mastodon.py keeps the refresh token from the Token entity, without a public getter.
        refresh_token = api._refresh_token
        assert isinstance(refresh_token, str)
        new = api.log_in(refresh_token=refresh_token, scopes=["read"], allow_http=True)
        account = api.account_verify_credentials()
        assert api._refresh_token not in (None, refresh_token)
        stale = Mastodon(access_token=old, api_base_url=base)
        try:
            stale.account_verify_credentials()
        except MastodonUnauthorizedError as exc:
            return old, new, str(exc), account
        raise AssertionError("the old access token still works")

    old, new, error, account = await asyncio.to_thread(flow)
    assert old != new and account["username"] == "alice"
    assert "The access token is invalid" in error
