"""JSON-LD vocabulary shared by everything this instance emits: the @context documents and
the content types of ActivityStreams."""

from __future__ import annotations

from typing import Any

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS2_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"

# The extension terms Mastodon's documents carry (https://docs.joinmastodon.org/spec/activitypub/)
_EXTENSIONS = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
}
CONTEXT: list[Any] = [AS2_CONTEXT, SECURITY_CONTEXT, _EXTENSIONS]
ACTIVITY_CONTEXT: list[Any] = [AS2_CONTEXT]

AS2_CONTENT_TYPE = "application/activity+json"
LD_CONTENT_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACCEPT_AS2 = f"{AS2_CONTENT_TYPE}, {LD_CONTENT_TYPE}"


def is_as2_media_type(content_type: str) -> bool:
    """True for ``application/activity+json`` and ActivityStreams-profiled ``ld+json``."""
    main, _, params = content_type.partition(";")
    main = main.strip().lower()
    if main == AS2_CONTENT_TYPE:
        return True
    return main == "application/ld+json" and "activitystreams" in params


def wants_as2(accept: str) -> bool:
    """True when an Accept header asks for ActivityStreams rather than HTML."""
    for part in accept.split(","):
        if is_as2_media_type(part.split(";q=")[0]) or part.strip().lower().startswith(
                "application/ld+json"):
            return True
    return False
