"""Reading Mastodon's structured parameters the same way from forms and from JSON: nested
keys in bracket notation (``source[privacy]``, ``fields_attributes[0][name]``,
``home[last_read_id]``), whether a client sent them as form fields or as nested JSON objects,
and Rails-style booleans (``true``/``1``/``on``…)."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web
from multidict import MultiDict

from fediverse_mu.domain import Invalid
from fediverse_mu.web.params import read_params

_TRUE = frozenset({"1", "true", "t", "on", "yes"})
_FALSE = frozenset({"0", "false", "f", "off", "no"})
_INDEXED = re.compile(r"^(?P<name>[a-z_]+)\[(?P<index>\d*)\]\[(?P<key>[a-z_]+)\]$")


def _flatten(prefix: str, value: Any, out: MultiDict[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]" if prefix else str(key), item, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                _flatten(f"{prefix}[{index}]", item, out)
            else:
                _flatten(prefix, item, out)
    elif isinstance(value, bool):
        out.add(prefix, "true" if value else "false")
    elif isinstance(value, str | int | float):
        out.add(prefix.removesuffix("[]"), str(value))


async def read_nested(request: web.Request) -> MultiDict[str]:
    """The body's parameters (and the query's), nested JSON objects flattened to bracket
    keys as a form would send them; ``[]`` suffixes of list keys are dropped."""
    if request.content_type != "application/json":
        return await read_params(request, with_query=True)
    try:
        body = json.loads(await request.read() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text="The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="The request body must be a JSON object")
    out: MultiDict[str] = MultiDict()
    _flatten("", body, out)
    for key, value in request.query.items():
        out.add(key.removesuffix("[]"), value)
    return out


def parse_bool(value: str | None, name: str) -> bool | None:
    """A boolean parameter (None when absent); Invalid when it is not one."""
    if value is None:
        return None
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid(f"{name} must be true or false")


def parse_int(value: str | None, name: str, *, default: int) -> int:
    """A non-negative integer parameter; Invalid when it is not one."""
    if value is None or not value.strip():
        return default
    text = value.strip()
    if not text.isdigit() or len(text) > 12:
        raise Invalid(f"{name} must be a non-negative integer")
    return int(text)


def indexed(params: MultiDict[str], name: str) -> list[dict[str, str]] | None:
    """Rows sent as ``name[0][key]=…`` (or ``name[][key]=…``), in index order; None when the
    parameter is absent altogether."""
    rows: dict[int, dict[str, str]] = {}
    unindexed: dict[str, list[str]] = {}
    seen = False
    for key, value in params.items():
        match = _INDEXED.match(key)
        if match is None or match["name"] != name:
            continue
        seen = True
        if match["index"]:
            rows.setdefault(int(match["index"]), {})[match["key"]] = value
        else:
            unindexed.setdefault(match["key"], []).append(value)
    if not seen:
        return None
    found = [rows[i] for i in sorted(rows)]
    width = max((len(v) for v in unindexed.values()), default=0)
    found += [{k: v[i] for k, v in unindexed.items() if i < len(v)} for i in range(width)]
    return found
