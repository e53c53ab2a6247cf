"""The first HTTP endpoints: NodeInfo, Mastodon instance (checked against the community
OpenAPI description), health, the home page in French and English, token authentication,
errors, CORS and trailing slashes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fediverse_mu.domain import Role
from fediverse_mu.services.context import Services
from tests.conftest import make_token, make_user


async def test_nodeinfo_discovery_and_documents(client: TestClient, svc: Services) -> None:
    await make_user(svc, "alice")
    response = await client.get("/.well-known/nodeinfo")
    assert response.status == 200
    links = (await response.json())["links"]
    assert [link["href"] for link in links] == ["http://a.test/nodeinfo/2.0",
                                                "http://a.test/nodeinfo/2.1"]
    for version in ("2.0", "2.1"):
        response = await client.get(f"/nodeinfo/{version}")
        assert response.status == 200
        assert f"schema/{version}" in response.headers["Content-Type"]
        doc = await response.json(content_type=None)
        assert doc["version"] == version
        assert doc["software"]["name"] == "fediverse-mu"
        assert doc["protocols"] == ["activitypub"]
        assert doc["openRegistrations"] is True
        assert doc["usage"]["users"] == {"total": 1, "activeMonth": 1, "activeHalfyear": 1}
        assert doc["usage"]["localPosts"] == 0
        assert doc["metadata"]["place"]["kind"] == "tiers-lieu"
        assert ("repository" in doc["software"]) is (version == "2.1")
    assert (await client.get("/nodeinfo/3.0")).status == 404


@pytest.mark.parametrize("path", ["/api/v1/instance", "/api/v1/instance/"])
async def test_instance_v1_matches_the_openapi_shape(
        client: TestClient, svc: Services, path: str,
        assert_schema: Callable[[Any, str], None]) -> None:
    await make_user(svc, "camille", role=Role.ADMIN)
    response = await client.get(path)
    assert response.status == 200
    body = await response.json()
    assert_schema(body, "V1Instance")
    assert body["uri"] == "a.test"
    assert body["email"] == "camille@example.test"  # the first admin, no contact_email set
    assert body["urls"]["streaming_api"] == "ws://a.test"


@pytest.mark.parametrize("path", ["/api/v2/instance", "/api/v2/instance/"])
async def test_instance_v2_matches_the_openapi_shape(
        client: TestClient, svc: Services, path: str,
        assert_schema: Callable[[Any, str], None]) -> None:
    await make_user(svc, "camille", role=Role.ADMIN)
    response = await client.get(path)
    assert response.status == 200
    body = await response.json()
    assert_schema(body, "Instance")
    assert body["domain"] == "a.test"
    assert body["usage"]["users"]["active_month"] == 1
    assert body["configuration"]["urls"]["streaming"] == "ws://a.test"
    assert body["version"].startswith("4.")  # clients read features from the version


async def test_static_icon_named_by_the_instance_is_served(client: TestClient) -> None:
    body = await (await client.get("/api/v2/instance")).json()
    path = body["thumbnail"]["url"].removeprefix("http://a.test")
    response = await client.get(path)
    assert response.status == 200
    assert response.content_type == "image/png"
    assert (await response.read()).startswith(b"\x89PNG")


async def test_healthz(client: TestClient, svc: Services) -> None:
    response = await client.get("/healthz")
    assert response.status == 200 and await response.json() == {"status": "ok"}
    await svc.storage.close()  # the database stops answering
    response = await client.get("/healthz")
    assert response.status == 503 and (await response.json())["status"] == "unavailable"


async def test_home_page_is_french_first_and_english_on_request(client: TestClient) -> None:
    french = await client.get("/")
    assert french.status == 200 and french.content_type == "text/html"
    text = await french.text()
    assert '<html lang="fr">' in text and "Participez depuis" in text
    english = await client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert "Join in from any Mastodon app" in await english.text()
    chosen = await client.get("/?lang=en", headers={"Accept-Language": "fr"})
    assert '<html lang="en">' in await chosen.text()
    assert chosen.cookies["lang"].value == "en"
    assert "default-src 'none'" in chosen.headers["Content-Security-Policy"]


async def test_verify_credentials_with_a_cli_token(
        client: TestClient, svc: Services, assert_schema: Callable[[Any, str], None]) -> None:
    token = await make_token(svc, "alice")
    response = await client.get("/api/v1/accounts/verify_credentials",
                                headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    body = await response.json()
    assert_schema(body, "CredentialAccount")
    assert body["username"] == "alice" and body["acct"] == "alice"
    assert body["uri"] == "http://a.test/users/alice"
    assert isinstance(body["id"], str)


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic YWxpY2U6cGFzcw==", "Bearer "])
async def test_bad_tokens_are_401_json(client: TestClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = await client.get("/api/v1/accounts/verify_credentials", headers=headers)
    assert response.status == 401
    assert await response.json() == {"error": "The access token is invalid"}


async def test_token_without_the_scope_is_403(client: TestClient, svc: Services) -> None:
    token = await make_token(svc, "alice", scopes="write:statuses")
    response = await client.get("/api/v1/accounts/verify_credentials",
                                headers={"Authorization": f"Bearer {token}"})
    assert response.status == 403
    assert "scope" in (await response.json())["error"]


async def test_granular_scope_is_enough(client: TestClient, svc: Services) -> None:
    token = await make_token(svc, "alice", scopes="read:accounts")
    response = await client.get("/api/v1/accounts/verify_credentials",
                                headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200


async def test_unknown_api_path_is_json_404_and_pages_are_html(client: TestClient) -> None:
    response = await client.get("/api/v1/nothing/here")
    assert response.status == 404
    assert await response.json() == {"error": "Record not found"}
    page = await client.get("/nothing/here", headers={"Accept-Language": "en"})
    assert page.status == 404 and page.content_type == "text/html"
    assert "Error 404" in await page.text()
    wrong_method = await client.delete("/api/v1/instance")
    assert wrong_method.status == 405
    assert "error" in await wrong_method.json()


async def test_cors_preflight_and_headers(client: TestClient) -> None:
    preflight = await client.options("/api/v1/accounts/verify_credentials", headers={
        "Origin": "https://elk.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"]
    response = await client.get("/api/v1/instance", headers={"Origin": "https://elk.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in (await client.get("/")).headers
