"""The validation of documents from other servers: JSON parsing under limits, the per-type
schemas (Mastodon-shaped examples, good and bad), the vocabulary accessors and the strict
origin normalisation of `host_of`."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jsonschema
import pytest

from fediverse_mu.activitypub import validate
from fediverse_mu.activitypub.validate import (
    ACTIVITY_TYPES,
    ACTOR_TYPES,
    CREATE_OBJECT_TYPES,
    PUBLIC,
    PUBLIC_FORMS,
    SCHEMA_BASE,
    InvalidActivity,
    RawObject,
    UnsupportedType,
    activity_type,
    actor_id,
    as_list,
    host_of,
    is_public,
    load_json,
    object_id,
    object_type,
    same_origin,
    schema_uri,
    validate_activity,
)
from fediverse_mu.domain.errors import DomainError

BOB = "https://b.test/users/bob"
ALICE = "https://a.test/users/alice"
NOTE = "https://b.test/users/bob/statuses/110"
CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "Emoji": "toot:Emoji",
        "Hashtag": "as:Hashtag",
        "sensitive": "as:sensitive",
        "blurhash": "toot:blurhash",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
    },
]


# --- Mastodon-shaped examples -----------------------------------------------------------------


def build_follow(actor_uri: str = BOB, object_uri: str = ALICE) -> RawObject:
    """A Follow as Mastodon sends it."""
    return {"@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{actor_uri}#follows/7", "type": "Follow",
            "actor": actor_uri, "object": object_uri}


def build_note(note_uri: str = NOTE) -> RawObject:
    """A public Note with a mention, a hashtag, a custom emoji and an image."""
    return {
        "id": note_uri, "type": "Note", "summary": None, "inReplyTo": None,
        "published": "2024-05-01T12:34:56Z", "url": "https://b.test/@bob/110",
        "attributedTo": BOB, "to": [PUBLIC], "cc": [f"{BOB}/followers", ALICE],
        "sensitive": False, "atomUri": note_uri, "inReplyToAtomUri": None,
        "conversation": "tag:b.test,2024-05-01:objectId=110:objectType=Conversation",
        "content": '<p>Salut <span class="h-card"><a href="https://a.test/@alice" '
                   'class="u-url mention">@<span>alice</span></a></span> '
                   '<a href="https://b.test/tags/tierslieu" class="mention hashtag" '
                   'rel="tag">#<span>tierslieu</span></a> :blobcat:</p>',
        "contentMap": {"fr": "<p>Salut @alice #tierslieu :blobcat:</p>"},
        "attachment": [{"type": "Document", "mediaType": "image/jpeg",
                        "url": "https://b.test/system/media/1.jpg", "name": None,
                        "blurhash": "UBL_:rOpGG-;~qRjWBay", "focalPoint": [0.0, 0.0],
                        "width": 1200, "height": 800}],
        "tag": [
            {"type": "Mention", "href": ALICE, "name": "@alice@a.test"},
            {"type": "Hashtag", "href": "https://b.test/tags/tierslieu", "name": "#tierslieu"},
            {"id": "https://b.test/emojis/1", "type": "Emoji", "name": ":blobcat:",
             "updated": "2023-01-01T00:00:00Z",
             "icon": {"type": "Image", "mediaType": "image/png",
                      "url": "https://b.test/emoji/blobcat.png"}},
        ],
        "replies": {"id": f"{note_uri}/replies", "type": "Collection",
                    "first": {"type": "CollectionPage", "next": f"{note_uri}/replies?page=true",
                              "partOf": f"{note_uri}/replies", "items": []}},
    }


def build_create(note: RawObject | None = None) -> RawObject:
    """Create(Note), addressed like its Note."""
    note = build_note() if note is None else note
    return {"@context": CONTEXT, "id": f"{note['id']}/activity", "type": "Create",
            "actor": BOB, "published": "2024-05-01T12:34:56Z",
            "to": [PUBLIC], "cc": [f"{BOB}/followers", ALICE], "object": note}


def build_person() -> RawObject:
    """Bob's actor document, as embedded in an Update."""
    return {
        "id": BOB, "type": "Person", "following": f"{BOB}/following",
        "followers": f"{BOB}/followers", "inbox": f"{BOB}/inbox", "outbox": f"{BOB}/outbox",
        "featured": f"{BOB}/collections/featured", "preferredUsername": "bob",
        "name": "Bob", "summary": "<p>Fabmanager au tiers-lieu</p>",
        "url": "https://b.test/@bob", "manuallyApprovesFollowers": False,
        "discoverable": True, "published": "2023-02-01T00:00:00Z",
        "publicKey": {"id": f"{BOB}#main-key", "owner": BOB,
                      "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMIIB\n"
                                      "-----END PUBLIC KEY-----\n"},
        "tag": [], "attachment": [{"type": "PropertyValue", "name": "Site",
                                   "value": '<a href="https://bob.example">bob.example</a>'}],
        "endpoints": {"sharedInbox": "https://b.test/inbox"},
        "icon": {"type": "Image", "mediaType": "image/png", "url": "https://b.test/a.png"},
    }


def examples() -> dict[str, RawObject]:
    """One good document per shape worth checking."""
    follow = build_follow()
    question = build_note("https://b.test/users/bob/statuses/111")
    question.update(type="Question", endTime="2024-05-02T12:00:00Z", votersCount=3,
                    oneOf=[{"type": "Note", "name": "Oui",
                            "replies": {"type": "Collection", "totalItems": 2}},
                           {"type": "Note", "name": "Non",
                            "replies": {"type": "Collection", "totalItems": 1}}])
    return {
        "follow": follow,
        "create-note": build_create(),
        "create-question": build_create(question),
        "create-event": build_create({"id": "https://b.test/events/1", "type": "Event",
                                      "name": "Repair café",
                                      "startTime": "2024-06-01T14:00:00+02:00", "endTime": None,
                                      "content": "<p>Venez !</p>",
                                      "location": {"type": "Place", "name": "La Fabrique"}}),
        "create-note-minimal": build_create({"id": NOTE, "type": "Note", "content": "hi"}),
        "create-typed-list": {**build_create(), "type": ["Create", "https://ext.example/ns#X"]},
        "announce": {"@context": "https://www.w3.org/ns/activitystreams",
                     "id": f"{BOB}/statuses/112/activity", "type": "Announce", "actor": BOB,
                     "published": "2024-05-01T13:00:00Z", "to": [PUBLIC],
                     "cc": [ALICE, f"{BOB}/followers"],
                     "object": "https://a.test/users/alice/statuses/9"},
        "like": {"@context": "https://www.w3.org/ns/activitystreams",
                 "id": f"{BOB}#likes/42", "type": "Like", "actor": BOB,
                 "object": "https://a.test/users/alice/statuses/9"},
        "undo-follow": {"@context": "https://www.w3.org/ns/activitystreams",
                        "id": f"{BOB}#follows/7/undo", "type": "Undo", "actor": BOB,
                        "object": follow},
        "accept-follow": {"@context": "https://www.w3.org/ns/activitystreams",
                          "id": f"{ALICE}#accepts/follows/7", "type": "Accept", "actor": ALICE,
                          "object": build_follow()},
        "reject-by-iri": {"id": f"{ALICE}#rejects/follows/7", "type": "Reject",
                          "actor": ALICE, "object": f"{BOB}#follows/7"},
        "delete-tombstone": {"@context": CONTEXT, "id": f"{NOTE}#delete", "type": "Delete",
                             "actor": BOB, "to": [PUBLIC],
                             "object": {"id": NOTE, "type": "Tombstone", "atomUri": NOTE}},
        "delete-actor": {"id": f"{BOB}#delete", "type": "Delete", "actor": BOB,
                         "to": [PUBLIC], "object": BOB,
                         "signature": {"type": "RsaSignature2017", "creator": f"{BOB}#main-key",
                                       "created": "2024-05-01T00:00:00Z",
                                       "signatureValue": "c2lnbmF0dXJl"}},
        "update-person": {"@context": CONTEXT, "id": f"{BOB}#updates/1700000000",
                          "type": "Update", "actor": BOB, "to": [PUBLIC],
                          "object": build_person()},
        "update-note": {"id": f"{NOTE}#updates/1", "type": "Update", "actor": BOB,
                        "to": [PUBLIC], "object": {**build_note(),
                                                   "updated": "2024-05-01T14:00:00Z"}},
        "block": {"id": f"{BOB}#blocks/3", "type": "Block", "actor": BOB, "object": ALICE},
        "flag": {"id": "https://b.test/0c5e4f0e", "type": "Flag", "actor": "https://b.test/actor",
                 "content": "spam", "object": [ALICE, "https://a.test/users/alice/statuses/9"]},
        "move": {"id": f"{BOB}#moves/1", "type": "Move", "actor": BOB, "object": BOB,
                 "target": "https://c.test/users/bob"},
        "add-pin": {"id": f"{BOB}#add/1", "type": "Add", "actor": BOB, "object": NOTE,
                    "target": f"{BOB}/collections/featured"},
        "remove-pin": {"id": f"{BOB}#remove/1", "type": "Remove", "actor": BOB,
                       "object": NOTE, "target": f"{BOB}/collections/featured"},
        "emoji-react": {"id": "https://b.test/activities/r1", "type": "EmojiReact",
                        "actor": BOB, "object": "https://a.test/users/alice/statuses/9",
                        "content": "\U0001f525"},
        "actor-object-and-as-public": {**build_follow(),
                                       "actor": {"id": BOB, "type": "Person"},
                                       "to": "as:Public", "cc": ["Public", ALICE]},
        "ipv6-and-port": {**build_follow(), "object": "http://[2001:db8::1]:8080/users/x"},
    }


EXAMPLES = examples()


def body_of(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def nested(depth: int, leaf: Any = 0) -> Any:
    """`depth` nested arrays around `leaf` (built iteratively: depth may be huge)."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


# --- Schemas as shipped ---------------------------------------------------------------------


def schema_files() -> Iterator[tuple[str, dict[str, Any]]]:
    folder = resources.files("fediverse_mu.activitypub").joinpath("schemas")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            yield entry.name, json.loads(entry.read_text(encoding="utf-8"))


def refs_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "$ref":
                yield child
            else:
                yield from refs_in(child)
    elif isinstance(value, list):
        for child in value:
            yield from refs_in(child)


def test_every_schema_is_a_valid_draft_2020_12_schema_named_by_its_id() -> None:
    names = []
    for name, schema in schema_files():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == SCHEMA_BASE + name
        names.append(name)
    assert {f"{t.lower()}.json" for t in ACTIVITY_TYPES} <= set(names)


def test_every_ref_resolves_among_the_shipped_schemas() -> None:
    ids = {schema["$id"]: schema for _, schema in schema_files()}
    for schema_id, schema in ids.items():
        for ref in refs_in(schema):
            target, _, pointer = ref.partition("#")
            document = ids[schema_id] if not target else ids[SCHEMA_BASE + target]
            for part in filter(None, pointer.split("/")):
                document = document[part]
            assert isinstance(document, dict), f"{schema_id}: {ref}"


@pytest.mark.parametrize("name", sorted(ACTIVITY_TYPES))
def test_compiled_validators_are_bundled_and_cached(name: str) -> None:
    compiled = validate._validator(name)
    assert compiled is validate._validator(name)
    assert "$ref" not in json.dumps(compiled.schema)  # every reference resolved offline, once


def test_schema_vocabularies_match_the_python_constants() -> None:
    defs = dict(schema_files())["defs.json"]["$defs"]
    assert set(defs["public"]["enum"]) == PUBLIC_FORMS
    assert set(defs["noteType"]["anyOf"][0]["enum"]) == CREATE_OBJECT_TYPES
    assert set(defs["noteType"]["anyOf"][1]["contains"]["enum"]) == CREATE_OBJECT_TYPES
    assert set(defs["actorType"]["anyOf"][0]["enum"]) == ACTOR_TYPES
    assert schema_uri("EmojiReact") == SCHEMA_BASE + "emojireact.json"


# --- Good documents -------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_mastodon_shaped_documents_are_accepted(name: str) -> None:
    doc = EXAMPLES[name]
    original = copy.deepcopy(doc)
    assert validate_activity(doc) is doc
    assert doc == original  # returned unchanged
    assert validate_activity(load_json(body_of(doc))) == original


@pytest.mark.parametrize("kind", sorted(CREATE_OBJECT_TYPES))
def test_create_accepts_every_post_like_object_type(kind: str) -> None:
    doc = build_create({"id": NOTE, "type": kind, "name": "x"})
    assert validate_activity(doc)["object"]["type"] == kind


def test_create_accepts_a_typed_list_containing_a_post_like_type() -> None:
    doc = build_create({"id": NOTE, "type": ["https://ext.example/ns#Post", "Article"]})
    assert object_type(validate_activity(doc)) == "Article"


def test_extra_properties_are_allowed() -> None:
    doc = {**build_follow(), "https://ext.example/ns#mood": {"x": [1, 2.5, True, None]},
           "_misskey_quote": NOTE}
    assert validate_activity(doc) is doc


def test_dates_take_fractions_offsets_or_no_zone() -> None:
    for value in ("2024-05-01T12:34:56.123456Z", "2024-05-01T12:34:56+02:00",
                  "2024-05-01T12:34:56", "2024-02-29T00:00:00Z"):
        validate_activity({**build_follow(), "published": value, "updated": value})


# --- Bad documents --------------------------------------------------------------------------


def without(doc: RawObject, key: str) -> RawObject:
    return {k: v for k, v in doc.items() if k != key}


def with_object(**changes: Any) -> RawObject:
    doc = build_create()
    doc["object"] = {**doc["object"], **changes}
    return doc


BAD: dict[str, tuple[RawObject, str]] = {
    "missing id": (without(build_follow(), "id"), "$: missing id"),
    "missing actor": (without(build_follow(), "actor"), "$: missing actor"),
    "missing object": (without(build_follow(), "object"), "$: missing object"),
    "actor object without id": ({**build_follow(), "actor": {"type": "Person"}},
                                "$.actor: missing id"),
    "actor list": ({**build_follow(), "actor": [BOB]},
                   "$.actor: matches none of the allowed forms"),
    "actor null": ({**build_follow(), "actor": None},
                   "$.actor: matches none of the allowed forms"),
    "actor javascript": ({**build_follow(), "actor": "javascript:alert(1)"}, "$.actor"),
    "javascript id": ({**build_follow(), "id": "javascript:alert(1)"}, "$.id: malformed"),
    "data id": ({**build_follow(), "id": "data:text/html,<script>"}, "$.id"),
    "relative id": ({**build_follow(), "id": "/users/bob#follows/7"}, "$.id"),
    "id with userinfo": ({**build_follow(), "id": "https://b.test@evil.example/f/7"}, "$.id"),
    "id with trailing dot": ({**build_follow(), "id": "https://b.test./f/7"},
                             "$.id: not a valid http-iri"),
    "id with backslash": ({**build_follow(), "id": "https://evil.example\\@b.test/"}, "$.id"),
    "id too long": ({**build_follow(), "id": "https://b.test/" + "x" * 2040},
                    "$.id: longer than 2048"),
    "id not a string": ({**build_follow(), "id": 7}, "$.id"),
    "to with 1001 entries": ({**build_follow(), "to": [f"{BOB}/followers"] * 1001},
                             "$.to: more than 1000 items"),
    "bad entry in cc": ({**build_follow(), "cc": [ALICE, "ftp://a.test/x"]}, "$.cc[1]"),
    "bcc number": ({**build_follow(), "bcc": 3}, "$.bcc"),
    "audience object": ({**build_follow(), "audience": {"id": ALICE}}, "$.audience"),
    "content 200 KB": ({**build_follow(), "content": "x" * 200 * 1024}, "$.content: longer"),
    "note content 200 KB": (with_object(content="x" * 200 * 1024),
                            "$.object.content: longer"),
    "summary not a string": (with_object(summary=["cw"]), "$.object.summary"),
    "name number": ({**build_follow(), "name": 3}, "$.name"),
    "contentMap of numbers": (with_object(contentMap={"fr": 1}), "$.object.contentMap.fr"),
    "contentMap a string": (with_object(contentMap="salut"), "$.object.contentMap"),
    "101 tags": (with_object(tag=[{"type": "Hashtag", "name": "#a"}] * 101),
                 "$.object.tag: more than 100 items"),
    "101 attachments": (with_object(attachment=[{"type": "Document"}] * 101),
                        "$.object.attachment: more than 100 items"),
    "tag string": (with_object(tag=["#a"]), "$.object.tag"),
    "inReplyTo number": (with_object(inReplyTo=3), "$.object.inReplyTo"),
    "poll endTime not a date": (with_object(type="Question", endTime="demain"),
                                "$.object.endTime"),
    "inReplyTo object without id": (with_object(inReplyTo={"type": "Note"}),
                                    "$.object.inReplyTo"),
    "published not a date": ({**build_follow(), "published": "yesterday"}, "$.published"),
    "published 30 February": ({**build_follow(), "published": "2024-02-30T00:00:00Z"},
                              "$.published: not a valid xsd-date-time"),
    "published with newline": ({**build_follow(), "published": "2024-02-01T00:00:00Z\n"},
                               "$.published"),
    "published unicode digits": ({**build_follow(), "published": "٢٠٢٤-02-01T00:00:00Z"},
                                 "$.published"),
    "updated a number": ({**build_follow(), "updated": 1714567890}, "$.updated"),
    "create with an IRI object": ({**build_create(), "object": NOTE},
                                  "$.object: not of type object"),
    "create of a Person": (with_object(type="Person"), "$.object.type"),
    "create object without id": ({**build_create(), "object": without(build_note(), "id")},
                                 "$.object: missing id"),
    "create object without type": ({**build_create(),
                                    "object": without(build_note(), "type")},
                                   "$.object: missing type"),
    "embedded object without type": ({**build_follow(), "type": "Undo",
                                      "object": without(build_follow(), "type")},
                                     "$.object"),
    "update with an IRI object": ({**EXAMPLES["update-person"], "object": BOB}, "$.object"),
    "update person without inbox": ({**EXAMPLES["update-person"],
                                     "object": without(build_person(), "inbox")},
                                    "$.object: missing inbox"),
    "update person bad key": ({**EXAMPLES["update-person"],
                               "object": {**build_person(), "publicKey": {"id": BOB}}},
                              "$.object.publicKey"),
    "move without target": (without(EXAMPLES["move"], "target"), "$: missing target"),
    "emoji react without content": (without(EXAMPLES["emoji-react"], "content"),
                                    "missing content"),
    "flag with empty list": ({**EXAMPLES["flag"], "object": []}, "$.object"),
    "type list of junk": ({**build_follow(), "type": ["Follow", 3]}, "type"),
    "type empty list": ({**build_follow(), "type": []}, "type"),
    "type missing": (without(build_follow(), "type"), "type"),
    "string of 200 KB anywhere": ({**build_follow(), "ext": {"x": ["y" * 200 * 1024]}},
                                  "$.ext.x[0]: longer than 102400"),
    "lone surrogate": ({**build_follow(), "name": "\ud800"}, "$.name: lone surrogate"),
    "huge integer": ({**build_follow(), "n": 2**70}, "$.n: integer out of range"),
    "NaN float": ({**build_follow(), "n": float("nan")}, "$.n: number out of range"),
    "not a JSON value": ({**build_follow(), "n": {1, 2}}, "$.n: not a JSON value"),
    "non-string key": ({**build_follow(), "ext": {1: "x"}}, "$.ext: non-string key"),
    "20,000 items": ({**build_follow(), "ext": [0] * 20_000}, "too many items"),
    "depth 25": ({**build_follow(), "ext": nested(24)}, "too deep"),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_documents_are_refused_with_a_short_reason(name: str) -> None:
    doc, expected = BAD[name]
    with pytest.raises(InvalidActivity) as caught:
        validate_activity(doc)
    assert expected in caught.value.reason
    assert len(caught.value.reason) <= 200
    assert caught.value.message == caught.value.reason


def test_unknown_types_are_unsupported_not_crashes() -> None:
    with pytest.raises(UnsupportedType, match="unsupported type Arrive"):
        validate_activity({**build_follow(), "type": "Arrive"})
    with pytest.raises(UnsupportedType, match="unsupported type Note"):
        validate_activity({**build_note(), "actor": BOB, "object": NOTE})
    with pytest.raises(UnsupportedType) as caught:
        validate_activity({**build_follow(), "type": "X\n" + "y" * 5000})
    assert "\n" not in caught.value.reason and len(caught.value.reason) < 100


def test_invalid_activity_is_a_400_domain_error() -> None:
    assert issubclass(UnsupportedType, InvalidActivity)
    error = InvalidActivity("too large")
    assert isinstance(error, DomainError) and error.status == 400
    assert error.reason == "too large"


def test_validate_refuses_what_is_not_an_object() -> None:
    for value in ([], "Follow", None, 3):
        with pytest.raises(InvalidActivity, match="not a JSON object"):
            validate_activity(value)  # type: ignore[arg-type]


def test_validate_bounds_a_dict_parsed_without_load_json() -> None:
    # json.loads alone nests up to ~1000 levels; validate_activity must not recurse into it.
    deep = json.loads('{"type": "Follow", "x": ' + "[" * 900 + "]" * 900 + "}")
    with pytest.raises(InvalidActivity, match="too deep"):
        validate_activity(deep)


def test_depth_24_is_allowed_and_depth_25_is_not() -> None:
    ok = {**build_follow(), "ext": nested(23)}  # the activity itself is level 1
    assert validate_activity(ok) is ok
    assert load_json(body_of(ok)) == ok
    with pytest.raises(InvalidActivity, match="too deep"):
        load_json(body_of({**build_follow(), "ext": nested(24)}))


# --- load_json ------------------------------------------------------------------------------


def test_load_json_returns_the_object() -> None:
    assert load_json(body_of(build_create())) == build_create()
    assert load_json(bytearray(b'{"a": 1}')) == {"a": 1}


def test_25_nested_arrays_are_too_deep() -> None:
    with pytest.raises(InvalidActivity, match="too deep"):
        load_json(body_of(nested(25)))


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    b"[" * 1_000_000,  # unterminated too
])
def test_huge_depth_is_refused_without_recursion_error(body: bytes) -> None:
    # Quick check (not asserted): python -m timeit -s 'from fediverse_mu.activitypub.validate
    # import load_json' -s 'b = b"[" * 1_000_000' 'try: load_json(b)' 'except Exception: pass'
    # gives about 30 ms per loop.
    with pytest.raises(InvalidActivity, match="too deep"):
        load_json(body, max_bytes=len(body))


def test_floods_are_refused_before_json_parses_them(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_parse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("json.loads was reached")

    monkeypatch.setattr(validate.json, "loads", must_not_parse)
    with pytest.raises(InvalidActivity, match="too deep"):
        load_json(b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    with pytest.raises(InvalidActivity, match="too many items"):
        load_json(body_of({"a": [0] * 20_000}))


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    doc = {"a": "[" * 100, "b": '\\"[{' * 50, "c": "]]]}}}"}
    assert load_json(body_of(doc)) == doc


def test_escaped_quotes_do_not_end_a_string_early() -> None:
    body = b'{"a": "\\"' + b"[" * 30 + b'"}'
    assert load_json(body) == {"a": '"' + "[" * 30}


@pytest.mark.parametrize(("body", "reason"), [
    (b'{"a": NaN}', "NaN is not allowed"),
    (b'{"a": [Infinity]}', "Infinity is not allowed"),
    (b'{"a": -Infinity}', "-Infinity is not allowed"),
    (b'{"a": 1e999}', "number out of range"),  # float() gives inf without parse_constant
    (b'{"a": -1.5e400}', "number out of range"),
])
def test_non_finite_numbers_are_refused(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidActivity) as caught:
        load_json(body)
    assert caught.value.reason == reason


def test_huge_integers_are_refused() -> None:
    with pytest.raises(InvalidActivity, match="integer out of range"):
        load_json(b'{"a": ' + b"9" * 5000 + b"}")
    with pytest.raises(InvalidActivity, match="integer out of range"):
        load_json(b'{"a": 9223372036854775808}')
    assert load_json(b'{"a": -9223372036854775808}') == {"a": -(2**63)}


def test_a_2_mb_body_is_too_large() -> None:
    body = b'{"a": "' + b"x" * 2 * 1024 * 1024 + b'"}'
    with pytest.raises(InvalidActivity, match="too large"):
        load_json(body)
    with pytest.raises(InvalidActivity, match="too large"):
        load_json(body_of(build_follow()), max_bytes=100)


@pytest.mark.parametrize("body", [b"[]", b'[{"type": "Follow"}]', b'"Follow"', b"3", b"null",
                                  b"true"])
def test_top_level_must_be_an_object(body: bytes) -> None:
    with pytest.raises(InvalidActivity, match="not a JSON object"):
        load_json(body)


def test_20000_items_are_too_many() -> None:
    with pytest.raises(InvalidActivity, match="too many items"):
        load_json(body_of({"a": [0] * 20_000}))
    with pytest.raises(InvalidActivity, match="too many items"):
        load_json(body_of({f"k{i}": 0 for i in range(20_000)}))
    # Items without commas (one per array) are counted exactly after parsing.
    with pytest.raises(InvalidActivity, match="too many items"):
        load_json(body_of({"a": [[0]] * 9_000}))
    exactly = {"a": [0] * 9_999}  # 9,999 elements + 1 key
    assert load_json(body_of(exactly)) == exactly


@pytest.mark.parametrize("body", [b'{"a": "\xff"}', b'{"a": "\xc3"}', b'{"a": "\xed\xa0\x80"}',
                                  '{"a": 1}'.encode("utf-16")])
def test_bad_utf8_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidActivity, match="not UTF-8"):
        load_json(body)


@pytest.mark.parametrize("body", [b"", b"{", b'{"a": }', b"{'a': 1}", b'{"a": 1,}',
                                  b'{"a": "tab\there"}', b'{"a": 1} x', b'\xef\xbb\xbf{"a": 1}',
                                  b'{"a": "\\x"}', b'{"a": "unterminated}'])
def test_malformed_json_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidActivity, match="malformed JSON"):
        load_json(body)


def test_lone_surrogate_escapes_are_refused() -> None:
    with pytest.raises(InvalidActivity, match="lone surrogate"):
        load_json(b'{"a": "\\ud800"}')
    with pytest.raises(InvalidActivity, match="lone surrogate"):
        load_json(b'{"\\udfff": 1}')
    assert load_json(b'{"a": "\\ud83d\\udd25"}') == {"a": "\U0001f525"}  # a valid pair


def test_duplicate_keys_are_accepted_and_the_last_wins() -> None:
    assert load_json(b'{"type": "Like", "type": "Follow"}') == {"type": "Follow"}


def test_load_json_refuses_what_is_not_bytes() -> None:
    with pytest.raises(InvalidActivity, match="not bytes"):
        load_json('{"a": 1}')  # type: ignore[arg-type]


def test_every_truncation_of_a_document_is_a_clean_refusal() -> None:
    body = body_of(build_create())
    for end in range(len(body)):
        with pytest.raises(InvalidActivity):
            load_json(body[:end])


def test_any_byte_flip_gives_an_object_or_a_clean_refusal() -> None:
    body = body_of(EXAMPLES["undo-follow"])
    for position in range(len(body)):
        for byte in (0x00, 0x22, 0x5B, 0x5C, 0x7B, 0x7D, 0xFF):
            mutated = body[:position] + bytes([byte]) + body[position + 1:]
            try:
                raw = load_json(mutated)
                validate_activity(raw)
            except InvalidActivity:
                pass


# --- Accessors ------------------------------------------------------------------------------


def test_actor_id_reads_an_iri_or_an_object() -> None:
    assert actor_id(build_follow()) == BOB
    assert actor_id({"actor": {"id": ALICE, "type": "Person"}}) == ALICE
    for raw in ({}, {"actor": None}, {"actor": {"type": "Person"}}, {"actor": [BOB]}):
        with pytest.raises(InvalidActivity, match="missing actor"):
            actor_id(raw)


def test_object_id_reads_an_iri_an_embedded_object_or_the_first_of_a_list() -> None:
    assert object_id(build_follow()) == ALICE
    assert object_id(build_create()) == NOTE
    assert object_id(EXAMPLES["flag"]) == ALICE
    assert object_id({"object": [{"id": NOTE}]}) == NOTE
    assert object_id({}) is None
    assert object_id({"object": []}) is None
    assert object_id({"object": {"type": "Note"}}) is None


def test_object_type_is_that_of_an_embedded_object_only() -> None:
    assert object_type(EXAMPLES["undo-follow"]) == "Follow"
    assert object_type(EXAMPLES["delete-tombstone"]) == "Tombstone"
    assert object_type(EXAMPLES["update-person"]) == "Person"
    assert object_type(EXAMPLES["announce"]) is None
    assert object_type({"object": {"type": ["https://ext.example/ns#A", "Note"]}}) == "Note"
    assert object_type({"object": {"type": ["https://ext.example/ns#A"]}}) == (
        "https://ext.example/ns#A")
    assert object_type({"object": {"id": NOTE}}) is None
    assert object_type({}) is None


def test_activity_type_takes_the_first_known_type() -> None:
    assert activity_type(build_follow()) == "Follow"
    assert activity_type({"type": ["https://ext.example/ns#A", "Like", "Follow"]}) == "Like"
    with pytest.raises(UnsupportedType, match="unsupported type A,B"):
        activity_type({"type": ["A", "B"]})
    for raw in ({}, {"type": None}, {"type": []}, {"type": {"@id": "Follow"}}):
        with pytest.raises(InvalidActivity, match="type"):
            activity_type(raw)


def test_as_list() -> None:
    assert as_list(None) == []
    assert as_list(BOB) == [BOB]
    assert as_list({"id": BOB}) == [{"id": BOB}]
    items = [BOB, ALICE]
    assert as_list(items) == items and as_list(items) is not items


def test_is_public() -> None:
    assert is_public("https://www.w3.org/ns/activitystreams#Public")
    assert is_public("as:Public") and is_public("Public")
    assert not is_public("https://www.w3.org/ns/activitystreams#public")
    assert not is_public(f"{BOB}/followers")
    assert not is_public(None) and not is_public(["Public"])


# --- host_of and same_origin ----------------------------------------------------------------


@pytest.mark.parametrize(("iri", "host"), [
    ("https://b.test/users/bob", "b.test"),
    ("https://B.TEST/users/bob", "b.test"),
    ("HTTPS://b.test", "b.test"),
    ("https://b.test:443/", "b.test"),
    ("http://b.test:80/", "b.test"),
    ("http://b.test:443/", "b.test:443"),
    ("https://b.test:8443/", "b.test:8443"),
    ("https://b.test:08443/", "b.test:8443"),
    ("http://127.0.0.1:8001/actor", "127.0.0.1:8001"),
    ("https://b.test.evil.example/", "b.test.evil.example"),
    ("https://evil.example#@b.test/", "evil.example"),
    ("https://evil.example?@b.test/", "evil.example"),
    ("https://bücher.example/", "xn--bcher-kva.example"),
    ("https://BÜCHER.example/", "xn--bcher-kva.example"),
    ("https://xn--bcher-kva.example/", "xn--bcher-kva.example"),
    ("https://XN--BCHER-KVA.example/", "xn--bcher-kva.example"),
    ("https://[2001:DB8:0::1]:8443/", "[2001:db8::1]:8443"),
    ("https://[2001:db8::1]:443/", "[2001:db8::1]"),
    ("https://under_score.b.test/", "under_score.b.test"),
])
def test_host_of_normalises(iri: str, host: str) -> None:
    assert host_of(iri) == host


@pytest.mark.parametrize(("iri", "reason"), [
    ("https://b.test@evil.example/", "userinfo in IRI"),
    ("https://@evil.example/", "userinfo in IRI"),
    ("https://user:pass@b.test/", "userinfo in IRI"),
    ("https://B.TEST./", "trailing dot in host"),
    ("https://b.test../", "trailing dot in host"),
    ("https://b..test/", "invalid host"),
    ("https://.b.test/", "invalid host"),
    ("https://evil.example\\@b.test/", "backslash"),
    ("https://b.test\\.evil.example/", "backslash"),
    ("https:\\\\b.test/", "backslash"),
    (" https://b.test/", "whitespace"),
    ("https://b.test/ ", "whitespace"),
    ("https://b.te\nst/", "whitespace"),
    ("https://b.te\tst/", "whitespace"),
    ("https://b .test/", "whitespace"),
    ("https://b.test\u3000/", "whitespace"),
    ("https://b.test/\x00", "whitespace"),
    ("https://%62.test/", "percent-encoded host"),
    ("https://b%2etest/", "percent-encoded host"),
    ("https://b.test%2f@evil.example/", "userinfo in IRI"),
    ("https://ｂ.test/", "IDNA normal form"),  # fullwidth b: IDNA would fold it to plain b
    ("https://b。test/", "IDNA normal form"),  # ideographic full stop: IDNA reads it as a dot
    ("https://b\u00ad.test/", "IDNA normal form"),  # soft hyphen: IDNA drops it
    ("https://b\u200b.test/", "IDNA normal form"),  # zero-width space
    ("https://straße.example/", "IDNA normal form"),  # IDNA2003: strasse; 2008: xn--strae-oqa
    ("https://b-.test/", "invalid host"),
    ("javascript:alert(1)", "not an http(s) IRI"),
    ("ftp://b.test/", "not an http(s) IRI"),
    ("data:text/plain,b.test", "not an http(s) IRI"),
    ("//b.test/", "not an http(s) IRI"),
    ("https:b.test/", "no host in IRI"),
    ("https:///b.test/", "no host in IRI"),
    ("https://", "no host in IRI"),
    ("", "not an IRI"),
    ("https://b.test:/", "bad port"),
    ("https://b.test:0/", "bad port"),
    ("https://b.test:65536/", "bad port"),
    ("https://b.test:+443/", "bad port"),
    ("https://b.test:٤٤٣/", "bad port"),
    ("https://b.test:443:443/", "bad port"),
    ("https://b.test:https/", "bad port"),
    ("https://127.1/", "non-canonical IP address"),
    ("https://2130706433/", "non-canonical IP address"),
    ("https://0x7f.0.0.1/", "non-canonical IP address"),
    ("https://127.000.000.001/", "non-canonical IP address"),
    ("https://[::1/", "malformed IRI"),
    ("https://[fe80::1%25eth0]/", "percent-encoded host"),
    ("https://[::1]x/", "malformed IPv6 literal"),
    ("https://[b.test]/", "malformed IRI"),
    ("https://" + "a" * 64 + ".test/", "invalid host"),
    ("https://" + "a." * 130 + "test/", "invalid host"),
    ("https://b.test/" + "x" * 2048, "IRI too long"),
    ("https://-b.test/", "invalid host"),
    ("https://b*.test/", "invalid host"),
])
def test_host_of_refuses_odd_iris(iri: str, reason: str) -> None:
    with pytest.raises(InvalidActivity, match=re.escape(reason)):
        host_of(iri)


def test_host_of_refuses_what_is_not_a_string() -> None:
    for value in (None, 3, [BOB], b"https://b.test/"):
        with pytest.raises(InvalidActivity):
            host_of(value)  # type: ignore[arg-type]


def test_same_origin() -> None:
    assert same_origin("https://b.test/users/bob", "https://B.test:443/users/bob#main-key")
    assert same_origin("https://bücher.example/u", "https://xn--bcher-kva.example/k")
    assert not same_origin("https://b.test/", "https://b.test.evil.example/")
    assert not same_origin("http://127.0.0.1:8001/a", "http://127.0.0.1:8002/a")
    assert not same_origin("https://b.test/", "https://c.test/")
    assert not same_origin("https://evil.example#@b.test/", "https://b.test/")
    with pytest.raises(InvalidActivity):
        same_origin("https://b.test@evil.example/", "https://evil.example/")
