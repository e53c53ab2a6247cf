"""The site-wide browser session: /login, /logout, the CSRF token of forms, safe redirects."""

from __future__ import annotations

import html
import re

from aiohttp.test_utils import TestClient

from fediverse_mu.services.context import Services
from fediverse_mu.web import session
from tests.conftest import PASSWORD, make_user


def hidden(page: str) -> dict[str, str]:
    inputs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in inputs}


async def login_form(client: TestClient, next_path: str = "/") -> dict[str, str]:
    response = await client.get("/login", params={"next": next_path})
    assert response.status == 200
    page = await response.text()
    assert '<html lang="fr">' in page and "Se connecter" in page
    return hidden(page)


async def test_login_then_logout(client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    form = await login_form(client, "/about")
    assert form["next"] == "/about" and form["csrf_token"]
    response = await client.post("/login", data={**form, "username": "alice",
                                                  "password": PASSWORD},
                                 allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/about"
    assert session.SESSION_COOKIE in response.cookies
    home = await (await client.get("/")).text()
    assert "@alice" in home and 'action="/logout"' in home
    # Logging out needs the form's token too.
    refused = await client.post("/logout", data={}, allow_redirects=False)
    assert refused.status == 403
    assert "@alice" in await (await client.get("/")).text()
    response = await client.post("/logout", data={"csrf_token": hidden(home)["csrf_token"]},
                                 allow_redirects=False)
    assert response.status == 303
    assert "@alice" not in await (await client.get("/")).text()


async def test_login_without_or_with_a_wrong_csrf_token_is_refused(client: TestClient,
                                                                    svc: Services) -> None:
    await make_user(svc, "alice")
    form = await login_form(client)
    for token in (None, "0" * 64):
        data = {"username": "alice", "password": PASSWORD, "next": "/"}
        if token is not None:
            data["csrf_token"] = token
        response = await client.post("/login", data=data, allow_redirects=False)
        assert response.status == 403
        assert session.SESSION_COOKIE not in response.cookies
    assert form["csrf_token"]


async def test_wrong_password_shows_the_form_again(client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    form = await login_form(client)
    response = await client.post("/login", data={**form, "username": "alice",
                                                  "password": "wrong password"},
                                 allow_redirects=False)
    assert response.status == 422
    assert session.SESSION_COOKIE not in response.cookies
    page = await response.text()
    assert 'role="alert"' in page and 'value="alice"' in page


async def test_next_never_leaves_the_site(client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/login"):
        form = await login_form(client, evil)
        response = await client.post("/login", data={**form, "username": "alice",
                                                      "password": PASSWORD},
                                     allow_redirects=False)
        assert response.headers["Location"] == "/", evil
        client.session.cookie_jar.clear()


async def test_a_forged_or_expired_session_is_ignored(client: TestClient,
                                                      svc: Services) -> None:
    alice = await make_user(svc, "alice")
    for value in (f"{alice.user.id}.9999999999.{'0' * 64}", "garbage", ""):
        client.session.cookie_jar.update_cookies({session.SESSION_COOKIE: value})
        assert "@alice" not in await (await client.get("/")).text()
    response = await client.get("/login")
    assert response.status == 200  # not redirected away: not logged in


def test_safe_next() -> None:
    assert session.safe_next("/groups/x?y=1") == "/groups/x?y=1"
    for bad in (None, "", "http://x", "//x", "/\\x", "/logout", "relative"):
        assert session.safe_next(bad) == "/"
