"""Actor documents: rendering local actors (Person, the instance Application) and parsing
remote ones into :class:`RemoteActor`, strictly: the id is where the document came from, the
inbox and key live on the same origin, and the key's owner is the actor itself."""

from __future__ import annotations

from typing import Any

from fediverse_mu.activitypub import iri
from fediverse_mu.activitypub.validate import ACTOR_TYPES, InvalidActivity, host_of
from fediverse_mu.activitypub.vocab import CONTEXT
from fediverse_mu.domain import Account, RemoteActor

RawObject = dict[str, Any]

_MAX_TEXT = 10_000


def render_actor(account: Account, *, base_url: str, icon_url: str | None = None) -> RawObject:
    """The AS2 document of a local actor."""
    actor = account.actor_uri
    doc: RawObject = {
        "@context": CONTEXT,
        "id": actor,
        "type": account.actor_type,
        "preferredUsername": account.username,
        "name": account.display_name,
        "summary": account.note,
        "url": account.url or actor,
        "inbox": iri.inbox_uri(actor),
        "outbox": f"{actor}/outbox",
        "followers": f"{actor}/followers",
        "following": f"{actor}/following",
        "featured": f"{actor}/collections/featured",
        "endpoints": {"sharedInbox": iri.shared_inbox_uri(base_url)},
        "manuallyApprovesFollowers": account.locked,
        "discoverable": account.discoverable,
        "indexable": False,
        "published": account.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "publicKey": {"id": iri.key_id(actor), "owner": actor,
                      "publicKeyPem": account.public_key_pem or ""},
    }
    if icon_url:
        doc["icon"] = {"type": "Image", "mediaType": "image/png", "url": icon_url}
    return doc


def _iri(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")) or \
            len(value) > 2048:
        raise InvalidActivity(f"actor {field} must be an http(s) IRI")
    return value


def _text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidActivity(f"actor {field} must be a string")
    return value[:_MAX_TEXT]


def _optional_iri(raw: RawObject, field: str, origin: str) -> str | None:
    value = raw.get(field)
    if value is None:
        return None
    uri = _iri(value, field)
    if host_of(uri) != origin:
        raise InvalidActivity(f"actor {field} is on another host than the actor")
    return uri


def parse_actor(raw: RawObject, *, fetched_from: str) -> RemoteActor:
    """Validate a remote actor document fetched from ``fetched_from``."""
    actor = _iri(raw.get("id"), "id")
    if actor != fetched_from:
        raise InvalidActivity("actor id does not match the URL it was fetched from")
    actor_type = raw.get("type")
    if actor_type not in ACTOR_TYPES:
        raise InvalidActivity(f"not an actor type: {actor_type!r}")
    origin = host_of(actor)
    username = raw.get("preferredUsername")
    if not isinstance(username, str) or not 0 < len(username) <= 100 or "@" in username:
        raise InvalidActivity("actor preferredUsername is missing or malformed")
    inbox = _optional_iri(raw, "inbox", origin)
    if inbox is None:
        raise InvalidActivity("actor has no inbox")
    endpoints = raw.get("endpoints")
    shared = None
    if isinstance(endpoints, dict) and endpoints.get("sharedInbox") is not None:
        shared = _optional_iri(endpoints, "sharedInbox", origin)
    key = raw.get("publicKey")
    if isinstance(key, list):
        key = next((k for k in key if isinstance(k, dict) and k.get("owner") == actor), None)
    if not isinstance(key, dict):
        raise InvalidActivity("actor has no publicKey")
    key_id = _iri(key.get("id"), "publicKey.id")
    if host_of(key_id) != origin or key.get("owner") != actor:
        raise InvalidActivity("actor publicKey is not owned by the actor")
    pem = key.get("publicKeyPem")
    if not isinstance(pem, str) or "PUBLIC KEY" not in pem or len(pem) > 10_000:
        raise InvalidActivity("actor publicKeyPem is missing or malformed")
    url = raw.get("url")
    if isinstance(url, list | dict):  # some servers send Link objects
        url = None
    return RemoteActor(
        actor_uri=actor, username=username, domain=origin, actor_type=actor_type,
        display_name=_text(raw.get("name"), "name"), note=_text(raw.get("summary"), "summary"),
        inbox_uri=inbox, shared_inbox_uri=shared,
        outbox_uri=_optional_iri(raw, "outbox", origin),
        followers_uri=_optional_iri(raw, "followers", origin),
        following_uri=_optional_iri(raw, "following", origin),
        featured_uri=_optional_iri(raw, "featured", origin),
        url=url if isinstance(url, str) and url.startswith(("https://", "http://")) else None,
        public_key_id=key_id, public_key_pem=pem,
        locked=raw.get("manuallyApprovesFollowers") is True,
        bot=actor_type in ("Service", "Application"),
        discoverable=raw.get("discoverable") is True,
    )
