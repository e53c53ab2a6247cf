"""Validation of every document that arrives from another server, before anything trusts it.

Three layers, all pure (no I/O, no network: the schemas ship in ``schemas/`` beside this file
and their ``$ref``s resolve only among themselves). ``load_json`` turns a body into a JSON object
under byte, nesting-depth and item limits, and never lets a parser error, a ``RecursionError``
or a non-finite number escape. ``validate_activity`` checks an activity against the JSON Schema
(Draft 2020-12) of its type, after bounding the whole tree again, so it is safe on any dict.
``host_of``/``same_origin`` normalise IRIs strictly, for the origin checks of the inbox. The
small accessors (``actor_id``, ``object_id``, ``object_type``, ``activity_type``, ``as_list``,
``is_public``) read the JSON-LD shapes the schemas allow. Every refusal is an
``InvalidActivity`` with a short reason (HTTP 400 through the error middleware).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import math
import re
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from importlib import resources
from itertools import accumulate
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

import jsonschema
from jsonschema.exceptions import ValidationError, relevance
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from fediverse_mu.domain.errors import DomainError

RawObject = dict[str, Any]

MAX_BODY_BYTES: Final = 1_048_576
MAX_DEPTH: Final = 24
MAX_ITEMS: Final = 10_000
MAX_STRING_CHARS: Final = 100 * 1024  # content, summary, name and any other string
MAX_KEY_CHARS: Final = 2048  # JSON-LD keys may be full IRIs
MAX_IRI_CHARS: Final = 2048

PUBLIC: Final = "https://www.w3.org/ns/activitystreams#Public"
# The compacted forms are what as:Public becomes under the AS2 context; Mastodon accepts all
# three (https://www.w3.org/TR/activitypub/#public-addressing).
PUBLIC_FORMS: Final = frozenset({PUBLIC, "as:Public", "Public"})

ACTIVITY_TYPES: Final = frozenset({
    "Follow", "Accept", "Reject", "Undo", "Create", "Update", "Delete", "Announce", "Like",
    "Block", "Flag", "Move", "Add", "Remove", "EmojiReact",
})
CREATE_OBJECT_TYPES: Final = frozenset({
    "Note", "Question", "Article", "Page", "Event", "Image", "Video", "ChatMessage",
})
ACTOR_TYPES: Final = frozenset({"Person", "Service", "Application", "Group", "Organization"})
_KNOWN_TYPES: Final = ACTIVITY_TYPES | CREATE_OBJECT_TYPES | ACTOR_TYPES | frozenset({
    "Tombstone", "Collection", "OrderedCollection", "CollectionPage", "OrderedCollectionPage",
    "Document", "Audio", "Link", "Mention", "Hashtag", "Emoji", "Place", "PropertyValue",
})

SCHEMA_BASE: Final = "https://fediverse-mu.invalid/schemas/activitypub/"

_INT_RANGE: Final = range(-(2**63), 2**63)  # what SQLite can store
_MAX_INT_DIGITS: Final = 19


class InvalidActivity(DomainError):
    """A document from another server that is refused; ``reason`` says why in a few words."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnsupportedType(InvalidActivity):
    """A well-formed activity of a type this server does not handle (the inbox may ignore it)."""


# --- JSON parsing ---------------------------------------------------------------------------

# One pass that deletes every string (escapes included; an unterminated one runs to the end)
# and every run of non-structural characters, leaving only "[]{},". Possessive quantifiers
# keep it linear: no backtracking, and `re` keeps its own stack on the heap.
_NOT_STRUCTURE = re.compile(r'"(?:[^"\\]++|\\.?)*+(?:"|\Z)|[^"\[\]{},]++', re.DOTALL)
_DEPTH_STEP: Final = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _scan(text: str) -> tuple[int, int]:
    """Return the deepest nesting and the number of commas outside strings, without recursion.

    For valid JSON a string starts at the same quote and ends at the same unescaped quote for
    this scan and for `json`, so the depth found is the depth `json` would recurse to; on
    invalid JSON `json` stops at the first error, before any bracket this scan did not count.
    """
    skeleton = _NOT_STRUCTURE.sub("", text)
    commas = skeleton.count(",")
    brackets = skeleton.replace(",", "")
    # map/accumulate/max run in C: about 30 ms for a megabyte of brackets.
    depth = max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)
    return depth, commas


def _refuse_constant(name: str) -> Any:
    raise InvalidActivity(f"{name} is not allowed")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # "1e999" parses to inf without going through parse_constant
        raise InvalidActivity("number out of range")
    return value


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS or int(text) not in _INT_RANGE:
        raise InvalidActivity("integer out of range")
    return int(text)


# json.loads(text, parse_constant=…, parse_float=…, parse_int=…) builds this on every call.
_DECODER: Final = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_float=_parse_float, parse_int=_parse_int)


def load_json(
    body: bytes,
    *,
    max_bytes: int = MAX_BODY_BYTES,
    max_depth: int = MAX_DEPTH,
    max_items: int = MAX_ITEMS,
) -> RawObject:
    """Parse a body received from another server into a JSON object, or raise InvalidActivity.

    Duplicate keys are accepted and the last one wins, as everywhere in the fediverse
    (`json`'s behaviour); the limits count the keys that remain.
    """
    if not isinstance(body, bytes | bytearray):
        raise InvalidActivity("body is not bytes")
    if len(body) > max_bytes:
        raise InvalidActivity("too large")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidActivity("not UTF-8") from None
    depth, commas = _scan(text)
    if depth > max_depth:
        raise InvalidActivity("too deep")
    # Every non-empty array or object has one item more than commas: a cheap lower bound that
    # refuses a flood of items before `json` builds them. The exact count comes after parsing.
    if commas >= max_items:
        raise InvalidActivity("too many items")
    try:
        if text.startswith("\ufeff"):  # what json.loads refuses before decoding
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise InvalidActivity(f"malformed JSON: {exc.msg} at {exc.pos}") from None
    except RecursionError:  # unreachable after the depth scan; kept so it can never escape
        raise InvalidActivity("too deep") from None
    except ValueError:  # e.g. an integer beyond sys.get_int_max_str_digits()
        raise InvalidActivity("malformed JSON") from None
    if not isinstance(value, dict):
        raise InvalidActivity("not a JSON object")
    _check_tree(value, max_depth=max_depth, max_items=max_items, max_string=None)
    return value


def _json_path(parts: tuple[str | int, ...]) -> str:
    """``$.object.tag[3]``: where in a document a rule was broken (long keys clipped)."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{_clip(p, 40)}" for p in parts)


def _check_string(text: str, limit: int | None) -> str | None:
    """Why the string is refused, or None."""
    if limit is not None and len(text) > limit:
        return f"longer than {limit} characters"
    # "\ud800" is valid JSON but no valid UTF-8: it would fail later, in storage or rendering.
    if not text.isascii() and _SURROGATE.search(text):
        return "lone surrogate"
    return None


def _check_scalar(value: object, max_string: int | None) -> str | None:
    """Why the scalar is refused, or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return _check_string(value, max_string)
    if isinstance(value, int):
        return None if value in _INT_RANGE else "integer out of range"
    if isinstance(value, float):
        return None if math.isfinite(value) else "number out of range"
    return f"not a JSON value ({type(value).__name__})"


def _check_tree(
    root: RawObject, *, max_depth: int, max_items: int, max_string: int | None
) -> None:
    """Bound depth, item count, keys, strings and numbers of a JSON tree, iteratively."""
    items = 0
    stack: list[tuple[dict[Any, Any] | list[Any], tuple[str | int, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if len(path) >= max_depth:
            raise InvalidActivity("too deep")
        items += len(node)
        if items > max_items:
            raise InvalidActivity("too many items")
        pairs: Iterable[tuple[str | int, Any]]
        if isinstance(node, dict):
            for key in node:
                if type(key) is str and key.isascii() and len(key) <= MAX_KEY_CHARS:
                    continue  # the usual key: nothing to refuse (a shortcut, same outcome)
                if not isinstance(key, str):
                    raise InvalidActivity(f"{_json_path(path)}: non-string key")
                problem = _check_string(key, MAX_KEY_CHARS)
                if problem is not None:
                    raise InvalidActivity(_clip(f"{_json_path(path)}: key {problem}"))
            pairs = node.items()
        else:
            pairs = enumerate(node)
        for key, child in pairs:
            if type(child) is str and child.isascii() and (
                    max_string is None or len(child) <= max_string):
                continue  # the usual string: nothing to refuse (a shortcut, same outcome)
            if isinstance(child, dict | list):
                stack.append((child, (*path, key)))
            elif (problem := _check_scalar(child, max_string)) is not None:
                raise InvalidActivity(_clip(f"{_json_path((*path, key))}: {problem}"))


# --- Vocabulary accessors -------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    """A JSON-LD value as a list: None is empty, a list is itself, anything else one item."""
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    return [value]


def is_public(iri: object) -> bool:
    """True for the public collection in any of its spellings."""
    return isinstance(iri, str) and iri in PUBLIC_FORMS


def _clip(text: str, limit: int = 200) -> str:
    """Shorten text that came from a peer and make it safe for logs (no control characters)."""
    shown = "".join(c if c.isprintable() else "?" for c in text[: limit + 1])
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _first_type(value: object, known: frozenset[str]) -> str | None:
    """The first known type of a ``type`` value (a string or a list), else its first string."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return None
    names = [name for name in value if isinstance(name, str)]
    return next((name for name in names if name in known), names[0] if names else None)


def activity_type(raw: RawObject) -> str:
    """The activity's type: the first supported one when ``type`` is a list."""
    value = raw.get("type")
    if isinstance(value, str):
        names = [value]
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        names = value
    else:
        raise InvalidActivity("missing or malformed type")
    for name in names:
        if name in ACTIVITY_TYPES:
            return name
    raise UnsupportedType(f"unsupported type {_clip(','.join(names), 64)}")


def actor_id(raw: RawObject) -> str:
    """The actor's IRI, whether ``actor`` is an IRI or an object with an ``id``."""
    actor = raw.get("actor")
    if isinstance(actor, dict):
        actor = actor.get("id")
    if not isinstance(actor, str):
        raise InvalidActivity("missing actor")
    return actor


def object_id(raw: RawObject) -> str | None:
    """The object's IRI (its ``id`` when embedded; the first one of a list), or None."""
    obj = raw.get("object")
    if isinstance(obj, list):
        obj = obj[0] if obj else None
    if isinstance(obj, dict):
        obj = obj.get("id")
    return obj if isinstance(obj, str) else None


def object_type(raw: RawObject) -> str | None:
    """The type of the embedded object (first known one of a list); None when it is an IRI."""
    obj = raw.get("object")
    if not isinstance(obj, dict):
        return None
    return _first_type(obj.get("type"), _KNOWN_TYPES)


# --- Origins --------------------------------------------------------------------------------

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
# Whitespace, C0/C1 controls and backslashes: `urlsplit` silently drops tabs and newlines and
# browsers read "\" as "/", so any of them can make two parsers see two hosts.
_UNSAFE_IRI = re.compile(r"[\s\x00-\x1f\x7f-\x9f\\]")
_PORT = re.compile(r"[0-9]{1,5}")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")
_AUTHORITY_END = re.compile(r"[/?#]")


def _normalise_name(name: str) -> str:
    """A lowercase ASCII host name (A-labels) or canonical dotted-quad, or raise."""
    if not name:
        raise InvalidActivity("empty host")
    if name.endswith("."):
        raise InvalidActivity("trailing dot in host")
    lowered = name.lower()
    if lowered.isascii():
        host = lowered
    else:
        # Accept a U-label only if IDNA maps it to itself: fullwidth letters, ideographic dots,
        # ignorable characters and IDNA2003/2008 deviations ("ß") would otherwise let two
        # different strings, or two different hosts, compare equal.
        try:
            host = lowered.encode("idna").decode("ascii")
            round_trip = host.encode("ascii").decode("idna")
        except UnicodeError:
            raise InvalidActivity("invalid internationalised host") from None
        if round_trip != lowered:
            raise InvalidActivity("host is not in IDNA normal form")
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidActivity("invalid host")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        # "127.1", "2130706433", "0x7f.0.0.1": legacy IPv4 spellings, never a real name.
        try:
            canonical = str(ipaddress.IPv4Address(host))
        except ValueError:
            raise InvalidActivity("non-canonical IP address") from None
        if canonical != host:
            raise InvalidActivity("non-canonical IP address")
    return host


def _split_netloc(netloc: str) -> tuple[str, str | None]:
    """Split ``host[:port]`` (host possibly a bracketed IPv6 literal) and normalise the host."""
    if netloc.startswith("["):
        close = netloc.find("]")
        rest = netloc[close + 1 :] if close != -1 else ""
        if close == -1 or (rest and not rest.startswith(":")):
            raise InvalidActivity("malformed IPv6 literal")
        try:
            ip = ipaddress.IPv6Address(netloc[1:close])
        except ValueError:
            raise InvalidActivity("malformed IPv6 literal") from None
        return f"[{ip.compressed}]", rest[1:] if rest else None
    name, colon, port = netloc.partition(":")
    return _normalise_name(name), port if colon else None


def host_of(iri: str) -> str:
    """The ``host[:port]`` an http(s) IRI points at, strictly normalised, for origin checks."""
    if not isinstance(iri, str) or not iri:
        raise InvalidActivity("not an IRI")
    if len(iri) > MAX_IRI_CHARS:
        raise InvalidActivity("IRI too long")
    if _UNSAFE_IRI.search(iri):
        raise InvalidActivity("whitespace, control character or backslash in IRI")
    # Only the scheme and the authority matter, and urlsplit reads them the same in
    # "scheme://authority" as in the whole IRI: check that prefix once per origin (cached).
    colon = iri.find(":")
    if colon > 0 and iri.startswith("//", colon + 1):
        end = _AUTHORITY_END.search(iri, colon + 3)
        if end is not None:
            return _host_of_origin(iri[: end.start()])
    return _host_of_origin(iri)


@lru_cache(maxsize=1024)  # refusals raise, so they are never kept
def _host_of_origin(iri: str) -> str:
    try:
        parts = urlsplit(iri)
    except ValueError:
        raise InvalidActivity("malformed IRI") from None
    default_port = _DEFAULT_PORTS.get(parts.scheme)
    if default_port is None:
        raise InvalidActivity("not an http(s) IRI")
    netloc = parts.netloc
    if not netloc:
        raise InvalidActivity("no host in IRI")
    if "@" in netloc:
        raise InvalidActivity("userinfo in IRI")
    if "%" in netloc:
        raise InvalidActivity("percent-encoded host")
    host, port_text = _split_netloc(netloc)
    if port_text is None:
        return host
    if not _PORT.fullmatch(port_text) or not 0 < int(port_text) < 65536:
        raise InvalidActivity("bad port")
    port = int(port_text)
    return host if port == default_port else f"{host}:{port}"


def same_origin(a: str, b: str) -> bool:
    """True when both IRIs point at the same ``host[:port]``; InvalidActivity if either is odd."""
    return host_of(a) == host_of(b)


# --- Schemas --------------------------------------------------------------------------------

_FORMATS = jsonschema.FormatChecker(formats=())
_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)"
    r"(\.[0-9]{1,12})?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?"
)


@_FORMATS.checks("http-iri")
def _is_http_iri(value: object) -> bool:
    if not isinstance(value, str):
        return True  # formats only constrain strings; "type" says the rest
    try:
        host_of(value)
    except InvalidActivity:
        return False
    return True


@_FORMATS.checks("xsd-date-time")
def _is_xsd_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.fullmatch(value)  # fullmatch: the schema's "$" lets a final "\n" by
    if match is None:
        return False
    try:
        dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return False
    return True


def schema_uri(name: str) -> str:
    """The ``$id`` of the schema of an activity type (or of a helper schema such as ``defs``)."""
    return f"{SCHEMA_BASE}{name.lower()}.json"


@cache
def _registry() -> Registry[Any]:
    """Every shipped schema, by ``$id``; nothing else resolves (no retrieval, no network)."""
    folder = resources.files(__package__).joinpath("schemas")
    schemas = []
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            contents = json.loads(entry.read_text(encoding="utf-8"))
            schemas.append((contents["$id"], DRAFT202012.create_resource(contents)))
    return Registry().with_resources(schemas)


def _bundle(node: Any, base: str, registry: Registry[Any], trail: tuple[str, ...]) -> Any:
    """``node`` with every ``$ref`` replaced by the schema it names, recursively.

    A ``$ref`` beside other keywords is their conjunction (Draft 2020-12), hence ``allOf``.
    Once nothing is left to look up, ``$id``, ``$schema`` and ``$defs`` are dead weight. The
    bundled validator runs about twice as fast: jsonschema resolves a ``$ref`` on every visit,
    and a ``to`` of 1000 IRIs visits three of them per IRI.
    """
    if isinstance(node, list):
        return [_bundle(child, base, registry, trail) for child in node]
    if not isinstance(node, dict):
        return node
    if "$dynamicRef" in node or "$anchor" in node:
        raise ValueError(f"{base}: $dynamicRef and $anchor are not supported here")
    bundled = {
        key: _bundle(child, base, registry, trail)
        for key, child in node.items()
        if key not in ("$ref", "$id", "$schema", "$defs")
    }
    if "$ref" not in node:
        return bundled
    uri = urljoin(base, node["$ref"])
    if uri in trail:
        raise ValueError(f"recursive schema: {' -> '.join((*trail, uri))}")
    target = registry.resolver().lookup(uri).contents
    inlined = _bundle(target, uri.partition("#")[0], registry, (*trail, uri))
    return {"allOf": [inlined], **bundled} if bundled else inlined


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    """The validator of one activity type, its schema bundled and compiled once."""
    registry = _registry()
    uri = schema_uri(name)
    schema = _bundle(registry.contents(uri), uri, registry, (uri,))
    return jsonschema.Draft202012Validator(schema, registry=registry, format_checker=_FORMATS)


# --- Fast path: the bundled schemas compiled to plain predicates ------------------------------
#
# jsonschema spends ~100 µs on a Follow and ~300 µs on a Create(Note), mostly building a child
# validator per keyword visit: a third of the inbox's CPU. The keywords our schemas use are
# compiled below to closures that only answer "valid or not", with jsonschema's semantics;
# jsonschema itself still runs whenever the answer is "not", to find and word the error. A
# schema using any other keyword is not compiled at all (jsonschema then does everything), so
# the fast path can never accept what jsonschema would refuse.

Check = Callable[[Any], bool]
_ANNOTATIONS: Final = frozenset({"title", "description", "$comment", "default", "examples",
                                 "deprecated", "readOnly", "writeOnly"})


class _Unsupported(Exception):
    """A schema uses a keyword the fast path does not implement."""


def _is_json_type(value: Any, name: str) -> bool:
    """jsonschema's Draft 2020-12 type checks (booleans are not numbers; 1.0 is an integer)."""
    if name == "string":
        return isinstance(value, str)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, int | float)
    raise _Unsupported(f"type {name}")


def _all_of(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def every(value: Any) -> bool:
        for check in checks:  # a plain loop: cheaper than all() over a generator
            if not check(value):
                return False
        return True

    return every


def _compile_keyword(keyword: str, arg: Any, schema: dict[str, Any]) -> Check | None:
    """One keyword as a predicate; None when it asserts nothing here."""
    if keyword in _ANNOTATIONS or keyword in ("then", "else"):
        return None  # then/else are compiled with their "if"
    if keyword == "type":
        names = [arg] if isinstance(arg, str) else list(arg)
        for name in names:
            _is_json_type(None, name)  # raises on an unknown type name
        if names == ["string"]:
            return lambda value: isinstance(value, str)
        if names == ["object"]:
            return lambda value: isinstance(value, dict)
        if names == ["array"]:
            return lambda value: isinstance(value, list)
        return lambda value: any(_is_json_type(value, name) for name in names)
    if keyword in ("const", "enum"):
        options = [arg] if keyword == "const" else arg
        if not all(isinstance(option, str) for option in options):
            raise _Unsupported(f"non-string {keyword}")
        allowed = frozenset(options)
        return lambda value: isinstance(value, str) and value in allowed
    if keyword in ("anyOf", "allOf", "oneOf"):
        subs = [_compile(sub) for sub in arg]
        if keyword == "anyOf":

            def some(value: Any) -> bool:
                for sub in subs:
                    if sub(value):
                        return True
                return False

            return some
        if keyword == "allOf":
            return _all_of(subs)
        return lambda value: sum(1 for sub in subs if sub(value)) == 1
    if keyword == "not":
        sub = _compile(arg)
        return lambda value: not sub(value)
    if keyword == "if":
        condition = _compile(arg)
        then = _compile(schema.get("then", True))
        otherwise = _compile(schema.get("else", True))
        return lambda value: then(value) if condition(value) else otherwise(value)
    if keyword == "properties":
        props = {name: _compile(sub) for name, sub in arg.items()}

        def properties(value: Any) -> bool:
            if isinstance(value, dict):  # documents carry fewer keys than object.json names
                for name, item in value.items():
                    check = props.get(name)
                    if check is not None and not check(item):
                        return False
            return True

        return properties
    if keyword == "additionalProperties":
        if "patternProperties" in schema:
            raise _Unsupported("patternProperties")
        known = frozenset(schema.get("properties", {}))
        extra = _compile(arg)
        return lambda value: not isinstance(value, dict) or all(
            extra(item) for name, item in value.items() if name not in known)
    if keyword == "propertyNames":
        names_check = _compile(arg)
        return lambda value: not isinstance(value, dict) or all(map(names_check, value))
    if keyword == "required":
        needed = tuple(arg)
        return lambda value: not isinstance(value, dict) or all(n in value for n in needed)
    if keyword == "items":
        if "prefixItems" in schema:
            raise _Unsupported("prefixItems")
        item_check = _compile(arg)
        return lambda value: not isinstance(value, list) or all(map(item_check, value))
    if keyword == "contains":
        if "minContains" in schema or "maxContains" in schema:
            raise _Unsupported("minContains/maxContains")
        item_check = _compile(arg)
        return lambda value: not isinstance(value, list) or any(map(item_check, value))
    if keyword in ("minLength", "maxLength", "minItems", "maxItems", "minProperties",
                   "maxProperties"):
        kinds: dict[str, type[Any]] = {"L": str, "I": list, "P": dict}
        kind = kinds[keyword[3]]
        bound = int(arg)
        if keyword.startswith("min"):
            return lambda value: not isinstance(value, kind) or len(value) >= bound
        return lambda value: not isinstance(value, kind) or len(value) <= bound
    if keyword in ("minimum", "maximum"):
        limit = arg

        def within(value: Any) -> bool:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return True
            return bool(value >= limit if keyword == "minimum" else value <= limit)

        return within
    if keyword == "pattern":
        regex = re.compile(arg)  # jsonschema: re.search, unanchored
        return lambda value: not isinstance(value, str) or regex.search(value) is not None
    if keyword == "format":
        if arg not in _FORMATS.checkers:
            return None  # an unknown format asserts nothing (as in jsonschema)
        func, raises = _FORMATS.checkers[arg]
        if raises:
            return lambda value: _FORMATS.conforms(value, arg)
        return lambda value: bool(func(value))
    raise _Unsupported(keyword)


def _compile(schema: Any) -> Check:
    """A (bundled, $ref-free) schema as a predicate, or raise _Unsupported."""
    if schema is True:
        return lambda value: True
    if schema is False:
        return lambda value: False
    if not isinstance(schema, dict):
        raise _Unsupported("not a schema")
    checks = [c for keyword, arg in schema.items()
              if (c := _compile_keyword(keyword, arg, schema)) is not None]
    if not checks:
        return lambda value: True
    check = _all_of(checks)
    if schema.get("type") == "string" and "format" in schema:
        return _memoised_for_strings(check)
    return check


def _memoised_for_strings(check: Check) -> Check:
    """``check`` remembering its verdict on short strings: the same IRIs (an actor, its
    followers, the public collection) recur in every activity and the format check is the
    costly part. The verdict depends on the string alone."""
    memo = lru_cache(maxsize=4096)(check)

    def remembered(value: Any) -> bool:
        if type(value) is str and len(value) <= 256:
            return bool(memo(value))
        return check(value)

    return remembered


@cache
def _fast_check(name: str) -> Check | None:
    """The compiled predicate of one type's schema, or None when it cannot be compiled."""
    validator = _validator(name)
    try:
        return _compile(validator.schema)
    except _Unsupported:
        return None


def _is_valid_fast(name: str, raw: RawObject) -> bool:
    """True when the compiled schema says ``raw`` is valid (False: ask jsonschema)."""
    check = _fast_check(name)
    return check is not None and check(raw)


_WEAK: Final = frozenset({"anyOf", "oneOf"})


def _branch_rank(error: ValidationError) -> tuple[int, bool, bool, bool]:
    # Deeper first; then a branch that got past "type" (it had the right shape), then a
    # specific keyword over an "enum" or a nested anyOf/oneOf.
    keyword = error.validator
    return (len(error.absolute_path), keyword != "type", keyword not in ("enum", "const"),
            keyword not in _WEAK)


def _most_telling(errors: Iterable[ValidationError]) -> ValidationError | None:
    """The error worth reporting: the shallowest, then down anyOf/oneOf to the likely branch.

    jsonschema's `best_match` stops at "matches none of anyOf" for a `to` of 1001 IRIs;
    "more than 1000 items" is what a peer's developer needs to read.
    """
    best = max(errors, key=relevance, default=None)
    while best is not None and best.validator in _WEAK and best.context:
        candidate = max(best.context, key=_branch_rank)
        if candidate.validator == "type":  # every branch had the wrong shape: say so
            break
        best = candidate
    return best


def _describe(error: ValidationError) -> str:
    """A short account of a schema error, never quoting the (possibly huge) value."""
    keyword, expected = error.validator, error.validator_value
    if keyword == "required" and isinstance(expected, list):
        present = error.instance if isinstance(error.instance, dict) else {}
        missing = ", ".join(name for name in expected if name not in present)
        detail = f"missing {missing}"
    else:
        detail = {
            "maxLength": f"longer than {expected} characters",
            "minLength": f"shorter than {expected} characters",
            "maxItems": f"more than {expected} items",
            "minItems": f"fewer than {expected} items",
            "maxProperties": f"more than {expected} properties",
            "minimum": f"less than {expected}",
            "type": f"not of type {expected}",
            "format": f"not a valid {expected}",
            "pattern": "malformed",
            "enum": "not an allowed value",
            "const": f"not {expected}",
            "anyOf": "matches none of the allowed forms",
            "oneOf": "matches none of the allowed forms",
            "contains": "has no allowed item",
        }.get(str(keyword), f"fails {keyword}")
    path = _json_path(tuple(error.absolute_path))
    return f"{path}: {detail}"


def validate_activity(raw: RawObject) -> RawObject:
    """Check an incoming activity against its type's schema and return it unchanged, or raise.

    Dispatch on ``activity_type(raw)``, not ``raw["type"]``, which may be a list.
    """
    if not isinstance(raw, dict):
        raise InvalidActivity("not a JSON object")
    _check_tree(raw, max_depth=MAX_DEPTH, max_items=MAX_ITEMS, max_string=MAX_STRING_CHARS)
    name = activity_type(raw)
    if _is_valid_fast(name, raw):
        return raw
    error = _most_telling(_validator(name).iter_errors(raw))
    if error is not None:
        raise InvalidActivity(_clip(f"invalid {name}: {_describe(error)}"))
    return raw


def validate_note(raw: RawObject) -> RawObject:
    """Check a fetched post-like object (Note, Article, Question…) against the note schema."""
    if not isinstance(raw, dict):
        raise InvalidActivity("not a JSON object")
    _check_tree(raw, max_depth=MAX_DEPTH, max_items=MAX_ITEMS, max_string=MAX_STRING_CHARS)
    error = _most_telling(_validator("note").iter_errors(raw))
    if error is not None:
        raise InvalidActivity(_clip(f"invalid object: {_describe(error)}"))
    return raw
