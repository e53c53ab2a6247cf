"""The answer to ``POST /api/v1/statuses`` is the same Status entity a later
``GET /api/v1/statuses/:id`` gives its author, whatever the post holds: the answer's view is
loaded in the post's own transaction, for a group commit at once when no Note is needed
(services/posting.py ``_create_many``), alone when one is (remote followers, groups) or when
a poll makes it depend on the viewer. Posts are sent together so that they share a commit."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient
from PIL import Image

from fediverse_mu.services import places
from fediverse_mu.services.context import Services
from tests.conftest import auth, make_token, ok, post


def _settled(entity: dict[str, Any]) -> dict[str, Any]:
    """The entity without its author's counters, which the other posts move meanwhile."""
    account = {k: v for k, v in entity["account"].items()
               if k not in ("statuses_count", "last_status_at")}
    return {**entity, "account": account}


async def _upload(client: TestClient, token: str) -> str:
    png = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(png, "PNG")
    form = FormData()
    form.add_field("file", png.getvalue(), filename="x.png", content_type="image/png")
    form.add_field("description", "un jardin")
    media = await ok(await client.post("/api/v2/media", data=form, headers=auth(token)))
    return str(media["id"])


async def test_the_answer_is_what_a_get_gives(client: TestClient, svc: Services) -> None:
    await places.update_settings(svc, {"coordinates": "45.1885, 5.7245"})
    alice, bob = await make_token(svc, "alice"), await make_token(svc, "bob")
    first = await post(client, bob, status="Une question, @alice ?")
    media_id = await _upload(client, alice)
    bodies: list[dict[str, Any]] = [
        {"status": "Simple"},
        {"status": "Pour @bob, #vélo et https://example.org/x", "language": "fr"},
        {"status": "Caché", "spoiler_text": "attention", "sensitive": True},
        {"status": "Réponse", "in_reply_to_id": first["id"]},
        {"status": "Avec photo", "media_ids": [media_id]},
        {"status": "😊 belle matinée"},  # a ressenti
        {"status": "Sondage", "poll": {"options": ["oui", "non"], "expires_in": 3600}},
        {"status": "Entre nous", "visibility": "private"},
        {"status": "Rien que toi @bob", "visibility": "direct"},
        {"status": "Juste ici", "local_only": True},
    ]
    answers = await asyncio.gather(*(post(client, alice, **body) for body in bodies))
    assert len({a["id"] for a in answers}) == len(bodies)
    for body, answer in zip(bodies, answers, strict=True):
        fetched = await ok(await client.get(f"/api/v1/statuses/{answer['id']}",
                                            headers=auth(alice)))
        assert _settled(answer) == _settled(fetched), body["status"]
    assert answers[3]["in_reply_to_account_id"] == first["account"]["id"]
    assert [m["description"] for m in answers[4]["media_attachments"]] == ["un jardin"]
    assert answers[5]["ressenti"]["feeling"] == "joie"
    assert answers[6]["poll"]["voted"] is False
    assert [m["acct"] for m in answers[1]["mentions"]] == ["bob"]
