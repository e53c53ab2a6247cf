"""The Mastodon admin API subset: accounts (list, one, action, unsilence/unsuspend), reports
(list, one, assign_to_self, unassign, resolve, reopen), domain blocks and allows CRUD; the
entities checked against the OpenAPI shapes; residents, tokens without the admin scope and
moderators on admin-only endpoints refused with 403 and nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from fediverse_mu.domain import Role
from fediverse_mu.services import audit, federation_policy, moderation
from fediverse_mu.services.context import Services
from tests.conftest import auth, count, make_token, make_user, ok, post

Schema = Callable[[Any, str], None]
ADMIN_SCOPES = "read write admin:read admin:write"


async def staff_token(svc: Services, name: str, role: Role, scopes: str = ADMIN_SCOPES) -> str:
    await make_user(svc, name, role=role)
    return await make_token(svc, name, scopes=scopes)


async def test_accounts_list_get_and_actions(client: TestClient, svc: Services,
                                             assert_schema: Schema) -> None:
    moderator = await staff_token(svc, "marie", Role.MODERATOR)
    bob = await make_token(svc, "bob")
    bob_id = (await post(client, bob, status="hello"))["account"]["id"]
    listed = await ok(await client.get("/api/v1/admin/accounts?local=true",
                                       headers=auth(moderator)))
    assert {"marie", "bob"} <= {a["username"] for a in listed}
    for item in listed:
        if item["username"] in ("marie", "bob"):  # accounts with a login (and an e-mail)
            assert_schema(item, "AdminAccount")
    one = await ok(await client.get(f"/api/v1/admin/accounts/{bob_id}", headers=auth(moderator)))
    assert one["account"]["id"] == bob_id and not one["silenced"] and not one["suspended"]
    await ok(await client.post(f"/api/v1/admin/accounts/{bob_id}/action",
                               headers=auth(moderator),
                               json={"type": "silence", "text": "too loud"}))
    one = await ok(await client.get(f"/api/v1/admin/accounts/{bob_id}", headers=auth(moderator)))
    assert one["silenced"]
    silenced = await ok(await client.get("/api/v1/admin/accounts?silenced=true",
                                         headers=auth(moderator)))
    assert [a["id"] for a in silenced] == [bob_id]
    unsilenced = await ok(await client.post(f"/api/v1/admin/accounts/{bob_id}/unsilence",
                                            headers=auth(moderator)))
    assert not unsilenced["silenced"]
    await ok(await client.post(f"/api/v1/admin/accounts/{bob_id}/action",
                               headers=auth(moderator), json={"type": "suspend"}))
    # bob's token stops working at once.
    response = await client.get("/api/v1/accounts/verify_credentials", headers=auth(bob))
    assert response.status == 401
    one = await ok(await client.post(f"/api/v1/admin/accounts/{bob_id}/unsuspend",
                                     headers=auth(moderator)))
    assert not one["suspended"]
    actions = [e.action for e in await audit.entries(svc)]
    assert actions[:4] == ["account.unsuspend", "account.suspend", "account.unsilence",
                           "account.silence"]
    response = await client.post(f"/api/v1/admin/accounts/{bob_id}/action",
                                 headers=auth(moderator), json={"type": "obliterate"})
    assert response.status == 422


async def test_reports_queue(client: TestClient, svc: Services, assert_schema: Schema) -> None:
    moderator = await staff_token(svc, "marie", Role.MODERATOR)
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    status = await post(client, bob, status="rude", visibility="private")
    created = await ok(await client.post("/api/v1/reports", headers=auth(alice), json={
        "account_id": status["account"]["id"], "status_ids": [status["id"]],
        "comment": "rude"}))
    report_id = created["id"]
    queue = await ok(await client.get("/api/v1/admin/reports", headers=auth(moderator)))
    assert [r["id"] for r in queue] == [report_id]
    assert_schema(queue[0], "AdminReport")
    assert [s["id"] for s in queue[0]["statuses"]] == [status["id"]]  # private, still shown
    assigned = await ok(await client.post(f"/api/v1/admin/reports/{report_id}/assign_to_self",
                                          headers=auth(moderator)))
    assert assigned["assigned_account"]["username"] == "marie"
    unassigned = await ok(await client.post(f"/api/v1/admin/reports/{report_id}/unassign",
                                            headers=auth(moderator)))
    assert unassigned["assigned_account"] is None
    resolved = await ok(await client.post(f"/api/v1/admin/reports/{report_id}/resolve",
                                          headers=auth(moderator)))
    assert resolved["action_taken"] and resolved["action_taken_by_account"]["username"] == "marie"
    assert await ok(await client.get("/api/v1/admin/reports", headers=auth(moderator))) == []
    done = await ok(await client.get("/api/v1/admin/reports?resolved=true",
                                     headers=auth(moderator)))
    assert [r["id"] for r in done] == [report_id]
    reopened = await ok(await client.post(f"/api/v1/admin/reports/{report_id}/reopen",
                                          headers=auth(moderator)))
    assert not reopened["action_taken"]
    # An action with report_id resolves it.
    await ok(await client.post(f"/api/v1/admin/accounts/{status['account']['id']}/action",
                               headers=auth(moderator),
                               json={"type": "warn", "text": "be nice", "report_id": report_id}))
    assert (await moderation.get_report(svc, int(report_id))).action_taken
    response = await client.get("/api/v1/admin/reports/999", headers=auth(moderator))
    assert response.status == 404


async def test_domain_blocks_and_allows_crud(client: TestClient, svc: Services,
                                             assert_schema: Schema) -> None:
    admin = await staff_token(svc, "ada", Role.ADMIN)
    block = await ok(await client.post("/api/v1/admin/domain_blocks", headers=auth(admin), json={
        "domain": "spam.example", "severity": "suspend", "reject_media": True,
        "private_comment": "seen in reports", "public_comment": "spam"}))
    assert_schema(block, "AdminDomainBlock")
    assert block["severity"] == "suspend" and block["reject_media"]
    listed = await ok(await client.get("/api/v1/admin/domain_blocks", headers=auth(admin)))
    assert [b["domain"] for b in listed] == ["spam.example"]
    changed = await ok(await client.put(f"/api/v1/admin/domain_blocks/{block['id']}",
                                        headers=auth(admin), json={"severity": "silence"}))
    assert changed["severity"] == "silence" and changed["reject_media"]
    one = await ok(await client.get(f"/api/v1/admin/domain_blocks/{block['id']}",
                                    headers=auth(admin)))
    assert one["private_comment"] == "seen in reports"
    await ok(await client.delete(f"/api/v1/admin/domain_blocks/{block['id']}",
                                 headers=auth(admin)))
    assert await federation_policy.list_domain_blocks(svc) == []

    allow = await ok(await client.post("/api/v1/admin/domain_allows", headers=auth(admin),
                                       json={"domain": "friends.example"}))
    assert_schema(allow, "AdminDomainAllow")
    assert [a["domain"] for a in await ok(await client.get(
        "/api/v1/admin/domain_allows", headers=auth(admin)))] == ["friends.example"]
    await ok(await client.delete(f"/api/v1/admin/domain_allows/{allow['id']}",
                                 headers=auth(admin)))
    assert await federation_policy.list_domain_allows(svc) == []
    for body in ({"domain": ""}, {"domain": "a.test"}, {"domain": "x.example",
                                                        "severity": "nuke"}):
        response = await client.post("/api/v1/admin/domain_blocks", headers=auth(admin),
                                     json=body)
        assert response.status == 422, body
    assert await federation_policy.list_domain_blocks(svc) == []


async def test_forged_and_unprivileged_calls_are_refused(client: TestClient,
                                                         svc: Services) -> None:
    resident = await make_token(svc, "rita", scopes=ADMIN_SCOPES)  # scopes, but no role
    no_scope = await staff_token(svc, "ada", Role.ADMIN, scopes="read write follow")
    moderator = await staff_token(svc, "marie", Role.MODERATOR)
    target = (await make_user(svc, "bob")).account
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/api/v1/admin/accounts", None),
        ("GET", f"/api/v1/admin/accounts/{target.id}", None),
        ("POST", f"/api/v1/admin/accounts/{target.id}/action", {"type": "suspend"}),
        ("GET", "/api/v1/admin/reports", None),
        ("GET", "/api/v1/admin/domain_blocks", None),
        ("POST", "/api/v1/admin/domain_blocks", {"domain": "x.example"}),
        ("POST", "/api/v1/admin/domain_allows", {"domain": "x.example"}),
    ]
    for token in (resident, no_scope):
        for method, path, body in calls:
            response = await client.request(method, path, headers=auth(token), json=body)
            assert response.status == 403, (method, path, await response.text())
    for method, path, body in calls[-3:]:  # federation policy: admins only
        response = await client.request(method, path, headers=auth(moderator), json=body)
        assert response.status == 403, (method, path)
    response = await client.get("/api/v1/admin/accounts")
    assert response.status == 401
    assert not (await moderation.state(svc, target.id)).suspended
    assert await count(svc, "SELECT count(*) FROM domain_blocks") == 0
    assert await count(svc, "SELECT count(*) FROM domain_allows") == 0
    assert await count(svc, "SELECT count(*) FROM audit_log") == 0
