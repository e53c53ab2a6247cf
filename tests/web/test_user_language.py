"""Pages in the language a resident chose (``users.locale``) unless ``?lang=`` or the ``lang``
cookie says otherwise, and the ``/settings`` page that changes it (CSRF-checked; a language we
do not have, or a missing token, changes nothing)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from fediverse_mu.services.accounts import NewUser
from fediverse_mu.services.context import Services
from tests.conftest import count, make_user
from tests.web.test_admin_web import fingerprint, hidden, log_in


async def html_lang(client: TestClient, path: str, **headers: str) -> str:
    text = await (await client.get(path, headers=headers)).text()
    return text.split('<html lang="', 1)[1].split('"', 1)[0]


async def fresh_login(client: TestClient, user: NewUser) -> str:
    """A browser with no cookie but the session of ``user``; returns the CSRF token."""
    client.session.cookie_jar.clear()
    return await log_in(client, user)


async def test_pages_follow_the_residents_setting(client: TestClient, svc: Services) -> None:
    alice = await make_user(svc, "alice")
    await fresh_login(client, alice)
    # Every resident has a language (the sign-up form's, or the place's first): it wins over
    # the browser's Accept-Language.
    assert await html_lang(client, "/", **{"Accept-Language": "en"}) == "fr"
    page = await (await client.get("/settings?lang=fr")).text()
    assert "Langue des pages" in page and 'value="fr" checked' in page
    token = hidden(page)["csrf_token"]
    saved = await client.post("/settings", data={"csrf_token": token, "locale": "en"},
                              allow_redirects=False)
    assert saved.status == 303 and saved.headers["Location"] == "/settings?saved=1"
    assert "lang=en" in saved.headers["Set-Cookie"]
    assert await count(svc, "SELECT count(*) FROM users WHERE locale = 'en'") == 1

    # Another browser: the setting wins over Accept-Language, ?lang= and the cookie over it.
    await fresh_login(client, alice)
    assert await html_lang(client, "/", **{"Accept-Language": "fr"}) == "en"
    assert "Your settings have been saved." in await (await client.get("/settings?saved=1"))\
        .text()
    assert await html_lang(client, "/nowhere-at-all") == "en"  # error pages too
    assert await html_lang(client, "/?lang=fr") == "fr"
    assert await html_lang(client, "/") == "fr"  # the cookie ?lang= left
    client.session.cookie_jar.clear()
    assert await html_lang(client, "/", **{"Accept-Language": "en"}) == "en"  # anonymous
    assert await html_lang(client, "/") == "fr"


async def test_bad_settings_change_nothing(client: TestClient, svc: Services) -> None:
    alice = await make_user(svc, "alice")
    anonymous = await client.get("/settings", allow_redirects=False)
    assert anonymous.status == 303 and anonymous.headers["Location"].startswith("/login")
    token = await fresh_login(client, alice)
    before = await fingerprint(svc)
    for locale in ("de", "", "fr-FR", "x" * 300):
        response = await client.post("/settings", data={"csrf_token": token, "locale": locale})
        assert response.status == 422, locale
    assert (await client.post("/settings", data={"locale": "en"})).status == 403
    assert (await client.post("/settings", data={"csrf_token": "forged", "locale": "en"})) \
        .status == 403
    assert await fingerprint(svc) == before
