"""Actor documents: rendering local actors (Person, the instance Application) and parsing
remote ones into :class:`RemoteActor`, strictly: the id is where the document came from, the
inbox and key live on the same origin, and the key's owner is the actor itself. Avatars and
headers travel as ``icon``/``image`` Image objects, profile fields as ``PropertyValue``
attachments (https://docs.joinmastodon.org/spec/activitypub/#PropertyValue)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fediverse_mu.activitypub import iri
from fediverse_mu.activitypub.dates import xsd_datetime
from fediverse_mu.activitypub.html import sanitize, to_plain_text
from fediverse_mu.activitypub.validate import ACTOR_TYPES, InvalidActivity, host_of
from fediverse_mu.activitypub.vocab import CONTEXT
from fediverse_mu.domain import Account, RemoteActor

RawObject = dict[str, Any]

_MAX_TEXT = 10_000
MAX_REMOTE_FIELDS = 16  # PropertyValues read from a remote actor; the rest is ignored
MAX_FIELD_NAME = 255
MAX_FIELD_VALUE = 2048
_IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
                "gif": "image/gif", "webp": "image/webp"}


def _image(url: str) -> RawObject:
    kind = _IMAGE_TYPES.get(url.rsplit(".", 1)[-1].lower(), "image/png")
    return {"type": "Image", "mediaType": kind, "url": url}


def render_actor(account: Account, *, base_url: str, icon_url: str | None = None,
                 fields: Sequence[tuple[str, str]] = ()) -> RawObject:
    """The AS2 document of a local actor: ``icon`` is its avatar (else ``icon_url``, the
    default picture), ``image`` its header when it has one; ``fields`` are (name, value as
    HTML) pairs."""
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
        "published": xsd_datetime(account.created_at),
        "publicKey": {"id": iri.key_id(actor), "owner": actor,
                      "publicKeyPem": account.public_key_pem or ""},
    }
    icon = account.avatar_url or icon_url
    if icon:
        doc["icon"] = _image(icon)
    if account.header_url:
        doc["image"] = _image(account.header_url)
    if fields:
        doc["attachment"] = [{"type": "PropertyValue", "name": name, "value": value}
                             for name, value in fields]
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


def _image_url(value: Any) -> str | None:
    """The URL of an ``icon``/``image``: an Image object (or a list of them, or a bare
    link); None when absent or not a plain http(s) URL (it is shown, never downloaded)."""
    for item in (value if isinstance(value, list) else [value])[:4]:
        url = item.get("url") if isinstance(item, dict) else item
        if isinstance(url, dict):  # a Link object
            url = url.get("href")
        if isinstance(url, list) and url:
            url = url[0].get("href") if isinstance(url[0], dict) else url[0]
        if isinstance(url, str) and url.startswith(("https://", "http://")) and \
                len(url) <= 2048 and not any(c in url for c in ' "<>\\'):
            return url
    return None


def _fields(value: Any) -> tuple[tuple[str, str], ...]:
    """``PropertyValue`` attachments as (name as plain text, value as sanitised HTML)."""
    found: list[tuple[str, str]] = []
    for item in (value if isinstance(value, list) else [value]):
        if len(found) >= MAX_REMOTE_FIELDS:
            break
        if not isinstance(item, dict) or item.get("type") != "PropertyValue":
            continue
        name, text = item.get("name"), item.get("value")
        if not isinstance(name, str) or not isinstance(text, str):
            continue
        name = to_plain_text(sanitize(name)).strip()[:MAX_FIELD_NAME]
        if name:
            found.append((name, sanitize(text[:MAX_FIELD_VALUE])))
    return tuple(found)


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
        icon_url=_image_url(raw.get("icon")), image_url=_image_url(raw.get("image")),
        fields=_fields(raw.get("attachment")),
    )
