"""Registration end to end: the modes (open, approval, invite, closed; the admin's setting over
config.toml), ``POST /api/v1/accounts`` with Mastodon's answers (a Token, 422 with ``details``,
403 when closed), the sign-up page in French and English, invite links (expiry, uses,
revocation, the last use taken once), and an applicant who cannot log in before approval.
Bad input always gets a clear answer and creates nothing."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Forbidden, Role
from fediverse_mu.domain.registration import InvalidFields, SignUp
from fediverse_mu.services import invites, oauth, registration, rules
from fediverse_mu.services.context import Services
from tests.conftest import FakeClock, auth, count, make_token, make_user, ok

GOOD = {"username": "newcomer", "email": "newcomer@example.test",
        "password": "a good long password", "agreement": "true", "locale": "fr"}


def hidden(page: str) -> dict[str, str]:
    inputs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in inputs}


async def app_token(client: TestClient, scopes: str = "read write follow") -> str:
    """A client_credentials token, as apps get before offering sign-up."""
    app = await ok(await client.post("/api/v1/apps", json={
        "client_name": "signup app", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": scopes}))
    body = await ok(await client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": scopes}))
    return str(body["access_token"])


async def users(svc: Services) -> int:
    return await count(svc, "SELECT count(*) FROM users")


async def accounts_rows(svc: Services) -> int:
    return await count(svc, "SELECT count(*) FROM accounts")


# -- POST /api/v1/accounts -----------------------------------------------------------------------

async def test_open_sign_up_returns_a_working_token(
        client: TestClient, svc: Services, assert_schema: Callable[[Any, str], None]) -> None:
    token = await app_token(client)
    body = await ok(await client.post("/api/v1/accounts", json=GOOD, headers=auth(token)))
    assert_schema(body, "Token")
    assert body["scope"] == "follow read write"
    me = await ok(await client.get("/api/v1/accounts/verify_credentials",
                                   headers=auth(body["access_token"])))
    assert me["username"] == "newcomer"
    assert await count(svc, "SELECT count(*) FROM sign_ups s JOIN users u ON u.id = s.user_id"
                            " WHERE u.approved = 1 AND u.locale = 'fr'") == 1


async def test_sign_up_needs_an_app_token_with_write_accounts(client: TestClient,
                                                              svc: Services) -> None:
    before = await users(svc)
    response = await client.post("/api/v1/accounts", json=GOOD)
    assert response.status == 401
    user_token = await make_token(svc, "alice")
    response = await client.post("/api/v1/accounts", json={**GOOD, "username": "other"},
                                 headers=auth(user_token))
    assert response.status == 403
    read_only = await app_token(client, "read")
    response = await client.post("/api/v1/accounts", json={**GOOD, "username": "other2"},
                                 headers=auth(read_only))
    assert response.status == 403
    assert await users(svc) == before + 1  # only alice, made by make_token


async def test_bad_fields_get_422_with_details_and_create_nothing(client: TestClient,
                                                                  svc: Services) -> None:
    token = await app_token(client)
    await make_user(svc, "taken")
    before_users, before_accounts = await users(svc), await accounts_rows(svc)
    cases: list[tuple[dict[str, str], dict[str, str]]] = [
        ({"username": ""}, {"username": "ERR_BLANK"}),
        ({"username": "no spaces"}, {"username": "ERR_INVALID"}),
        ({"username": "x" * 31}, {"username": "ERR_TOO_LONG"}),
        ({"username": "admin"}, {"username": "ERR_RESERVED"}),
        ({"username": "TAKEN"}, {"username": "ERR_TAKEN"}),
        ({"email": "taken@example.test"}, {"email": "ERR_TAKEN"}),
        ({"email": "not an address"}, {"email": "ERR_INVALID"}),
        ({"email": ""}, {"email": "ERR_BLANK"}),
        ({"password": "short"}, {"password": "ERR_TOO_SHORT"}),
        ({"password": ""}, {"password": "ERR_BLANK"}),
        ({"agreement": "false"}, {"agreement": "ERR_ACCEPTED"}),
        ({"invite_code": "nonexistent"}, {"invite_code": "ERR_INVALID"}),
        ({"username": "", "password": "", "agreement": ""},
         {"username": "ERR_BLANK", "password": "ERR_BLANK", "agreement": "ERR_ACCEPTED"}),
    ]
    for change, expected in cases:
        response = await client.post("/api/v1/accounts", json={**GOOD, **change},
                                     headers=auth(token))
        assert response.status == 422, change
        body = await response.json()
        assert body["error"].startswith("Validation failed: "), body
        assert {f: d[0]["error"] for f, d in body["details"].items()} == expected, change
        assert all(d[0]["description"] for d in body["details"].values())
    assert (await users(svc), await accounts_rows(svc)) == (before_users, before_accounts)


async def test_a_json_body_that_is_not_an_object_is_refused(client: TestClient,
                                                            svc: Services) -> None:
    token = await app_token(client)
    before = await users(svc)
    response = await client.post("/api/v1/accounts", data="[1]", headers={
        **auth(token), "Content-Type": "application/json"})
    assert response.status == 400
    assert await users(svc) == before


async def test_approval_mode_applicant_cannot_log_in_before_approval(
        client: TestClient, svc: Services) -> None:
    await registration.set_registration_mode(svc, None, "approval")
    token = await app_token(client)
    response = await client.post("/api/v1/accounts", json=GOOD, headers=auth(token))
    assert response.status == 422
    assert (await response.json())["details"]["reason"][0]["error"] == "ERR_BLANK"
    assert await users(svc) == 0
    body = await ok(await client.post("/api/v1/accounts", json={
        **GOOD, "reason": "Je viens à l'atelier vélo le mardi."}, headers=auth(token)))
    pending_token = body["access_token"]
    # The token exists but does nothing until approval (Mastodon: 403 until approved).
    response = await client.get("/api/v1/accounts/verify_credentials",
                                headers=auth(pending_token))
    assert response.status == 401
    try:
        await oauth.check_login(svc, "newcomer", GOOD["password"], ip="192.0.2.1")
        raise AssertionError("an unapproved user logged in")
    except Forbidden as exc:
        assert exc.message == oauth.ACCOUNT_UNAVAILABLE
    (application,) = await registration.list_pending(svc)
    assert application.reason == "Je viens à l'atelier vélo le mardi."
    await registration.approve(svc, None, application.user.id)
    me = await ok(await client.get("/api/v1/accounts/verify_credentials",
                                   headers=auth(pending_token)))
    assert me["username"] == "newcomer"
    assert await registration.list_pending(svc) == []


async def test_closed_mode_refuses_everyone(client: TestClient, svc: Services) -> None:
    invite = await invites.create_invite(svc, None)
    await registration.set_registration_mode(svc, None, "closed")
    token = await app_token(client)
    for extra in ({}, {"invite_code": invite.code}):
        response = await client.post("/api/v1/accounts", json={**GOOD, **extra},
                                     headers=auth(token))
        assert response.status == 403
        assert (await response.json())["error"] == registration.CLOSED
    assert await users(svc) == 0
    assert (await invites.get_invite(svc, invite.id)).uses == 0


async def test_the_admin_setting_overrides_config(client: TestClient, svc: Services) -> None:
    assert svc.config.registration_mode == "open"
    assert await registration.registration_mode(svc) == "open"
    await registration.set_registration_mode(svc, None, "invite")
    assert await registration.registration_mode(svc) == "invite"
    try:
        await registration.set_registration_mode(svc, None, "everyone")
        raise AssertionError("a bad mode was accepted")
    except Exception as exc:  # Invalid
        assert "registration mode" in str(exc)
    assert await registration.registration_mode(svc) == "invite"


# -- invites --------------------------------------------------------------------------------------

async def test_invite_mode_needs_a_usable_invite(client: TestClient, svc: Services) -> None:
    await registration.set_registration_mode(svc, None, "invite")
    token = await app_token(client)
    response = await client.post("/api/v1/accounts", json=GOOD, headers=auth(token))
    assert response.status == 422
    assert (await response.json())["details"]["invite_code"][0]["error"] == "ERR_BLANK"
    once = await invites.create_invite(svc, None, max_uses=1)
    revoked = await invites.create_invite(svc, None)
    await invites.revoke_invite(svc, None, revoked.id)
    response = await client.post("/api/v1/accounts", json={**GOOD, "invite_code": revoked.code},
                                 headers=auth(token))
    assert response.status == 422
    details = (await response.json())["details"]["invite_code"][0]
    assert details == {"error": "ERR_INVALID", "description": "This invite has been revoked."}
    assert await users(svc) == 0
    await ok(await client.post("/api/v1/accounts", json={**GOOD, "invite_code": once.code},
                               headers=auth(token)))
    assert (await invites.get_invite(svc, once.id)).uses == 1
    response = await client.post("/api/v1/accounts", json={
        **GOOD, "username": "second", "email": "second@example.test", "invite_code": once.code},
        headers=auth(token))
    assert response.status == 422
    assert (await response.json())["details"]["invite_code"][0]["description"] == \
        invites.INVITE_MESSAGES[invites.InviteState.USED_UP]
    assert await users(svc) == 1
    assert (await invites.get_invite(svc, once.id)).uses == 1


async def test_an_invite_skips_the_approval_queue(client: TestClient, svc: Services) -> None:
    await registration.set_registration_mode(svc, None, "approval")
    invite = await invites.create_invite(svc, None, max_uses=5)
    done = await registration.sign_up(svc, SignUp(
        username="invited", email="invited@example.test", password="long enough pw",
        agreement=True, invite_code=invite.code))
    assert not done.pending and done.user.approved


async def test_an_expired_invite_is_refused(clocked: TestClient, clock: FakeClock) -> None:
    svc = clocked.server.app[services_key]
    await registration.set_registration_mode(svc, None, "invite")
    invite = await invites.create_invite(svc, None, expires_in_days=1)
    clock.advance(2 * 86400)
    token = await app_token(clocked)
    response = await clocked.post("/api/v1/accounts", json={**GOOD, "invite_code": invite.code},
                                  headers=auth(token))
    assert response.status == 422
    assert (await response.json())["details"]["invite_code"][0]["description"] == \
        "This invite has expired."
    assert await users(svc) == 0
    assert (await invites.get_invite(svc, invite.id)).uses == 0


async def test_the_last_use_of_an_invite_is_taken_once(client: TestClient,
                                                       svc: Services) -> None:
    await registration.set_registration_mode(svc, None, "invite")
    invite = await invites.create_invite(svc, None, max_uses=1)

    async def attempt(name: str) -> bool:
        try:
            await registration.sign_up(svc, SignUp(
                username=name, email=f"{name}@example.test", password="long enough pw",
                agreement=True, invite_code=invite.code))
            return True
        except InvalidFields:
            return False

    results = await asyncio.gather(attempt("first"), attempt("second"), attempt("third"))
    assert sorted(results) == [False, False, True]
    assert await users(svc) == 1
    assert (await invites.get_invite(svc, invite.id)).uses == 1


async def test_invite_limits_are_checked(svc: Services) -> None:
    for kwargs in ({"max_uses": 0}, {"max_uses": 10_001}, {"expires_in_days": 0},
                   {"expires_in_days": -1}, {"expires_in_days": 99_999}):
        try:
            await invites.create_invite(svc, None, **kwargs)  # type: ignore[arg-type]
            raise AssertionError(f"accepted {kwargs}")
        except Exception as exc:
            assert type(exc).__name__ == "Invalid", exc
    assert await invites.list_invites(svc) == []


# -- the sign-up page -----------------------------------------------------------------------------

async def signup_form(client: TestClient, query: str = "") -> tuple[str, dict[str, str]]:
    response = await client.get("/signup" + query)
    assert response.status == 200
    page = await response.text()
    return html.unescape(page), hidden(page)


async def test_the_sign_up_page_creates_an_account_that_can_log_in(client: TestClient,
                                                                   svc: Services) -> None:
    await rules.add_rule(svc, None, "Respecter les autres habitant·es", "Pas d'insultes.")
    page, form = await signup_form(client)
    assert '<html lang="fr">' in page and "S'inscrire" in page
    assert "Respecter les autres habitant·es" in page and "Pas d'insultes." in page
    response = await client.post("/signup", data={**form, **GOOD}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/signup/welcome?name=newcomer"
    welcome = html.unescape(await (await client.get(response.headers["Location"])).text())
    assert "Bienvenue" in welcome and "@newcomer@a.test" in welcome
    login_page = await (await client.get("/login")).text()
    response = await client.post("/login", data={
        **hidden(login_page), "username": "newcomer", "password": GOOD["password"]},
        allow_redirects=False)
    assert response.status == 303
    assert "@newcomer" in await (await client.get("/")).text()
    assert await count(svc, "SELECT count(*) FROM sign_ups WHERE rules_accepted_at IS NOT NULL"
                            " AND ip != ''") == 1


async def test_the_sign_up_page_in_english(client: TestClient) -> None:
    page, _ = await signup_form(client, "?lang=en")
    assert '<html lang="en">' in page and "Sign up" in page and "S'inscrire" not in page


async def test_the_sign_up_form_shows_errors_and_keeps_values(client: TestClient,
                                                              svc: Services) -> None:
    _, form = await signup_form(client)
    response = await client.post("/signup", data={
        **form, "username": "bad name", "email": "kept@example.test", "password": "short"},
        allow_redirects=False)
    assert response.status == 422
    page = html.unescape(await response.text())
    assert "Uniquement des lettres" in page and "Trop court" in page
    assert "Vous devez accepter les règles" in page
    assert 'value="kept@example.test"' in page and "short" not in page.split("<form")[1]
    assert await users(svc) == 0


async def test_the_sign_up_form_needs_its_csrf_token(client: TestClient, svc: Services) -> None:
    await signup_form(client)
    for token in (None, "0" * 64):
        data = dict(GOOD)
        if token is not None:
            data["csrf_token"] = token
        response = await client.post("/signup", data=data, allow_redirects=False)
        assert response.status == 403
    assert await users(svc) == 0


async def test_an_invite_link_opens_the_form_with_its_code(client: TestClient,
                                                           svc: Services) -> None:
    await registration.set_registration_mode(svc, None, "invite")
    invite = await invites.create_invite(svc, None, max_uses=2)
    assert invites.invite_url(svc, invite) == f"http://a.test/invite/{invite.code}"
    response = await client.get(f"/invite/{invite.code}", allow_redirects=False)
    assert response.status == 303
    page, form = await signup_form(client, "?invite=" + invite.code)
    assert f'value="{invite.code}"' in page and "sur invitation" in page
    response = await client.post("/signup", data={**form, **GOOD, "invite_code": invite.code},
                                 allow_redirects=False)
    assert response.status == 303
    assert (await invites.get_invite(svc, invite.id)).uses == 1


async def test_a_revoked_invite_link_says_so(client: TestClient, svc: Services) -> None:
    invite = await invites.create_invite(svc, None)
    await invites.revoke_invite(svc, None, invite.id)
    page, _ = await signup_form(client, "?invite=" + invite.code)
    assert "Cette invitation a été révoquée." in page


async def test_approval_sign_up_page_then_login_is_refused(client: TestClient,
                                                           svc: Services) -> None:
    await registration.set_registration_mode(svc, None, "approval")
    page, form = await signup_form(client)
    assert 'name="reason"' in page
    response = await client.post("/signup", data={**form, **GOOD, "reason": "Voisin du lieu"},
                                 allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith(
        "/signup/pending")
    login_page = await (await client.get("/login")).text()
    response = await client.post("/login", data={
        **hidden(login_page), "username": "newcomer", "password": GOOD["password"]},
        allow_redirects=False)
    assert response.status == 422
    assert "fmu_session" not in response.cookies


async def test_closed_sign_up_page(client: TestClient, svc: Services) -> None:
    await registration.set_registration_mode(svc, None, "closed")
    page, form = await signup_form(client)
    assert "Les inscriptions sont fermées" in page and 'name="username"' not in page
    response = await client.post("/signup", data={**form, **GOOD}, allow_redirects=False)
    assert response.status == 403
    assert await users(svc) == 0


async def test_reject_deletes_the_applicant(client: TestClient, svc: Services) -> None:
    await registration.set_registration_mode(svc, None, "approval")
    token = await app_token(client)
    await ok(await client.post("/api/v1/accounts", json={**GOOD, "reason": "hello"},
                               headers=auth(token)))
    before_accounts = await accounts_rows(svc)
    (application,) = await registration.list_pending(svc)
    await registration.reject(svc, None, application.user.id)
    assert await users(svc) == 0
    assert await accounts_rows(svc) == before_accounts - 1
    assert await count(svc, "SELECT count(*) FROM oauth_tokens WHERE user_id = ?",
                       application.user.id) == 0
    # The name is free again.
    await ok(await client.post("/api/v1/accounts", json={**GOOD, "reason": "again"},
                               headers=auth(token)))


async def test_role_changes_keep_one_admin(svc: Services) -> None:
    admin = await make_user(svc, "boss", role=Role.ADMIN)
    try:
        await registration.set_role(svc, None, admin.user.id, "resident")
        raise AssertionError("the last admin was demoted")
    except Exception as exc:
        assert str(exc) == registration.LAST_ADMIN
    other = await make_user(svc, "helper")
    await registration.set_role(svc, None, other.user.id, "admin")
    await registration.set_role(svc, None, admin.user.id, "moderator")
    assert await count(svc, "SELECT count(*) FROM users WHERE role = 'admin'") == 1


async def test_the_instance_endpoints_announce_the_mode_in_force(client: TestClient,
                                                                 svc: Services) -> None:
    v2 = await ok(await client.get("/api/v2/instance"))
    assert v2["registrations"]["enabled"] and not v2["registrations"]["approval_required"]
    await registration.set_registration_mode(svc, None, "approval")
    v2 = await ok(await client.get("/api/v2/instance"))
    assert v2["registrations"]["enabled"] and v2["registrations"]["approval_required"]
    v1 = await ok(await client.get("/api/v1/instance"))
    assert v1["approval_required"] and not v1["invites_enabled"]
    nodeinfo = await ok(await client.get("/nodeinfo/2.1"))
    assert not nodeinfo["openRegistrations"]
    assert nodeinfo["metadata"]["registrationMode"] == "approval"


# -- sign-ups per address -------------------------------------------------------------------------

async def test_sign_ups_are_limited_per_address(clocked: TestClient, clock: FakeClock) -> None:
    svc = clocked.app[services_key]

    def numbered(number: int, ip: str = "198.51.100.7") -> SignUp:
        return SignUp(username=f"bot{number}", email=f"bot{number}@example.test",
                      password=GOOD["password"], agreement=True, ip=ip)

    for number in range(registration.SIGN_UPS_PER_ADDRESS):
        await registration.sign_up(svc, numbered(number))
    before = await users(svc)
    try:
        await registration.sign_up(svc, numbered(99))
        raise AssertionError("a sixth sign-up from one address went through")
    except Exception as exc:
        assert type(exc).__name__ == "RateLimited", exc
    assert await users(svc) == before  # nothing created
    # Another address is not held back, nor the same one once the window has passed.
    await registration.sign_up(svc, numbered(100, ip="198.51.100.8"))
    clock.advance(registration.SIGN_UP_WINDOW + 1)
    await registration.sign_up(svc, numbered(101))
    assert await users(svc) == before + 2
    # Through the API, the limit is a 429 with Mastodon's error shape.
    for number in range(200, 200 + registration.SIGN_UPS_PER_ADDRESS):
        await registration.sign_up(svc, numbered(number, ip="127.0.0.1"))
    token = await app_token(clocked)
    response = await clocked.post("/api/v1/accounts", json=GOOD, headers=auth(token))
    assert response.status == 429 and "error" in await response.json()
    assert await count(svc, "SELECT count(*) FROM users WHERE email = ?", GOOD["email"]) == 0
