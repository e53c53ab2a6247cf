"""Polls in ActivityPub, as Mastodon federates them
(https://docs.joinmastodon.org/spec/activitypub/#Question): a status with a poll is a
``Question`` whose ``oneOf`` (single choice) or ``anyOf`` (multiple) options are Notes with a
``name`` and ``replies.totalItems`` (the count), plus ``endTime``, ``votersCount`` and
``closed`` once ended. A vote is a ``Create`` of a Note whose ``name`` is the chosen option,
``inReplyTo`` the Question, addressed to the poll's author only (one Note per option)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fediverse_mu.activitypub.dates import parse_datetime, xsd_datetime
from fediverse_mu.activitypub.html import sanitize, to_plain_text
from fediverse_mu.activitypub.validate import as_list
from fediverse_mu.domain.polls import (
    MAX_REMOTE_OPTION_CHARS,
    MAX_REMOTE_OPTIONS,
    IncomingPoll,
    Poll,
)

RawObject = dict[str, Any]


def add_poll(note: RawObject, poll: Poll, now: datetime | None = None) -> RawObject:
    """The Note of a status with a poll, turned into its Question."""
    expired = poll.expired(now or datetime.now(UTC))
    options = [{"type": "Note", "name": title,
                "replies": {"type": "Collection", "totalItems": count}}
               for title, count in zip(poll.options, poll.votes, strict=True)]
    question = {**note, "type": "Question", "anyOf" if poll.multiple else "oneOf": options,
                "votersCount": poll.voters_count or 0}
    if poll.expires_at is not None:
        question["endTime"] = xsd_datetime(poll.expires_at)
        if expired:
            question["closed"] = xsd_datetime(poll.expires_at)
    return question


def _count(option: dict[str, Any]) -> int:
    replies = option.get("replies")
    total = replies.get("totalItems") if isinstance(replies, dict) else None
    return total if isinstance(total, int) and 0 <= total < 2**40 else 0


def parse_poll(raw: RawObject) -> IncomingPoll | None:
    """The poll of a remote Question (None: not a Question, or no usable options)."""
    if raw.get("type") != "Question":
        return None
    multiple = raw.get("anyOf") is not None and raw.get("oneOf") is None
    items = as_list(raw.get("anyOf") if multiple else raw.get("oneOf"))
    options: list[str] = []
    votes: list[int] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        title = to_plain_text(sanitize(item["name"])).strip()[:MAX_REMOTE_OPTION_CHARS]
        if not title or title in options:
            continue
        options.append(title)
        votes.append(_count(item))
    if not 1 <= len(options) <= MAX_REMOTE_OPTIONS:
        return None
    voters = raw.get("votersCount")
    end = parse_datetime(raw.get("endTime"))
    closed = raw.get("closed")
    return IncomingPoll(
        options=tuple(options), votes=tuple(votes), multiple=multiple,
        expires_at=end or parse_datetime(closed),
        voters_count=voters if isinstance(voters, int) and 0 <= voters < 2**40 else None,
        closed=closed is True or parse_datetime(closed) is not None)


def build_vote(vote_id: str, voter: str, poll_uri: str, poll_author: str,
               title: str) -> RawObject:
    """Create(Note) of one vote: ``name`` is the option, addressed to the author only."""
    note = {"id": vote_id, "type": "Note", "name": title, "attributedTo": voter,
            "to": [poll_author], "inReplyTo": poll_uri}
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{vote_id}/activity",
            "type": "Create", "actor": voter, "to": [poll_author], "object": note}


def parse_vote(raw: RawObject) -> tuple[str, str] | None:
    """``(poll uri, option title)`` when a Note is a vote (a ``name``, an ``inReplyTo`` and
    no content, as Mastodon sends them); None for an ordinary post."""
    name, reply, content = raw.get("name"), raw.get("inReplyTo"), raw.get("content")
    if raw.get("type") != "Note" or not isinstance(name, str) or not isinstance(reply, str):
        return None
    if isinstance(content, str) and content.strip():
        return None
    return reply, name.strip()
