"""What moderation shows on the public faces, through HTTP: a pending account does not exist
(actor, profile, WebFinger, statuses, lookup, search), a suspended local account's actor is a
410 Tombstone and its profile page says so (French and English), unsuspending sends its actor
again; ``suspended`` and ``limited`` on Account entities; ``moderation_warning``
notifications (listed, streamed, filtered); silenced authors left out of the public and
hashtag streams; and the retention setting in the web admin. Bad input changes nothing."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from fediverse_mu.domain import Invalid, Role
from fediverse_mu.domain.registration import SignUp
from fediverse_mu.services import federation_policy, moderation, registration, retention
from fediverse_mu.services.context import Services
from tests.conftest import auth, count, make_token, make_user, ok, post
from tests.web.test_admin_web import fingerprint, hidden, log_in, remote_account
from tests.web.test_streaming import event, synced

AS2 = {"Accept": "application/activity+json"}


async def pending_applicant(svc: Services) -> int:
    await registration.set_registration_mode(svc, None, "approval")
    pending = await registration.sign_up(svc, SignUp(
        username="applicant", email="applicant@example.test", password="long enough pw",
        agreement=True, reason="Je passe souvent"))
    return pending.user.id


async def test_a_pending_account_does_not_exist_until_approved(client: TestClient,
                                                               svc: Services) -> None:
    user_id = await pending_applicant(svc)
    alice = await make_token(svc, "alice")
    account_id = await count(svc, "SELECT account_id FROM users WHERE id = ?", user_id)
    before = await fingerprint(svc)
    for path, headers in (("/users/applicant", AS2), ("/@applicant", {}),
                          ("/users/applicant/outbox", AS2),
                          ("/.well-known/webfinger?resource=acct:applicant@a.test", {}),
                          ("/.well-known/webfinger?resource=http://a.test/users/applicant", {}),
                          ("/api/v1/accounts/lookup?acct=applicant", {}),
                          (f"/api/v1/accounts/{account_id}", {})):
        response = await client.get(path, headers=headers)
        assert response.status == 404, path
    found = await ok(await client.get("/api/v1/accounts/search?q=applic", headers=auth(alice)))
    assert found == []
    results = await ok(await client.get("/api/v2/search?q=applicant&type=accounts",
                                        headers=auth(alice)))
    assert results["accounts"] == []
    relationships = await ok(await client.get(
        f"/api/v1/accounts/relationships?id[]={account_id}", headers=auth(alice)))
    assert relationships == []
    assert await fingerprint(svc) == before  # looking changes nothing

    await registration.approve(svc, None, user_id)
    assert (await client.get("/users/applicant", headers=AS2)).status == 200
    assert (await client.get("/@applicant")).status == 200
    assert (await client.get("/.well-known/webfinger?resource=acct:applicant@a.test")).status \
        == 200
    found = await ok(await client.get("/api/v1/accounts/search?q=applic", headers=auth(alice)))
    assert [a["acct"] for a in found] == ["applicant"]


async def test_a_suspended_local_account_is_gone(client: TestClient, svc: Services,
                                                 assert_schema: Any) -> None:
    alice = await make_token(svc, "alice")
    status = await post(client, alice, status="Un secret de jardinier")
    account_id = int(status["account"]["id"])
    await moderation.act_on_account(svc, None, account_id, "suspend", "spam")

    actor = await client.get("/users/alice", headers=AS2)
    assert actor.status == 410
    tombstone = await actor.json()
    assert tombstone["type"] == "Tombstone" and tombstone["id"] == "http://a.test/users/alice"
    for lang, says in (("en", "This account has been suspended"),
                       ("fr", "Ce compte a été suspendu")):
        profile = await client.get(f"/@alice?lang={lang}")
        assert profile.status == 410
        text = await profile.text()
        assert says in text and "jardinier" not in text
    assert (await client.get(f"/users/alice/statuses/{status['id']}", headers=AS2)).status \
        == 404
    entity = await ok(await client.get(f"/api/v1/accounts/{account_id}"))
    assert_schema(entity, "Account")
    assert entity["suspended"] is True and entity["display_name"] == ""
    assert "limited" not in entity


async def test_unsuspending_sends_the_actor_to_followers(client: TestClient,
                                                         svc: Services) -> None:
    bob = await make_user(svc, "bob")
    far = await remote_account(svc)

    def follow(db: Any) -> None:
        db.execute("INSERT INTO follows (follower_id, followee_id, state, uri, created_at)"
                   " VALUES (?, ?, 'accepted', 'http://spam.test/f/1', '2024-01-01')",
                   [far, bob.account.id])

    await svc.storage.write(follow)

    async def updates() -> list[dict[str, Any]]:
        def run(db: Any) -> list[dict[str, Any]]:
            return [json.loads(r[0]) for r in db.execute(
                "SELECT payload FROM jobs WHERE kind = 'deliver'")]
        return [p for p in await svc.storage.read(run) if p["activity"]["type"] == "Update"]

    await moderation.act_on_account(svc, None, bob.account.id, "unsuspend")
    assert await updates() == []  # it was not suspended: nothing to tell
    await moderation.act_on_account(svc, None, bob.account.id, "suspend")
    await moderation.act_on_account(svc, None, bob.account.id, "unsuspend")
    sent = await updates()
    assert [p["inbox"] for p in sent] == ["http://spam.test/users/spammer/inbox"]
    assert sent[0]["activity"]["object"]["id"] == "http://a.test/users/bob"
    assert (await client.get("/users/bob", headers=AS2)).status == 200


async def test_account_entities_say_limited(client: TestClient, svc: Services,
                                            assert_schema: Any) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_user(svc, "bob")
    remote_id = await remote_account(svc)
    path = f"/api/v1/accounts/{bob.account.id}"
    assert "limited" not in await ok(await client.get(path, headers=auth(alice)))
    await moderation.act_on_account(svc, None, bob.account.id, "silence")
    entity = await ok(await client.get(path, headers=auth(alice)))
    assert_schema(entity, "Account")
    assert entity["limited"] is True and "suspended" not in entity
    await moderation.act_on_account(svc, None, bob.account.id, "unsilence")
    assert "limited" not in await ok(await client.get(path, headers=auth(alice)))
    # Through its domain: a silenced server's accounts are limited, a suspended one's gone.
    await federation_policy.block_domain(svc, None, "spam.test", severity="silence")
    remote = await ok(await client.get(f"/api/v1/accounts/{remote_id}", headers=auth(alice)))
    assert remote["limited"] is True
    await federation_policy.block_domain(svc, None, "spam.test", severity="suspend")
    remote = await ok(await client.get(f"/api/v1/accounts/{remote_id}", headers=auth(alice)))
    assert remote["suspended"] is True
    assert_schema(remote, "Account")


async def test_warnings_are_notified(client: TestClient, svc: Services,
                                     assert_schema: Any) -> None:
    alice = await make_token(svc, "alice")
    modo = await make_user(svc, "modo", role=Role.MODERATOR)
    me = await ok(await client.get("/api/v1/accounts/verify_credentials", headers=auth(alice)))
    notes = await client.ws_connect("/api/v1/streaming?stream=user:notification",
                                    headers=auth(alice))
    await synced(notes)
    await moderation.act_on_account(svc, modo.account, int(me["id"]), "warn",
                                    "Merci de rester courtois")
    streamed = json.loads((await event(notes))["payload"])
    assert streamed["type"] == "moderation_warning"
    listed = await ok(await client.get("/api/v1/notifications", headers=auth(alice)))
    assert [n["id"] for n in listed] == [streamed["id"]]
    notification = listed[0]
    assert_schema(notification, "Notification")
    warning = notification["moderation_warning"]
    assert warning["action"] == "none" and warning["text"] == "Merci de rester courtois"
    assert warning["target_account"]["id"] == me["id"] == notification["account"]["id"]
    assert "modo" not in json.dumps(notification)  # the moderator stays anonymous

    # A second warning is a second notification; a silence is told too, and the silenced
    # resident still sees them.
    await moderation.act_on_account(svc, None, int(me["id"]), "warn", "Encore")
    await moderation.act_on_account(svc, None, int(me["id"]), "silence", "Trop de spam")
    listed = await ok(await client.get("/api/v1/notifications", headers=auth(alice)))
    assert [(n["moderation_warning"]["action"], n["moderation_warning"]["text"])
            for n in listed] == [("silence", "Trop de spam"), ("none", "Encore"),
                                 ("none", "Merci de rester courtois")]
    only = await ok(await client.get("/api/v1/notifications?types[]=moderation_warning",
                                     headers=auth(alice)))
    assert len(only) == 3
    assert await ok(await client.get(
        "/api/v1/notifications?exclude_types[]=moderation_warning", headers=auth(alice))) == []
    one = await ok(await client.get(f"/api/v1/notifications/{streamed['id']}",
                                    headers=auth(alice)))
    assert one["moderation_warning"]["id"] == warning["id"]

    # Bad input: nothing recorded, nobody notified.
    before = await fingerprint(svc)
    try:
        await moderation.act_on_account(svc, None, int(me["id"]), "warn", "x" * 6000)
    except Invalid:
        pass
    else:
        raise AssertionError("a reason of 6,000 characters was accepted")
    assert await fingerprint(svc) == before
    # A remote account has no one here to tell.
    remote_id = await remote_account(svc)
    await moderation.act_on_account(svc, None, remote_id, "warn", "spam")
    assert await count(svc, "SELECT count(*) FROM notifications WHERE account_id = ?",
                       remote_id) == 0
    await notes.close()


async def test_silenced_authors_stay_out_of_public_streams(client: TestClient,
                                                           svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    carol = await make_token(svc, "carol")
    bob_id = (await ok(await client.get("/api/v1/accounts/verify_credentials",
                                        headers=auth(bob))))["id"]
    await ok(await client.post(f"/api/v1/accounts/{bob_id}/follow", headers=auth(carol)))
    await moderation.act_on_account(svc, None, int(bob_id), "silence", "spam")
    public = await client.ws_connect("/api/v1/streaming?stream=public")
    tagged = await client.ws_connect("/api/v1/streaming?stream=hashtag&tag=marche")
    home = await client.ws_connect("/api/v1/streaming?stream=user", headers=auth(carol))
    for ws in (public, tagged, home):
        await synced(ws)
    loud = await post(client, bob, status="Achetez ! #marche")
    quiet = await post(client, alice, status="Bonjour #marche")
    # The public streams skip bob's post: the first thing they get is alice's.
    for ws in (public, tagged):
        got = await event(ws)
        assert json.loads(got["payload"])["id"] == quiet["id"]
    # His followers still get it at home.
    assert json.loads((await event(home))["payload"])["id"] == loud["id"]
    for ws in (public, tagged, home):
        await ws.close()


async def test_the_retention_setting_in_the_web_admin(client: TestClient,
                                                      svc: Services) -> None:
    admin = await make_user(svc, "boss", role=Role.ADMIN)
    moderator = await make_user(svc, "modo", role=Role.MODERATOR)
    token = await log_in(client, admin)
    page = await (await client.get("/admin/settings?lang=en")).text()
    assert 'name="retention_days"' in page and 'value="30"' in page
    assert "Media from other servers are never copied here" in page
    form = hidden(page)
    response = await client.post("/admin/settings/retention", allow_redirects=False,
                                 data={"csrf_token": form["csrf_token"],
                                       "retention_days": "90"})
    assert response.status == 303
    assert response.headers["Location"] == "/admin/settings?done=retention_saved"
    assert await retention.retention_days(svc) == 90
    assert await count(svc, "SELECT count(*) FROM audit_log WHERE action ="
                       " 'settings.retention' AND detail = '90 days'") == 1
    fr = await (await client.get("/admin/settings?done=retention_saved&lang=fr")).text()
    assert "La durée de conservation" in fr

    before = await fingerprint(svc)
    for value in ("abc", "-5", "", "100000"):
        bad = await client.post("/admin/settings/retention",
                                data={"csrf_token": token, "retention_days": value})
        assert bad.status == 422, value
    assert (await client.post("/admin/settings/retention",
                              data={"retention_days": "7"})).status == 403  # no CSRF token
    await log_in(client, moderator)
    assert (await client.post("/admin/settings/retention",
                              data={"csrf_token": token, "retention_days": "7"})).status == 403
    assert await fingerprint(svc) == before
    assert await retention.retention_days(svc) == 90
