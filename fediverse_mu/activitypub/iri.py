"""The IRIs this instance mints for its own objects. Actor ids always have a path; a domain
may carry a port (``localhost:8000``) and it is kept everywhere."""

from __future__ import annotations

INSTANCE_ACTOR_USERNAME = "instance.actor"


def actor_uri(base_url: str, username: str) -> str:
    """A local resident's actor id."""
    return f"{base_url}/users/{username}"


def instance_actor_uri(base_url: str) -> str:
    """The instance actor (an Application that signs the server's own fetches)."""
    return f"{base_url}/actor"


def profile_url(base_url: str, username: str) -> str:
    """A local resident's HTML profile."""
    return f"{base_url}/@{username}"


def inbox_uri(actor: str) -> str:
    """An actor's own inbox."""
    return f"{actor}/inbox"


def shared_inbox_uri(base_url: str) -> str:
    """The instance's shared inbox."""
    return f"{base_url}/inbox"


def key_id(actor: str) -> str:
    """The id of an actor's main public key."""
    return f"{actor}#main-key"
