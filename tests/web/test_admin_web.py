"""The web admin end to end through HTTP: who may see what (anonymous → login, resident → 403,
moderator → moderation pages only, admin → everything), every state-changing form refused
without its CSRF token with nothing changed in the database, each page's effect (approving,
rejecting, invites and their QR code, account actions and roles, password resets, reports,
domain blocks and the allowlist, CSV import/export, rules, the registration mode, the audit
log), the dashboard's figures, and every page in French and English with no untranslated
message."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp.test_utils import TestClient

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Role
from fediverse_mu.domain.registration import SignUp
from fediverse_mu.services import (
    audit,
    federation_policy,
    invites,
    moderation,
    oauth,
    registration,
    rules,
)
from fediverse_mu.services.accounts import NewUser
from fediverse_mu.services.context import Services
from fediverse_mu.storage import jobs as job_store
from fediverse_mu.web import i18n, session
from fediverse_mu.web.admin import NOTICES
from tests.conftest import auth, count, make_token, make_user


def hidden(page: str) -> dict[str, str]:
    inputs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in inputs}


async def log_in(client: TestClient, user: NewUser) -> str:
    """Give the client's browser a session for ``user``; returns the pages' CSRF token."""
    svc = client.server.app[services_key]
    client.session.cookie_jar.update_cookies(
        {session.SESSION_COOKIE: oauth.session_value(svc, user.user)})
    page = await (await client.get("/")).text()  # the logout form carries the token
    return hidden(page)["csrf_token"]


async def fingerprint(svc: Services) -> str:
    """A hash of every row of every table: equal fingerprints mean nothing changed."""
    def run(db: Any) -> str:
        digest = hashlib.sha256()
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
                digest.update(repr((table, tuple(row))).encode())
        return digest.hexdigest()
    return str(await svc.storage.read(run))


@dataclass
class World:
    """An instance with something on every admin page."""

    admin: NewUser
    moderator: NewUser
    resident: NewUser
    pending_user_id: int
    invite_id: int
    rule_id: int
    block_id: int
    allow_id: int
    report_id: int
    remote_account_id: int


async def remote_account(svc: Services) -> int:
    def run(db: Any) -> int:
        return int(db.execute(
            "INSERT INTO accounts (username, domain, actor_uri, actor_type, inbox_uri,"
            " created_at) VALUES ('spammer', 'spam.test', 'http://spam.test/users/spammer',"
            " 'Person', 'http://spam.test/users/spammer/inbox', '2024-01-01T00:00:00+00:00')"
            " RETURNING id").fetchone()[0])
    return int(await svc.storage.write(run))


async def build_world(svc: Services) -> World:
    admin = await make_user(svc, "boss", role=Role.ADMIN)
    moderator = await make_user(svc, "modo", role=Role.MODERATOR)
    resident = await make_user(svc, "alice")
    await registration.set_registration_mode(svc, None, "approval")
    pending = await registration.sign_up(svc, SignUp(
        username="applicant", email="applicant@example.test", password="long enough pw",
        agreement=True, reason="J'habite à côté"))
    invite = await invites.create_invite(svc, admin.account, max_uses=3)
    rule = await rules.add_rule(svc, admin.account, "Be kind")
    block = await federation_policy.block_domain(svc, admin.account, "bad.test",
                                                 severity="suspend")
    allow = await federation_policy.allow_domain(svc, admin.account, "friend.test")
    remote_id = await remote_account(svc)
    report = await moderation.create_report(svc, resident.account, remote_id,
                                            comment="spam", category="spam")
    return World(admin, moderator, resident, pending.user.id, invite.id, rule.id, block.id,
                 allow.id, report.id, remote_id)


@pytest.fixture
async def world(svc: Services) -> World:
    return await build_world(svc)


def admin_routes(client: TestClient, method: str) -> list[str]:
    """The paths of this module's admin pages for ``method``."""
    paths = []
    for route in client.server.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        # /admin/place* is the places feature's page (tested there).
        if route.method == method and path.startswith("/admin") and \
                not path.startswith("/admin/place"):
            paths.append(path)
    return sorted(set(paths))


def fill(path: str, world: World) -> str:
    ids = {"/admin/accounts/": world.resident.account.id, "/admin/signups/":
           world.pending_user_id, "/admin/invites/": world.invite_id, "/admin/rules/":
           world.rule_id, "/admin/federation/blocks/": world.block_id,
           "/admin/federation/allows/": world.allow_id, "/admin/reports/": world.report_id}
    for prefix, value in ids.items():
        if path.startswith(prefix + "{id}"):
            return path.replace("{id}", str(value))
    return path


# -- who may see what -----------------------------------------------------------------------------

async def test_anonymous_visitors_are_sent_to_the_login_page(client: TestClient,
                                                             world: World) -> None:
    for path in admin_routes(client, "GET"):
        response = await client.get(fill(path, world), allow_redirects=False)
        assert response.status == 303, path
        location = unquote(response.headers["Location"])
        assert location.startswith("/login?next=/admin"), path


async def test_a_resident_gets_403_everywhere_and_changes_nothing(client: TestClient,
                                                                  svc: Services,
                                                                  world: World) -> None:
    token = await log_in(client, world.resident)
    assert token
    for path in admin_routes(client, "GET"):
        response = await client.get(fill(path, world))
        assert response.status == 403, path
        assert "Vous n'avez pas accès" in html.unescape(await response.text())
    before = await fingerprint(svc)
    for path in admin_routes(client, "POST"):
        response = await client.post(fill(path, world), data={
            "csrf_token": token, "domain": "x.test", "registration_mode": "open",
            "role": "admin", "text": "x", "action": "suspend", "enabled": "1"},
            allow_redirects=False)
        assert response.status == 403, path
    assert await fingerprint(svc) == before


async def test_a_moderator_sees_moderation_but_not_settings(client: TestClient, svc: Services,
                                                           world: World) -> None:
    token = await log_in(client, world.moderator)
    for path in ("/admin", "/admin/accounts", f"/admin/accounts/{world.remote_account_id}",
                 "/admin/signups", "/admin/invites", f"/admin/invites/{world.invite_id}",
                 "/admin/reports", f"/admin/reports/{world.report_id}", "/admin/federation",
                 "/admin/audit"):
        response = await client.get(path)
        assert response.status == 200, path
        assert 'href="/admin/settings"' not in await response.text()
    for path in ("/admin/rules", "/admin/settings"):
        assert (await client.get(path)).status == 403, path
    before = await fingerprint(svc)
    for path, data in ((f"/admin/accounts/{world.resident.account.id}/role", {"role": "admin"}),
                       (f"/admin/accounts/{world.resident.account.id}/password", {}),
                       ("/admin/federation/allowlist", {"enabled": "1"}),
                       ("/admin/settings", {"registration_mode": "open"}),
                       ("/admin/rules", {"text": "new"})):
        response = await client.post(path, data={"csrf_token": token, **data},
                                     allow_redirects=False)
        assert response.status == 403, path
    assert await fingerprint(svc) == before


async def test_every_form_needs_its_csrf_token(client: TestClient, svc: Services,
                                               world: World) -> None:
    token = await log_in(client, world.admin)
    assert token
    posts = admin_routes(client, "POST")
    assert len(posts) >= 20
    before = await fingerprint(svc)
    for path in posts:
        for bad in (None, "", "0" * 64, token[:-1] + ("0" if token[-1] != "0" else "1")):
            data = {"domain": "x.test", "registration_mode": "closed", "role": "resident",
                    "text": "x", "action": "suspend", "enabled": "1", "content": "note",
                    "max_uses": "2", "csv": "#domain,#severity\nz.test,suspend\n"}
            if bad is not None:
                data["csrf_token"] = bad
            response = await client.post(fill(path, world), data=data, allow_redirects=False)
            assert response.status == 403, (path, bad)
    assert await fingerprint(svc) == before


async def test_every_page_has_a_token_in_every_post_form(client: TestClient,
                                                         world: World) -> None:
    await log_in(client, world.admin)
    for path in admin_routes(client, "GET"):
        if path.endswith(".csv"):
            continue
        page = await (await client.get(fill(path, world))).text()
        forms = re.findall(r'<form method="post"[^>]*>(.*?)</form>', page, re.S)
        for form in forms:
            assert 'name="csrf_token" value="' in form, (path, form[:200])


# -- the pages' effects ---------------------------------------------------------------------------

async def test_approve_and_reject_through_the_web(client: TestClient, svc: Services,
                                                  world: World) -> None:
    token = await log_in(client, world.moderator)
    page = html.unescape(await (await client.get("/admin/signups")).text())
    assert "@applicant" in page and "J'habite à côté" in page
    response = await client.post(f"/admin/signups/{world.pending_user_id}/approve",
                                 data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/admin/signups?done=approved"
    assert "Le compte a été accepté." in html.unescape(
        await (await client.get(response.headers["Location"])).text())
    assert await registration.list_pending(svc) == []
    user = await oauth.check_login(svc, "applicant", "long enough pw", ip="192.0.2.9")
    assert user.approved
    # Approving twice: 404, nothing changes.
    before = await fingerprint(svc)
    response = await client.post(f"/admin/signups/{world.pending_user_id}/approve",
                                 data={"csrf_token": token})
    assert response.status == 404
    assert await fingerprint(svc) == before
    second = await registration.sign_up(svc, SignUp(
        username="second", email="second@example.test", password="long enough pw",
        agreement=True, reason="because"))
    response = await client.post(f"/admin/signups/{second.user.id}/reject",
                                 data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert await count(svc, "SELECT count(*) FROM accounts WHERE username = 'second'") == 0
    actions = [e.action for e in await audit.entries(svc)]
    assert "account.approve" in actions and "account.reject" in actions


async def test_invites_through_the_web(client: TestClient, svc: Services, world: World) -> None:
    token = await log_in(client, world.admin)
    response = await client.post("/admin/invites", data={
        "csrf_token": token, "max_uses": "5", "expires_days": "7"}, allow_redirects=False)
    assert response.status == 303
    location = response.headers["Location"]
    invite_id = int(location.split("/")[3].split("?")[0])
    invite = await invites.get_invite(svc, invite_id)
    assert invite.max_uses == 5 and invite.expires_at is not None
    page = await (await client.get(location)).text()
    assert '<svg width="' in page and 'class="qr"' in page
    assert invites.invite_url(svc, invite) in page
    assert "Scannez ce code" in page
    listing = await (await client.get("/admin/invites")).text()
    assert invite.code in listing
    response = await client.post(f"/admin/invites/{invite_id}/revoke",
                                 data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert (await invites.get_invite(svc, invite_id)).revoked_at is not None
    # Bad limits: a clear error, nothing created.
    before = await fingerprint(svc)
    for data in ({"max_uses": "0"}, {"max_uses": "lots"}, {"expires_days": "-3"},
                 {"expires_days": "nan"}):
        response = await client.post("/admin/invites", data={"csrf_token": token, **data})
        assert response.status == 422, data
    assert await fingerprint(svc) == before


async def test_account_actions_roles_and_password_reset(client: TestClient, svc: Services,
                                                        world: World) -> None:
    token = await log_in(client, world.admin)
    resident_id = world.resident.account.id
    page = html.unescape(await (await client.get(f"/admin/accounts/{resident_id}")).text())
    assert "alice@example.test" in page and "Réinitialiser le mot de passe" in page
    response = await client.post(f"/admin/accounts/{resident_id}/action", data={
        "csrf_token": token, "action": "silence", "reason": "too loud"}, allow_redirects=False)
    assert response.status == 303
    assert (await moderation.state(svc, resident_id)).silenced
    response = await client.post(f"/admin/accounts/{resident_id}/action", data={
        "csrf_token": token, "action": "explode", "reason": ""})
    assert response.status == 422
    response = await client.post(f"/admin/accounts/{resident_id}/role", data={
        "csrf_token": token, "role": "moderator"}, allow_redirects=False)
    assert response.status == 303
    assert await count(svc, "SELECT count(*) FROM users WHERE role = 'moderator'") == 2
    # The last admin cannot demote itself.
    response = await client.post(f"/admin/accounts/{world.admin.account.id}/role", data={
        "csrf_token": token, "role": "resident"})
    assert response.status == 422
    assert "au moins un·e admin" in html.unescape(await response.text())
    # A new password, shown once; the old one and the old tokens stop working.
    old_token = await make_token(svc, "alice")
    response = await client.post(f"/admin/accounts/{resident_id}/password",
                                 data={"csrf_token": token})
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    new_password = re.search(r'<code class="secret">([^<]+)</code>',
                             await response.text())
    assert new_password is not None
    assert (await client.get("/api/v1/accounts/verify_credentials",
                             headers=auth(old_token))).status == 401
    await oauth.check_login(svc, "alice", html.unescape(new_password.group(1)), ip="192.0.2.7")
    # Remote accounts have no role nor password.
    for what in ("role", "password"):
        response = await client.post(f"/admin/accounts/{world.remote_account_id}/{what}",
                                     data={"csrf_token": token, "role": "admin"})
        assert response.status == 422


async def test_accounts_list_and_search(client: TestClient, world: World) -> None:
    await log_in(client, world.moderator)
    page = await (await client.get("/admin/accounts")).text()
    assert "@alice" in page and "@spammer@spam.test" in page
    page = await (await client.get("/admin/accounts?origin=remote")).text()
    assert "@spammer@spam.test" in page and "@alice" not in page
    page = await (await client.get("/admin/accounts?q=ali")).text()
    assert "@alice" in page and "@spammer" not in page
    assert (await client.get("/admin/accounts?max_id=abc")).status == 422
    assert (await client.get("/admin/accounts/999999")).status == 404
    assert (await client.get("/admin/accounts/not-a-number")).status == 404


async def test_reports_through_the_web(client: TestClient, svc: Services, world: World) -> None:
    token = await log_in(client, world.moderator)
    page = await (await client.get("/admin/reports")).text()
    assert f'href="/admin/reports/{world.report_id}"' in page and "@spammer@spam.test" in page
    rid = world.report_id
    response = await client.post(f"/admin/reports/{rid}/assign", data={
        "csrf_token": token, "assignee_id": str(world.moderator.account.id)},
        allow_redirects=False)
    assert response.status == 303
    assert (await moderation.get_report(svc, rid)).assigned_account_id == \
        world.moderator.account.id
    response = await client.post(f"/admin/reports/{rid}/assign", data={
        "csrf_token": token, "assignee_id": str(world.resident.account.id)})
    assert response.status == 422  # residents are not moderators
    response = await client.post(f"/admin/reports/{rid}/note", data={
        "csrf_token": token, "content": "Looked at it"}, allow_redirects=False)
    assert response.status == 303
    assert "Looked at it" in await (await client.get(f"/admin/reports/{rid}")).text()
    response = await client.post(f"/admin/accounts/{world.remote_account_id}/action", data={
        "csrf_token": token, "action": "suspend", "reason": "spam", "report_id": str(rid),
        "back": f"/admin/reports/{rid}"}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"/admin/reports/{rid}?done=action_done"
    assert (await moderation.get_report(svc, rid)).action_taken
    response = await client.post(f"/admin/reports/{rid}/reopen", data={"csrf_token": token},
                                 allow_redirects=False)
    assert response.status == 303
    assert not (await moderation.get_report(svc, rid)).action_taken
    response = await client.post(f"/admin/reports/{rid}/resolve", data={"csrf_token": token},
                                 allow_redirects=False)
    assert response.status == 303
    assert (await moderation.get_report(svc, rid)).action_taken
    resolved = await (await client.get("/admin/reports?resolved=1")).text()
    assert f'href="/admin/reports/{rid}"' in resolved


async def test_domain_policy_through_the_web(client: TestClient, svc: Services,
                                             world: World) -> None:
    token = await log_in(client, world.admin)
    response = await client.post("/admin/federation/block", data={
        "csrf_token": token, "domain": "Trolls.Test", "severity": "silence",
        "reject_media": "1", "public_comment": "trolls", "private_comment": "see report 3"},
        allow_redirects=False)
    assert response.status == 303
    blocks = {b.domain: b for b in await federation_policy.list_domain_blocks(svc)}
    assert blocks["trolls.test"].reject_media and blocks["trolls.test"].public_comment == \
        "trolls"
    page = await (await client.get("/admin/federation")).text()
    assert "trolls.test" in page and "see report 3" in page
    csv = await client.get("/admin/federation/domain_blocks.csv")
    assert csv.status == 200 and csv.content_type == "text/csv"
    assert "trolls.test" in await csv.text()
    response = await client.post(f"/admin/federation/blocks/{blocks['trolls.test'].id}/delete",
                                 data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert "trolls.test" not in {b.domain for b in
                                 await federation_policy.list_domain_blocks(svc)}
    # Allowlist.
    response = await client.post("/admin/federation/allow", data={
        "csrf_token": token, "domain": "allies.test"}, allow_redirects=False)
    assert response.status == 303
    response = await client.post("/admin/federation/allowlist", data={
        "csrf_token": token, "enabled": "1"}, allow_redirects=False)
    assert response.status == 303 and await federation_policy.allowlist_mode(svc)
    assert "liste blanche est actif" in html.unescape(await (await client.get("/admin")).text())
    response = await client.post(f"/admin/federation/allows/{world.allow_id}/delete",
                                 data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert {a.domain for a in await federation_policy.list_domain_allows(svc)} == \
        {"allies.test"}
    # CSV import: pasted text, then an uploaded file; a malformed CSV changes nothing.
    response = await client.post("/admin/federation/import", data={
        "csrf_token": token, "csv": "#domain,#severity,#reject_media\nimported.test,suspend,"
        "false\n"}, allow_redirects=False)
    assert response.status == 303
    before = await fingerprint(svc)
    for bad in ("#domain,#severity\nok.test,suspend\n,suspend\n", "#domain,#severity\n"
                "x.test,explode\n", "   "):
        response = await client.post("/admin/federation/import",
                                      data={"csrf_token": token, "csv": bad})
        assert response.status == 422, bad
    assert await fingerprint(svc) == before
    import aiohttp
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("csv", "")
    form.add_field("file", b"#domain,#severity\nuploaded.test,silence\n",
                   filename="blocks.csv", content_type="text/csv")
    response = await client.post("/admin/federation/import", data=form, allow_redirects=False)
    assert response.status == 303
    domains = {b.domain for b in await federation_policy.list_domain_blocks(svc)}
    assert {"imported.test", "uploaded.test"} <= domains


async def test_rules_and_registration_mode(client: TestClient, svc: Services,
                                           world: World) -> None:
    token = await log_in(client, world.admin)
    response = await client.post("/admin/rules", data={
        "csrf_token": token, "text": "No ads", "hint": "Not even for bikes"},
        allow_redirects=False)
    assert response.status == 303
    response = await client.post(f"/admin/rules/{world.rule_id}", data={
        "csrf_token": token, "text": "Be very kind", "hint": "", "position": "5"},
        allow_redirects=False)
    assert response.status == 303
    texts = [r.text for r in await rules.list_rules(svc)]
    assert texts == ["No ads", "Be very kind"]
    response = await client.post(f"/admin/rules/{world.rule_id}/delete",
                                 data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert [r.text for r in await rules.list_rules(svc)] == ["No ads"]
    before = await fingerprint(svc)
    response = await client.post("/admin/rules", data={"csrf_token": token, "text": "  "})
    assert response.status == 422
    assert await fingerprint(svc) == before
    # The registration mode, shown on the sign-up page and in the instance API.
    page = await (await client.get("/admin/settings")).text()
    assert 'value="approval" checked' in page
    response = await client.post("/admin/settings", data={
        "csrf_token": token, "registration_mode": "invite"}, allow_redirects=False)
    assert response.status == 303
    assert await registration.registration_mode(svc) == "invite"
    response = await client.post("/admin/settings", data={
        "csrf_token": token, "registration_mode": "sometimes"})
    assert response.status == 422
    assert await registration.registration_mode(svc) == "invite"
    audit_page = await (await client.get("/admin/audit")).text()
    assert "settings.registration_mode" in audit_page and "rule.create" in audit_page


async def test_dashboard_figures(client: TestClient, svc: Services, world: World) -> None:
    def queue(db: Any) -> None:
        for host in ("slow.test", "slow.test", "gone.test"):
            job_store.put_job(db, "deliver", {"x": 1}, now=0.0, host=host)
        db.execute("UPDATE jobs SET state = 'dead' WHERE host = 'gone.test'")
    await svc.storage.write(queue)
    await log_in(client, world.moderator)
    page = html.unescape(await (await client.get("/admin")).text())
    row = re.search(r"<tr><td>slow\.test</td><td class=\"num\">(\d+)</td>"
                    r"<td class=\"num\">(\d+)</td></tr>", page)
    assert row is not None and row.groups() == ("2", "0")
    assert re.search(r"<td>gone\.test</td><td class=\"num\">0</td><td class=\"num\">1</td>",
                     page)
    assert "inscriptions en attente" in page and "base de données" in page
    assert re.search(r"<strong>[\d.]+ (KiB|MiB)</strong> base de données", page)


# -- every page in French and English -------------------------------------------------------------

def _visible_text(page: str) -> str:
    page = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


async def test_every_admin_page_is_fully_translated(client: TestClient, svc: Services,
                                                    world: World) -> None:
    await log_in(client, world.admin)
    french, english = i18n.catalogue("fr"), i18n.catalogue("en")
    # Messages whose French differs from the English id, long enough to be unambiguous.
    untranslated = {m for m, fr in french.items() if fr != m and len(m) > 12
                    and " " in m}
    for path in admin_routes(client, "GET"):
        if path.endswith(".csv"):
            continue
        url = fill(path, world)
        fr_page = await client.get(url + ("&" if "?" in url else "?") + "lang=fr")
        assert fr_page.status == 200, url
        text = _visible_text(await fr_page.text())
        leaked = sorted(m for m in untranslated if m in text)
        assert leaked == [], (url, leaked)
        en_page = await client.get(url + ("&" if "?" in url else "?") + "lang=en")
        assert '<html lang="en">' in await en_page.text()
        en_text = _visible_text(await en_page.text())
        assert "Tableau de bord" not in en_text and "Dashboard" in en_text, url
    assert all(message in french for message in NOTICES.values())
    assert all(french[m] != m for m in NOTICES.values())
    assert all(message in french for message in invites.INVITE_MESSAGES.values())
    assert english  # the English catalogue loads


async def test_a_notice_key_that_does_not_exist_shows_nothing(client: TestClient,
                                                              world: World) -> None:
    await log_in(client, world.admin)
    page = await (await client.get("/admin?done=<script>")).text()
    assert "<script>" not in page and 'class="notice"' not in page
