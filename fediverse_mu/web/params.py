"""Reading requests the way Mastodon does: parameters from a form (urlencoded or multipart) or
a JSON object, optionally completed by the query string, flattened to one multi-valued mapping
of strings (``name[]`` keys count as ``name``, JSON arrays as repeated values); and the
client's IP address, behind the instance's own reverse proxy too."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from aiohttp import web
from multidict import MultiDict


def _add(out: MultiDict[str], key: str, value: Any) -> None:
    key = key.removesuffix("[]")
    if isinstance(value, str):
        out.add(key, value)
    elif isinstance(value, bool):
        out.add(key, "true" if value else "false")
    elif isinstance(value, int | float):
        out.add(key, str(value))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str | int | float) and not isinstance(item, bool):
                out.add(key, str(item))


async def read_params(request: web.Request, *, with_query: bool = False) -> MultiDict[str]:
    """The body's parameters, then (when ``with_query``) the query string's, so ``get()``
    prefers the body; 400 on a JSON body that is not an object. Uploaded files are left out."""
    out: MultiDict[str] = MultiDict()
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.read() or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise web.HTTPBadRequest(text="The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="The request body must be a JSON object")
        for key, value in body.items():
            _add(out, key, value)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in (await request.post()).items():
            if isinstance(value, str):
                _add(out, key, value)
    if with_query:
        for key, value in request.query.items():
            _add(out, key, value)
    return out


def _is_local_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private


def client_ip(request: web.Request) -> str:
    """The client's IP address. Behind the reverse proxy of deploy/ (a loopback or private
    peer), the last ``X-Forwarded-For`` entry, which that proxy sets; anyone else's header is
    ignored, so a client cannot choose its address."""
    peer = request.remote or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded and _is_local_proxy(peer):
        candidate = forwarded.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
    return peer
