"""Notes and the activities around them, both ways. ``render_note`` turns a status into the
Note Mastodon emits (addressing per visibility, Mention and Hashtag tags, content warning,
conversation); ``build_*`` wrap it in Create/Update/Delete/Announce/Like; ``parse_note`` turns
a received Note (or Article, Page, Question…) into a sanitised ``IncomingNote``.
https://docs.joinmastodon.org/spec/activitypub/#Note"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fediverse_mu.activitypub.dates import parse_datetime, xsd_datetime
from fediverse_mu.activitypub.html import sanitize, to_plain_text
from fediverse_mu.activitypub.media import parse_attachment, render_attachment
from fediverse_mu.activitypub.polls import add_poll, parse_poll
from fediverse_mu.activitypub.ressentis import MU_TERMS, add_ressenti, parse_ressenti
from fediverse_mu.activitypub.validate import (
    InvalidActivity,
    as_list,
    host_of,
    is_public,
)
from fediverse_mu.activitypub.vocab import AS2_CONTEXT, AS_PUBLIC
from fediverse_mu.domain.statuses import IncomingNote, StatusView, Visibility

RawObject = dict[str, Any]

NOTE_CONTEXT: list[Any] = [AS2_CONTEXT, {
    "ostatus": "http://ostatus.org#",
    "atomUri": "ostatus:atomUri",
    "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
    "conversation": "ostatus:conversation",
    "sensitive": "as:sensitive",
    "toot": "http://joinmastodon.org/ns#",
    "Hashtag": "as:Hashtag",
    "blurhash": "toot:blurhash",
    "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
    "votersCount": "toot:votersCount",
    **MU_TERMS,  # fediverse-mu's ressenti terms (feeling, placeActor; docs/places.md)
}]
NOTE_TYPES = frozenset({"Note", "Article", "Page", "Question", "Event", "Image", "Video"})
MAX_TAGS = 100  # Mention/Hashtag entries read from one Note; the rest is ignored
MAX_RECIPIENTS = 1000
MAX_SUMMARY = 1000
MAX_ATTACHMENTS = 4  # as Mastodon, further attachments of a remote post are ignored


def addressing(visibility: Visibility, followers_uri: str,
               mention_uris: Sequence[str]) -> tuple[list[str], list[str]]:
    """``to`` and ``cc`` for a visibility, as Mastodon addresses them."""
    mentions = list(dict.fromkeys(mention_uris))
    if visibility is Visibility.PUBLIC:
        return [AS_PUBLIC], [followers_uri, *mentions]
    if visibility is Visibility.UNLISTED:
        return [followers_uri], [AS_PUBLIC, *mentions]
    if visibility is Visibility.PRIVATE:
        return [followers_uri], mentions
    return mentions, []


def render_note(view: StatusView, *, base_url: str) -> RawObject:
    """The Note of a local status (without ``@context``: see ``with_context``)."""
    status, author = view.status, view.account
    followers = f"{author.actor_uri}/followers"
    to, cc = addressing(status.visibility, followers, [m.actor_uri for m in view.mentions])
    tags: list[RawObject] = [
        {"type": "Mention", "href": m.actor_uri,
         "name": f"@{m.username}@{m.domain or host_of(base_url)}"} for m in view.mentions]
    tags += [{"type": "Hashtag", "href": f"{base_url}/tags/{tag}", "name": f"#{tag}"}
             for tag in view.tags]
    note: RawObject = {
        "id": status.uri,
        "type": "Note",
        "summary": status.spoiler_text or None,
        "inReplyTo": status.in_reply_to_uri,
        "published": xsd_datetime(status.created_at),
        "url": status.url or status.uri,
        "attributedTo": author.actor_uri,
        "to": to,
        "cc": cc,
        "sensitive": status.sensitive,
        "conversation": status.conversation_uri,
        "context": status.conversation_uri,
        "content": status.content,
        "contentMap": {status.language: status.content} if status.language else None,
        "attachment": [render_attachment(m, base_url) for m in view.media],
        "tag": tags,
        "replies": f"{status.uri}/replies",
    }
    if status.edited_at is not None:
        note["updated"] = xsd_datetime(status.edited_at)
    if view.ressenti is not None:
        note = add_ressenti(note, view.ressenti)
    if view.poll is not None:
        note = add_poll(note, view.poll)
    return {k: v for k, v in note.items() if v is not None}


def with_context(obj: RawObject) -> RawObject:
    """A top-level document: the object with the Note context first."""
    return {"@context": NOTE_CONTEXT, **obj}


def build_create(note: RawObject) -> RawObject:
    """Create(Note), addressed like the Note."""
    return with_context({"id": f"{note['id']}/activity", "type": "Create",
                         "actor": note["attributedTo"], "published": note["published"],
                         "to": note["to"], "cc": note["cc"], "object": note})


def build_update(note: RawObject, activity_id: str) -> RawObject:
    """Update(Note) after an edit."""
    return with_context({"id": activity_id, "type": "Update", "actor": note["attributedTo"],
                         "published": note.get("updated", note["published"]),
                         "to": note["to"], "cc": note["cc"], "object": note})


def build_delete(object_uri: str, actor: str, to: list[str], cc: list[str],
                 activity_id: str) -> RawObject:
    """Delete a Note: the object becomes a Tombstone."""
    return with_context({"id": activity_id, "type": "Delete", "actor": actor, "to": to,
                         "cc": cc, "object": {"id": object_uri, "type": "Tombstone",
                                              "atomUri": object_uri}})


def build_announce(activity_id: str, actor: str, object_uri: str, published: datetime,
                   to: list[str], cc: list[str]) -> RawObject:
    """Announce (boost) a status."""
    return with_context({"id": activity_id, "type": "Announce", "actor": actor,
                         "published": xsd_datetime(published), "to": to, "cc": cc,
                         "object": object_uri})


def build_like(activity_id: str, actor: str, object_uri: str) -> RawObject:
    """Like (favourite) a status."""
    return with_context({"id": activity_id, "type": "Like", "actor": actor,
                         "object": object_uri})


# -- parsing --------------------------------------------------------------------------------------


def _id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _http(value: Any) -> str | None:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) \
        else None


def _url(raw: RawObject) -> str | None:
    for item in as_list(raw.get("url")):
        if isinstance(item, str):
            return _http(item)
        if isinstance(item, dict) and item.get("mediaType", "text/html") == "text/html":
            return _http(item.get("href"))
    return None


def _content(raw: RawObject) -> tuple[str, str | None]:
    content, language = raw.get("content"), None
    content_map = raw.get("contentMap")
    if isinstance(content_map, dict) and content_map:
        language, mapped = next(iter(content_map.items()))
        if not isinstance(content, str) and isinstance(mapped, str):
            content = mapped
        if not isinstance(language, str) or not 1 <= len(language) <= 16:
            language = None
    text = content if isinstance(content, str) else ""
    name = raw.get("name")
    if raw.get("type") != "Note" and isinstance(name, str) and name.strip():
        # Articles and pages (blogs, Lemmy posts): the title first, as Mastodon shows them.
        text = f"<p><strong>{name}</strong></p>{text}"
        if _url(raw):
            text += f'<p><a href="{_url(raw)}">{_url(raw)}</a></p>'
    return sanitize(text), language


def visibility_of(to: Sequence[str], cc: Sequence[str], followers_uri: str | None,
                  mention_uris: Sequence[str]) -> Visibility:
    """Mastodon's reading of the addressing: Public in ``to`` → public, in ``cc`` → unlisted,
    the followers collection (or any collection that is not a mentioned actor) → private,
    else direct."""
    if any(is_public(x) for x in to):
        return Visibility.PUBLIC
    if any(is_public(x) for x in cc):
        return Visibility.UNLISTED
    recipients = [*to, *cc]
    if followers_uri is not None and followers_uri in recipients:
        return Visibility.PRIVATE
    mentioned = set(mention_uris)
    if any(r not in mentioned for r in recipients):
        return Visibility.PRIVATE
    return Visibility.DIRECT


def parse_note(raw: RawObject, *, followers_uri: str | None = None) -> IncomingNote:
    """A remote post-like object, checked and sanitised. Raises ``InvalidActivity``."""
    uri = _id_of(raw)
    if uri is None or _http(uri) is None:
        raise InvalidActivity("the object has no http(s) id")
    if raw.get("type") not in NOTE_TYPES:
        raise InvalidActivity(f"{raw.get('type')!r} is not a post")
    authors = [a for a in (_id_of(x) for x in as_list(raw.get("attributedTo"))) if a]
    if not authors:
        raise InvalidActivity("the object has no attributedTo")
    author = authors[0]
    if host_of(author) != host_of(uri):
        raise InvalidActivity("the object's author is on another host than the object")
    content, language = _content(raw)
    summary = raw.get("summary")
    spoiler = to_plain_text(sanitize(summary))[:MAX_SUMMARY] if isinstance(summary, str) else ""
    sensitive = raw.get("sensitive") is True or bool(spoiler)
    to = [x for x in (_id_of(v) for v in as_list(raw.get("to"))[:MAX_RECIPIENTS]) if x]
    cc = [x for x in (_id_of(v) for v in as_list(raw.get("cc"))[:MAX_RECIPIENTS]) if x]
    mentions: list[str] = []
    tags: list[str] = []
    for tag in as_list(raw.get("tag"))[:MAX_TAGS]:
        if not isinstance(tag, dict):
            continue
        if tag.get("type") == "Mention" and _http(tag.get("href")):
            mentions.append(str(tag["href"]))
        elif tag.get("type") == "Hashtag" and isinstance(tag.get("name"), str):
            name = tag["name"].lstrip("#").strip()
            if name and len(name) <= 100 and all(c.isalnum() or c == "_" for c in name):
                tags.append(name)
    published = parse_datetime(raw.get("published"))
    if published is None:
        raise InvalidActivity("the object has no valid published date")
    conversation = _http(_id_of(raw.get("context"))) or _http(raw.get("conversation"))
    return IncomingNote(
        uri=uri, url=_url(raw) or uri, actor_uri=author, content=content,
        spoiler_text=spoiler, sensitive=sensitive,
        visibility=visibility_of(to, cc, followers_uri, mentions), language=language,
        published=published, updated=parse_datetime(raw.get("updated")),
        in_reply_to_uri=_http(_id_of(raw.get("inReplyTo"))),
        conversation_uri=conversation, mention_uris=tuple(dict.fromkeys(mentions)),
        tags=tuple(dict.fromkeys(tags)), recipients=tuple(dict.fromkeys([*to, *cc])),
        attachments=tuple(a for a in (parse_attachment(x) for x in as_list(
            raw.get("attachment"))[:MAX_ATTACHMENTS]) if a is not None),
        ressenti=parse_ressenti(raw),
        poll=parse_poll(raw),
    )
