"""The notification policy applied when notifications are written, through the Mastodon API on
a hand-moved clock: each of ``accept``, ``filter`` and ``drop`` for each of the five fields
(a sender meeting the field's condition and one not meeting it), the 3-day follower and
30-day account thresholds, a private mention answering one's own, what is never held back
(follows, follow requests, moderation warnings, accounts one follows, a moderator's
mention), the v1 policy's booleans, and bad values refused with nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Role
from fediverse_mu.domain.notification_groups import POLICY_FIELDS
from fediverse_mu.services import accounts, moderation
from fediverse_mu.services.context import Services
from tests.conftest import FakeClock, auth, count, make_token, make_user, ok, post
from tests.web.test_admin_web import fingerprint

Schema = Callable[[Any, str], None]
DAY = 86_400.0
POLICY = "/api/v2/notifications/policy"


async def account_id(svc: Services, username: str) -> int:
    """The id of a local account."""
    account = await accounts.get_local_account(svc, username)
    assert account is not None
    return account.id


async def listed(client: TestClient, token: str, query: str = "") -> list[tuple[str, str, bool]]:
    """(type, sender, filtered) of a resident's notifications, newest first."""
    found = await ok(await client.get(f"/api/v1/notifications{query}", headers=auth(token)))
    return [(n["type"], n["account"]["acct"], n.get("filtered", False)) for n in found]


async def set_policy(client: TestClient, token: str, **fields: str) -> dict[str, Any]:
    """PATCH the v2 policy; every field not named is ``accept``."""
    body = {name: fields.get(name, "accept") for name in POLICY_FIELDS}
    found: dict[str, Any] = await ok(await client.patch(POLICY, headers=auth(token), json=body))
    return found


async def follow(client: TestClient, token: str, target: int) -> None:
    """Follow a local account (none of them is locked here)."""
    await ok(await client.post(f"/api/v1/accounts/{target}/follow", headers=auth(token)))


async def mention(client: TestClient, token: str, who: str, **extra: Any) -> dict[str, Any]:
    """Post a status mentioning ``who``."""
    return await post(client, token, status=f"@{who} bonjour", **extra)


# For each field, a scene in which bob meets its condition and carol does not; both mention
# alice. Accounts are old (31 days) unless the scene makes one new.
async def _scene(field: str, client: TestClient, svc: Services, clock: FakeClock,
                 tokens: dict[str, str]) -> None:
    alice = tokens["alice"]
    if field == "for_not_following":
        await follow(client, alice, await account_id(svc, "carol"))
    elif field == "for_not_followers":
        await follow(client, tokens["carol"], await account_id(svc, "alice"))
        clock.advance(3 * DAY + 60)  # carol has followed for more than three days
        await follow(client, tokens["bob"], await account_id(svc, "alice"))  # bob just now
    elif field == "for_new_accounts":
        tokens["bob"] = await make_token(svc, "bob")  # created now, after the 31 days
    elif field == "for_limited_accounts":
        await moderation.act_on_account(svc, None, await account_id(svc, "bob"), "silence")


async def _send(field: str, client: TestClient, tokens: dict[str, str]) -> str:
    """Bob's and carol's mentions of alice; returns bob's status id."""
    if field == "for_private_mentions":
        # Carol answers a direct message alice sent her; bob writes to alice unasked.
        opening = await mention(client, tokens["alice"], "carol", visibility="direct")
        await mention(client, tokens["carol"], "alice", visibility="direct",
                      in_reply_to_id=opening["id"])
        return str((await mention(client, tokens["bob"], "alice", visibility="direct"))["id"])
    await mention(client, tokens["carol"], "alice")
    return str((await mention(client, tokens["bob"], "alice"))["id"])


@pytest.mark.parametrize("value", ["accept", "filter", "drop"])
@pytest.mark.parametrize("field", POLICY_FIELDS)
async def test_each_value_of_each_field(clocked: TestClient, clock: FakeClock, field: str,
                                        value: str, assert_schema: Schema) -> None:
    svc: Services = clocked.server.app[services_key]
    tokens = {name: await make_token(svc, name) for name in ("alice", "carol")}
    if field != "for_new_accounts":
        tokens["bob"] = await make_token(svc, "bob")
    clock.advance(31 * DAY)
    await _scene(field, clocked, svc, clock, tokens)
    alice_id, bob_id = await account_id(svc, "alice"), await account_id(svc, "bob")
    policy = await set_policy(clocked, tokens["alice"], **{field: value})
    assert_schema(policy, "NotificationPolicy")
    status_id = await _send(field, clocked, tokens)

    mentions = [n for n in await listed(clocked, tokens["alice"]) if n[0] == "mention"]
    carol = [("mention", "carol", False)]
    requests = await ok(await clocked.get("/api/v1/notifications/requests",
                                          headers=auth(tokens["alice"])))
    stored = await count(svc, "SELECT count(*) FROM notifications WHERE account_id = ?"
                         " AND from_account_id = ? AND type = 'mention'", alice_id, bob_id)
    summary = (await ok(await clocked.get(POLICY, headers=auth(tokens["alice"]))))["summary"]
    if value == "accept":
        assert mentions == [("mention", "bob", False), *carol]
        assert requests == [] and summary["pending_requests_count"] == 0
    elif value == "filter":
        assert mentions == carol
        assert [n for n in await listed(clocked, tokens["alice"], "?include_filtered=true")
                if n[0] == "mention"] == [("mention", "bob", True), *carol]
        assert [(r["account"]["acct"], r["notifications_count"], r["last_status"]["id"])
                for r in requests] == [("bob", "1", status_id)]
        assert_schema(requests[0], "NotificationRequest")
        assert summary == {"pending_requests_count": 1, "pending_notifications_count": 1}
    else:
        assert mentions == carol
        assert stored == 0 and requests == []  # not even kept
        assert await count(svc, "SELECT count(*) FROM notification_requests"
                           " WHERE account_id = ?", alice_id) == 0


async def test_favourites_and_boosts_are_filtered_without_a_request(
        client: TestClient, svc: Services) -> None:
    alice, bob = await make_token(svc, "alice"), await make_token(svc, "bob")
    await set_policy(client, alice, for_not_following="filter")
    mine = await post(client, alice, status="la soupe est prête")
    for action in ("favourite", "reblog"):
        await ok(await client.post(f"/api/v1/statuses/{mine['id']}/{action}",
                                   headers=auth(bob)))
    assert await listed(client, alice) == []
    assert await listed(client, alice, "?include_filtered=true") == [
        ("reblog", "bob", True), ("favourite", "bob", True)]
    # Only mentions make requests (Mastodon's rule); the account's own listing shows them.
    assert await ok(await client.get("/api/v1/notifications/requests",
                                     headers=auth(alice))) == []
    bob_id = await account_id(svc, "bob")
    assert len(await listed(client, alice, f"?account_id={bob_id}")) == 2
    grouped = await ok(await client.get("/api/v2/notifications", headers=auth(alice)))
    assert grouped["notification_groups"] == []
    assert (await ok(await client.get("/api/v1/notifications/unread_count",
                                      headers=auth(alice))))["count"] == 0


async def test_a_follower_of_three_days_and_an_account_of_thirty(clocked: TestClient,
                                                                 clock: FakeClock) -> None:
    svc: Services = clocked.server.app[services_key]
    alice, bob = await make_token(svc, "alice"), await make_token(svc, "bob")
    await set_policy(clocked, alice, for_not_followers="filter", for_new_accounts="drop")
    await follow(clocked, bob, await account_id(svc, "alice"))
    clock.advance(29 * DAY)
    await mention(clocked, bob, "alice")  # a new account: dropped (drop beats filter)
    assert await listed(clocked, alice, "?include_filtered=true&types[]=mention") == []
    await set_policy(clocked, alice, for_not_followers="filter")
    clock.advance(2 * DAY)
    await mention(clocked, bob, "alice")  # an old account following for 31 days
    assert await listed(clocked, alice, "?types[]=mention") == [("mention", "bob", False)]
    # A fresh follow does not count as a follower for three days.
    carol = await make_token(svc, "carol")
    clock.advance(31 * DAY)
    await follow(clocked, carol, await account_id(svc, "alice"))
    clock.advance(2 * DAY)
    await mention(clocked, carol, "alice")
    assert ("mention", "carol", False) not in await listed(clocked, alice)
    clock.advance(DAY + 60)
    await post(clocked, carol, status="@alice encore moi")
    assert (await listed(clocked, alice, "?types[]=mention"))[0] == ("mention", "carol", False)


async def test_what_is_never_held_back(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    drop_all = {name: "drop" for name in POLICY_FIELDS}
    await set_policy(client, alice, **drop_all)
    alice_id = await account_id(svc, "alice")
    # A new account nobody follows: its follow gets through, its mention does not.
    bob = await make_token(svc, "bob")
    await follow(client, bob, alice_id)
    await mention(client, bob, "alice", visibility="direct")
    # An account alice follows (that does not follow her) is never held back.
    dave = await make_token(svc, "dave")
    await follow(client, alice, await account_id(svc, "dave"))
    await mention(client, dave, "alice", visibility="direct")
    # A moderator's mention neither.
    modo = await make_user(svc, "modo", role=Role.MODERATOR)
    modo_token = await make_token(svc, "modo")
    await mention(client, modo_token, "alice", visibility="direct")
    # Nor a moderation warning.
    await moderation.act_on_account(svc, modo.account, alice_id, "warn", "Doucement")
    assert await listed(client, alice, "?include_filtered=true") == [
        ("moderation_warning", "alice", False), ("mention", "modo", False),
        ("mention", "dave", False), ("follow", "bob", False)]
    # A locked account's follow requests get through too.
    await ok(await client.patch("/api/v1/accounts/update_credentials", headers=auth(alice),
                                data={"locked": "true"}))
    carol = await make_token(svc, "carol")
    await follow(client, carol, alice_id)
    assert (await listed(client, alice))[0] == ("follow_request", "carol", False)


async def test_the_v1_policy_and_bad_values(client: TestClient, svc: Services,
                                            assert_schema: Schema) -> None:
    alice = await make_token(svc, "alice")
    v1 = await ok(await client.get("/api/v1/notifications/policy", headers=auth(alice)))
    assert_schema(v1, "V1NotificationPolicy")
    assert v1 == {"filter_not_following": False, "filter_not_followers": False,
                  "filter_new_accounts": False, "filter_private_mentions": True,
                  "summary": {"pending_requests_count": 0, "pending_notifications_count": 0}}
    changed = await ok(await client.put("/api/v1/notifications/policy", headers=auth(alice),
                                         json={"filter_not_following": True,
                                               "filter_private_mentions": False}))
    assert_schema(changed, "V1NotificationPolicy")
    assert changed["filter_not_following"] and not changed["filter_private_mentions"]
    v2 = await ok(await client.get(POLICY, headers=auth(alice)))
    assert (v2["for_not_following"], v2["for_private_mentions"]) == ("filter", "accept")
    # A v2 drop reads as filtering in v1, and the v1 change keeps the other fields.
    await ok(await client.patch(POLICY, headers=auth(alice), data={"for_new_accounts": "drop"}))
    v1 = await ok(await client.patch("/api/v1/notifications/policy", headers=auth(alice),
                                     data={"filter_not_followers": "1"}))
    assert v1["filter_new_accounts"] and v1["filter_not_followers"]
    assert (await ok(await client.get(POLICY, headers=auth(alice))))["for_new_accounts"] == "drop"

    # Bad values: 422, nothing changed (a good field beside a bad one is not kept either).
    reader = await make_token(svc, "alice", "read:notifications")
    before = await fingerprint(svc)
    for path, method, body in (
            (POLICY, "patch", {"for_not_following": "accept", "for_new_accounts": "maybe"}),
            (POLICY, "put", {"for_limited_accounts": "DROP"}),
            (POLICY, "patch", {"for_private_mentions": ""}),
            ("/api/v1/notifications/policy", "put",
             {"filter_not_following": False, "filter_new_accounts": "perhaps"})):
        response = await getattr(client, method)(path, headers=auth(alice), json=body)
        assert response.status == 422, (path, body)
        assert "error" in await response.json()
    assert await fingerprint(svc) == before
    bad = await client.get("/api/v1/notifications?include_filtered=sometimes",
                           headers=auth(alice))
    assert bad.status == 422
    # Scopes: reading needs read:notifications, changing write:notifications.
    assert (await client.get(POLICY, headers=auth(reader))).status == 200
    assert (await client.patch(POLICY, headers=auth(reader),
                               json={"for_new_accounts": "accept"})).status == 403
    assert (await client.get("/api/v1/notifications/policy")).status == 401
    assert await fingerprint(svc) == before
