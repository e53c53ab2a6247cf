"""The compiled fast path of schema validation agrees with jsonschema: on every good and bad
example of test_validate, and on thousands of single-value mutations of them (each value
replaced by values of every JSON type, odd strings and bounds included)."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

import pytest

from fediverse_mu.activitypub import validate
from fediverse_mu.activitypub.validate import ACTIVITY_TYPES, InvalidActivity, RawObject
from tests.activitypub.test_validate import BAD, EXAMPLES, PUBLIC

REPLACEMENTS: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 1.5, -0.5, "", "x", "Note", "Person", "Follow",
    "Create", PUBLIC, "as:Public", "https://b.test/x", "http://c.test:8080/y",
    "https://b.test/ x", "javascript:alert(1)", "https://user@b.test/", "x" * 2049,
    "https://b.test/" + "x" * 300, "2024-05-01T12:34:56Z", "2024-02-30T12:00:00Z",
    "2024-05-01T12:34:56Z\n", [], [None], ["https://b.test/x"], ["Note"], ["Person", "x"],
    [PUBLIC] * 1001, {}, {"id": "https://b.test/x"}, {"id": "https://b.test/x", "type": "Note"},
    {"type": "Person"}, {"id": 3},
]


def jsonschema_says_valid(name: str, doc: RawObject) -> bool:
    return next(iter(validate._validator(name).iter_errors(doc)), None) is None


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside a document."""
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, child in items:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def replaced(doc: RawObject, path: tuple[Any, ...], value: Any) -> RawObject:
    copied = copy.deepcopy(doc)
    node = copied
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copied


def documents() -> Iterator[tuple[str, RawObject]]:
    rng = random.Random(7)
    bases = list(EXAMPLES.values()) + [doc for doc, _ in BAD.values()]
    for doc in bases:
        if not isinstance(doc.get("type"), str) or doc["type"] not in ACTIVITY_TYPES:
            continue
        try:
            validate._check_tree(doc, max_depth=validate.MAX_DEPTH,
                                 max_items=validate.MAX_ITEMS,
                                 max_string=validate.MAX_STRING_CHARS)
        except InvalidActivity:
            continue  # refused before any schema is looked at
        yield doc["type"], doc
        if len(repr(doc)) > 10_000:
            continue  # jsonschema is slow on the huge ones: checked once, not mutated
        all_paths = list(paths(doc))
        for path in rng.sample(all_paths, min(len(all_paths), 25)):
            for value in rng.sample(REPLACEMENTS, 4):
                yield doc["type"], replaced(doc, path, value)
        for name in ("to", "cc", "object", "actor", "tag", "attachment", "url", "published",
                     "inReplyTo", "content", "endTime", "votersCount", "oneOf"):
            yield doc["type"], {**doc, name: rng.choice(REPLACEMENTS)}
            if isinstance(doc.get("object"), dict):
                yield doc["type"], {**doc, "object": {**doc["object"],
                                                      name: rng.choice(REPLACEMENTS)}}


def test_every_schema_compiles() -> None:
    for name in ACTIVITY_TYPES:
        assert validate._fast_check(name) is not None, name


def test_the_fast_path_agrees_with_jsonschema() -> None:
    checked = disagreements = accepted = 0
    for name, doc in documents():
        try:
            validate._check_tree(doc, max_depth=validate.MAX_DEPTH,
                                 max_items=validate.MAX_ITEMS,
                                 max_string=validate.MAX_STRING_CHARS)
        except InvalidActivity:
            continue  # refused before the schema is looked at
        fast = validate._is_valid_fast(name, doc)
        slow = jsonschema_says_valid(name, doc)
        checked += 1
        accepted += slow
        if fast != slow:
            disagreements += 1
            pytest.fail(f"{name}: fast={fast} jsonschema={slow} on {doc!r:.300}")
    assert checked > 1500 and 0 < accepted < checked and disagreements == 0


def test_an_uncompilable_schema_falls_back_to_jsonschema() -> None:
    with pytest.raises(validate._Unsupported):
        validate._compile({"type": "object", "dependentRequired": {"a": ["b"]}})
    with pytest.raises(validate._Unsupported):
        validate._compile({"enum": [1, "a"]})


IRIS = [
    "https://b.test/users/bob", "https://B.test:443/x?y#z", "http://b.test:80", "http://b.test:",
    "https://b.test:8443/", "https://b.test:99999/", "https://b.test:0/", "https://b.test:+1/",
    "https://[2001:db8::1]:8080/users/x", "https://[2001:db8::1/x", "https://2001:db8::1]/x",
    "https://[::ffff:127.0.0.1]/", "https://[v1.x]/", "https://user@b.test/", "https://@b.test/",
    "https://b.test@c.test/", "https://%62.test/", "https://b.test./", "https://b..test/",
    "https://-b.test/", "https://b.test/path:with:colons", "https://b.test?q", "https://b.test#f",
    "https:b.test/x", "https:/b.test/x", "https:///x", "https://", "ftp://b.test/", "b.test/x",
    "//b.test/x", ":b.test", "https://127.1/", "https://0x7f.0.0.1/", "https://2130706433/",
    "https://127.0.0.1/", "https://bücher.test/", "https://xn--bcher-kva.test/",
    "https://ｂ.test/", "https://straße.test/", "javascript:alert(1)", "data:text/plain,x",
    "HTTPS://B.TEST/", "h ttps://b.test/", "https://b.test/a b", "https://b.test\\@c.test/",
    "https://b.test:8080:9090/", "http://b.test:080/", "https://_dmarc.b.test/",
    "https://" + "a" * 64 + ".test/", "https://b.test/" + "x" * 2040,
    "https://b.test/x?" + "y" * 3000,
    "1https://b.test/", "h+s://b.test/", "https://b.test/%2F", "https://[::1]x/",
]


def outcome(fn: Any, iri: str) -> str:
    try:
        return f"ok {fn(iri)}"
    except InvalidActivity as exc:
        return f"refused {exc.reason}"


@pytest.mark.parametrize("iri", IRIS)
def test_host_of_reads_only_the_origin_with_the_same_outcome(iri: str) -> None:
    # host_of checks "scheme://authority" (cached); the whole IRI must give the same answer.
    if len(iri) <= validate.MAX_IRI_CHARS and not validate._UNSAFE_IRI.search(iri):
        assert outcome(validate.host_of, iri) == outcome(
            validate._host_of_origin.__wrapped__, iri)
    assert outcome(validate.host_of, iri) == outcome(validate.host_of, iri)  # cached: same
