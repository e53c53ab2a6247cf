"""Residents' moderation endpoints of the Mastodon API: instance rules (v1 list and the v2
instance), the public list of moderated servers, reports (statuses and rules checked: another
account's or unknown status ids and unknown rule ids are refused and nothing is stored) and
hiding a domain (posts and notifications hidden, its follows of the resident removed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fediverse_mu.domain import Forbidden, Role
from fediverse_mu.services import federation_policy, moderation, rules
from fediverse_mu.services.context import Services
from tests.conftest import auth, count, make_token, make_user, ok, post

Schema = Callable[[Any, str], None]


async def test_instance_rules_come_from_the_rules_table(client: TestClient, svc: Services,
                                                        assert_schema: Schema) -> None:
    assert await ok(await client.get("/api/v1/instance/rules")) == []
    first = await rules.add_rule(svc, None, "Be kind", "Nobody is a stranger here")
    await rules.add_rule(svc, None, "No ads")
    found = await ok(await client.get("/api/v1/instance/rules"))
    assert [r["text"] for r in found] == ["Be kind", "No ads"]
    assert found[0] == {"id": str(first.id), "text": "Be kind",
                        "hint": "Nobody is a stranger here"}
    for item in found:
        assert_schema(item, "Rule")
    v2 = await ok(await client.get("/api/v2/instance"))
    assert [r["text"] for r in v2["rules"]] == ["Be kind", "No ads"]
    v1 = await ok(await client.get("/api/v1/instance"))
    assert len(v1["rules"]) == 2
    await rules.remove_rule(svc, None, first.id)
    assert len(await ok(await client.get("/api/v1/instance/rules"))) == 1


async def test_public_list_of_moderated_servers(client: TestClient, svc: Services,
                                                assert_schema: Schema) -> None:
    await federation_policy.block_domain(svc, None, "spam.example", severity="suspend",
                                         public_comment="spam", private_comment="secret")
    await federation_policy.block_domain(svc, None, "loud.example", severity="silence",
                                         obfuscate=True)
    await federation_policy.block_domain(svc, None, "quiet.example", severity="noop")
    found = await ok(await client.get("/api/v1/instance/domain_blocks"))
    assert {b["severity"] for b in found} == {"suspend", "silence"}
    by_severity = {b["severity"]: b for b in found}
    assert by_severity["suspend"]["domain"] == "spam.example"
    assert by_severity["suspend"]["comment"] == "spam"
    assert "secret" not in str(found)
    assert by_severity["silence"]["domain"] != "loud.example"  # obfuscated
    for item in found:
        assert_schema(item, "DomainBlock")


async def test_a_resident_reports_a_status(client: TestClient, svc: Services,
                                           assert_schema: Schema) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    rule = await rules.add_rule(svc, None, "Be kind")
    bad = await post(client, bob, status="rude words")
    bob_id = bad["account"]["id"]
    report = await ok(await client.post("/api/v1/reports", headers=auth(alice), json={
        "account_id": bob_id, "status_ids": [bad["id"]], "rule_ids": [str(rule.id)],
        "comment": "not nice", "category": "violation"}))
    assert_schema(report, "Report")
    assert report["status_ids"] == [bad["id"]] and report["rule_ids"] == [str(rule.id)]
    assert report["target_account"]["id"] == bob_id and not report["forwarded"]
    queue = await moderation.list_reports(svc, resolved=False)
    assert [r.comment for r in queue] == ["not nice"]
    # Form encoding works too; rules default the category to violation.
    report = await ok(await client.post("/api/v1/reports", headers=auth(alice), data=[
        ("account_id", bob_id), ("rule_ids[]", str(rule.id))]))
    assert report["category"] == "violation"


async def test_bad_reports_are_refused_and_nothing_stored(client: TestClient,
                                                          svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    carol = await make_token(svc, "carol")
    bob_status = await post(client, bob, status="hello")
    carol_status = await post(client, carol, status="other")
    bob_id = bob_status["account"]["id"]
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"account_id": bob_id, "status_ids": [carol_status["id"]]}, 422, "not the reported"),
        ({"account_id": bob_id, "status_ids": ["999999999"]}, 422, "not the reported"),
        ({"account_id": bob_id, "rule_ids": ["12345"]}, 422, "unknown rule"),
        ({"account_id": bob_id, "status_ids": ["abc"]}, 422, "must be ids"),
        ({"account_id": bob_id, "category": "boredom"}, 422, "Category"),
        ({"account_id": bob_id, "comment": "x" * 1001}, 422, "too long"),
        ({"account_id": "424242"}, 404, "Record not found"),
        ({}, 422, "account_id"),
        ({"account_id": alice_id} if (alice_id := (await ok(await client.get(
            "/api/v1/accounts/verify_credentials", headers=auth(alice))))["id"]) else {},
         422, "yourself"),
    ]
    for body, status, message in cases:
        response = await client.post("/api/v1/reports", headers=auth(alice), json=body)
        assert response.status == status, (body, await response.text())
        assert message in (await response.json())["error"], body
    read_only = await make_token(svc, "alice", scopes="read")
    response = await client.post("/api/v1/reports", headers=auth(read_only),
                                 json={"account_id": bob_id})
    assert response.status == 403
    assert await count(svc, "SELECT count(*) FROM reports") == 0


async def test_hiding_a_domain(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    assert await ok(await client.get("/api/v1/domain_blocks", headers=auth(alice))) == []
    for domain in ("b.test", "c.test"):
        assert await ok(await client.post("/api/v1/domain_blocks", headers=auth(alice),
                                          json={"domain": domain})) == {}
    assert await ok(await client.get("/api/v1/domain_blocks", headers=auth(alice))) == \
        ["c.test", "b.test"]
    await ok(await client.delete("/api/v1/domain_blocks", headers=auth(alice),
                                 json={"domain": "c.test"}))
    assert await ok(await client.get("/api/v1/domain_blocks", headers=auth(alice))) == \
        ["b.test"]
    response = await client.post("/api/v1/domain_blocks", headers=auth(alice),
                                 json={"domain": "not a domain"})
    assert response.status == 422
    assert await ok(await client.get("/api/v1/domain_blocks", headers=auth(alice))) == \
        ["b.test"]


async def test_moderators_only_for_the_queue(svc: Services) -> None:
    resident = (await make_user(svc, "rita")).account
    moderator = (await make_user(svc, "marie", role=Role.MODERATOR)).account
    target = (await make_user(svc, "bob")).account
    report = await moderation.create_report(svc, resident, target.id, comment="spam",
                                            category="spam")
    for call in (moderation.resolve_report(svc, resident, report.id),
                 moderation.assign_report(svc, resident, report.id, resident),
                 moderation.act_on_account(svc, resident, target.id, "suspend", "x")):
        with pytest.raises(Forbidden):
            await call
    assert not (await moderation.get_report(svc, report.id)).action_taken
    assert not (await moderation.state(svc, target.id)).suspended
    await moderation.add_report_note(svc, moderator, report.id, "looking")
    resolved = await moderation.resolve_report(svc, moderator, report.id)
    assert resolved.action_taken and resolved.action_taken_by_account_id == moderator.id
    reopened = await moderation.reopen_report(svc, moderator, report.id)
    assert not reopened.action_taken
    assert [n.content for n in await moderation.report_notes(svc, report.id)] == ["looking"]


async def test_moderated_servers_page_in_french_and_english(client: TestClient,
                                                           svc: Services) -> None:
    response = await client.get("/about/moderated-servers?lang=fr")
    assert response.status == 200
    assert "est modéré pour le moment" in await response.text()
    await federation_policy.block_domain(svc, None, "spam.example", severity="suspend",
                                         public_comment="Spam massif", private_comment="secret")
    await federation_policy.block_domain(svc, None, "loud.example", severity="silence")
    text = await (await client.get("/about/moderated-servers?lang=fr")).text()
    assert "Serveurs suspendus" in text and "Serveurs limités" in text
    assert "spam.example" in text and "Spam massif" in text and "secret" not in text
    text = await (await client.get("/about/moderated-servers?lang=en")).text()
    assert "Suspended servers" in text and "loud.example" in text
