"""The pages of listening groups: the public page (charter, members-only posts hidden from
non-members), creating a group as a resident, and the moderators' page (settings, log,
moderation actions with CSRF tokens; others refused)."""

from __future__ import annotations

import html
import re

from aiohttp.test_utils import TestClient

from fediverse_mu.domain import Account
from fediverse_mu.services import following, groups, posting
from fediverse_mu.services.context import Services
from tests.conftest import PASSWORD, count, make_user


def hidden(page: str) -> dict[str, str]:
    inputs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in inputs}


async def log_in(client: TestClient, username: str) -> None:
    form = hidden(await (await client.get("/login")).text())
    response = await client.post("/login", data={**form, "username": username,
                                                  "password": PASSWORD},
                                 allow_redirects=False)
    assert response.status == 303


async def _post(svc: Services, author: Account, text: str, **options: object) -> int:
    draft = await posting.prepare(svc, author, text=text, **options)  # type: ignore[arg-type]
    return (await posting.create_status(svc, author, draft)).status.id


async def test_the_public_page_shows_charter_and_public_posts(client: TestClient,
                                                              svc: Services) -> None:
    alice = (await make_user(svc, "alice")).account
    anna = (await make_user(svc, "anna")).account
    group = await groups.create_group(svc, "ecoute", title="Écoute",
                                      charter="Bienveillance <d'abord>", creator=alice)
    await following.follow(svc, anna, group.account)
    await _post(svc, anna, "@ecoute Bonjour le groupe")
    page = await (await client.get("/groups/ecoute")).text()
    assert "Écoute" in page and "Bienveillance &lt;d&#x27;abord&gt;" in page
    assert "Bonjour le groupe" in page and "Charte" in page
    assert await count(svc, "SELECT count(*) FROM group_posts") == 1
    english = await (await client.get("/groups/ecoute?lang=en")).text()
    assert "Charter" in english
    response = await client.get("/groups/nope")
    assert response.status == 404


async def test_a_members_only_page_hides_posts_from_non_members(client: TestClient,
                                                                svc: Services) -> None:
    alice = (await make_user(svc, "alice")).account
    anna = (await make_user(svc, "anna")).account
    await make_user(svc, "outsider")
    group = await groups.create_group(svc, "secret", title="Secret", creator=alice,
                                      members_only=True)
    await following.follow(svc, anna, group.account)
    await _post(svc, anna, "@secret Entre nous", visibility="direct")
    assert await count(svc, "SELECT count(*) FROM group_posts") == 1
    assert "Entre nous" not in await (await client.get("/groups/secret")).text()
    await log_in(client, "outsider")
    assert "Entre nous" not in await (await client.get("/groups/secret")).text()
    await client.post("/logout", data={"csrf_token": hidden(
        await (await client.get("/")).text())["csrf_token"]})
    await log_in(client, "anna")
    assert "Entre nous" in await (await client.get("/groups/secret")).text()


async def test_a_resident_creates_a_group_and_moderates_it(client: TestClient,
                                                            svc: Services) -> None:
    await make_user(svc, "alice")
    anna = (await make_user(svc, "anna")).account
    response = await client.get("/groups/new", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login")
    await log_in(client, "alice")
    form = hidden(await (await client.get("/groups/new")).text())
    # Bad input: a name already taken, a missing token.
    taken = await client.post("/groups/new", data={**form, "name": "anna", "title": "X"})
    assert taken.status == 409
    refused = await client.post("/groups/new", data={"name": "ecoute"})
    assert refused.status == 403
    assert await count(svc, "SELECT count(*) FROM groups") == 0
    response = await client.post("/groups/new", data={
        **form, "name": "ecoute", "title": "Écoute", "charter": "Douceur.",
        "approval": "on"}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/groups/ecoute/settings"
    group = await groups.get_group(svc, "ecoute")
    assert group.join_policy.value == "approval" and group.charter == "Douceur."

    await following.follow(svc, anna, group.account)  # a request, on approval
    settings = await (await client.get("/groups/ecoute/settings")).text()
    assert "@anna" in settings and "Demandes d&#39;adhésion" in settings
    token = hidden(settings)["csrf_token"]
    response = await client.post("/groups/ecoute/actions/accept",
                                 data={"csrf_token": token, "account_id": str(anna.id)},
                                 allow_redirects=False)
    assert response.status == 303
    assert await groups.is_member(svc, group.account, anna)
    status_id = await _post(svc, anna, "@ecoute hors charte")
    response = await client.post("/groups/ecoute/actions/remove_post",
                                 data={"csrf_token": token, "status_id": str(status_id),
                                       "reason": "spam"}, allow_redirects=False)
    assert response.status == 303
    response = await client.post("/groups/ecoute/settings", data={
        "csrf_token": token, "title": "Écoute 2", "charter": "Douceur.", "closed": "on"},
        allow_redirects=False)
    assert response.status == 303
    group = await groups.get_group(svc, "ecoute")
    assert group.closed and group.title == "Écoute 2"
    log = await (await client.get("/groups/ecoute/settings")).text()
    for action in ("adhésion acceptée", "message retiré", "fermeture", "création"):
        assert action in log
    assert await count(svc, "SELECT count(*) FROM group_posts WHERE removed_at IS NOT NULL") == 1


async def test_only_moderators_see_the_moderation_page(client: TestClient,
                                                        svc: Services) -> None:
    alice = (await make_user(svc, "alice")).account
    await make_user(svc, "anna")
    await groups.create_group(svc, "ecoute", creator=alice)
    await log_in(client, "anna")
    assert (await client.get("/groups/ecoute/settings")).status == 403
    token = hidden(await (await client.get("/")).text())["csrf_token"]
    response = await client.post("/groups/ecoute/settings", data={
        "csrf_token": token, "title": "pris", "closed": "on"})
    assert response.status == 403
    group = await groups.get_group(svc, "ecoute")
    assert not group.closed and group.title == "ecoute"
    assert await count(svc, "SELECT count(*) FROM group_log") == 1  # only its creation
