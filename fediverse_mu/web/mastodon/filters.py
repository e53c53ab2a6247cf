"""Mastodon filter endpoints (https://docs.joinmastodon.org/methods/filters/): filters v2
with their keywords and statuses, and the v1 compatibility endpoints (one keyword per v1
filter). Thin handlers: every rule lives in ``services.filters``."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aiohttp import web
from multidict import MultiDict

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Account, Invalid, NotFound
from fediverse_mu.services import filters
from fediverse_mu.services.context import Services
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.accounts import signed_in
from fediverse_mu.web.mastodon.forms import indexed, parse_bool, read_nested

_SECONDS = re.compile(r"\d{1,12}(?:\.\d+)?")


async def _reading(request: web.Request) -> tuple[Services, Account]:
    """The services and the signed-in resident, reading their filters (``read:filters``)."""
    _, account = await signed_in(request, "read:filters")
    return request.app[services_key], account


async def _changing(request: web.Request) -> tuple[Services, Account]:
    """The services and the signed-in resident, changing their filters (``write:filters``)."""
    _, account = await signed_in(request, "write:filters")
    return request.app[services_key], account


def _id(request: web.Request, name: str = "id") -> int:
    value = request.match_info[name]
    if not value.isdigit() or len(value) > 18:
        raise NotFound("Record not found")
    return int(value)


def _expires_in(params: MultiDict[str]) -> int | filters.Keep | None:
    """Absent: unchanged (KEEP); empty or null: never expires; else whole seconds."""
    if "expires_in" not in params:
        return filters.KEEP
    value = params["expires_in"].strip()
    if value in ("", "null"):
        return None
    if not _SECONDS.fullmatch(value):
        raise Invalid("Validation failed: expires_in must be a positive number of seconds")
    return int(float(value))


def _new_expires_in(params: MultiDict[str]) -> int | None:
    """``expires_in`` of a new filter: absent, it never expires."""
    found = _expires_in(params)
    return None if isinstance(found, filters.Keep) else found


def _flag(params: Mapping[str, str], name: str) -> bool | None:
    """A boolean parameter (None: absent); Invalid when it is not one."""
    return parse_bool(params.get(name), name)


def _keyword_changes(params: MultiDict[str]) -> list[filters.KeywordChange]:
    rows = indexed(params, "keywords_attributes") or []
    changes = []
    for row in rows:
        raw_id = (row.get("id") or "").strip()
        if raw_id and (not raw_id.isdigit() or len(raw_id) > 18):
            raise NotFound("Record not found")
        changes.append(filters.KeywordChange(
            id=int(raw_id) if raw_id else None, keyword=row.get("keyword"),
            whole_word=_flag(row, "whole_word"),
            destroy=_flag(row, "_destroy") or False))
    return changes


def _context(params: MultiDict[str]) -> list[str] | None:
    if "context" not in params:
        return None
    return [v.strip() for v in params.getall("context") if v.strip()]


# -- filters v2 --------------------------------------------------------------------------------


async def filters_v2_get(request: web.Request) -> web.Response:
    """``GET /api/v2/filters``."""
    svc, account = await _reading(request)
    found = await filters.list_filters(svc, account)
    return web.json_response([entities.filter_entity(f) for f in found])


async def filters_v2_create(request: web.Request) -> web.Response:
    """``POST /api/v2/filters`` (``title``, ``context[]``, ``filter_action``, ``expires_in``,
    ``keywords_attributes[][keyword|whole_word]``)."""
    svc, account = await _changing(request)
    params = await read_nested(request)
    created = await filters.create_filter(
        svc, account, title=params.get("title", ""), context=_context(params) or [],
        action=params.get("filter_action") or None,
        expires_in=_new_expires_in(params), keywords=_keyword_changes(params))
    return web.json_response(entities.filter_entity(created))


async def filter_v2_get(request: web.Request) -> web.Response:
    """``GET /api/v2/filters/:id``."""
    svc, account = await _reading(request)
    found = await filters.get_filter(svc, account, _id(request))
    return web.json_response(entities.filter_entity(found))


async def filter_v2_update(request: web.Request) -> web.Response:
    """``PUT /api/v2/filters/:id`` (what is sent changes; ``keywords_attributes`` rows with an
    ``id`` change or, with ``_destroy``, remove that keyword)."""
    svc, account = await _changing(request)
    filter_id = _id(request)
    params = await read_nested(request)
    updated = await filters.update_filter(
        svc, account, filter_id, title=params.get("title"), context=_context(params),
        action=params.get("filter_action") or None, expires_in=_expires_in(params),
        keywords=_keyword_changes(params))
    return web.json_response(entities.filter_entity(updated))


async def filter_v2_delete(request: web.Request) -> web.Response:
    """``DELETE /api/v2/filters/:id``."""
    svc, account = await _changing(request)
    await filters.delete_filter(svc, account, _id(request))
    return web.json_response({})


# -- keywords ----------------------------------------------------------------------------------


async def filter_keywords_get(request: web.Request) -> web.Response:
    """``GET /api/v2/filters/:filter_id/keywords``."""
    svc, account = await _reading(request)
    found = await filters.keywords_of(svc, account, _id(request, "filter_id"))
    return web.json_response([entities.filter_keyword(k) for k in found])


async def filter_keywords_create(request: web.Request) -> web.Response:
    """``POST /api/v2/filters/:filter_id/keywords`` (``keyword``, ``whole_word``)."""
    svc, account = await _changing(request)
    filter_id = _id(request, "filter_id")
    params = await read_nested(request)
    added = await filters.add_keyword(svc, account, filter_id, params.get("keyword", ""),
                                      _flag(params, "whole_word") or False)
    return web.json_response(entities.filter_keyword(added))


async def filter_keyword_get(request: web.Request) -> web.Response:
    """``GET /api/v2/filters/keywords/:id``."""
    svc, account = await _reading(request)
    found = await filters.get_keyword(svc, account, _id(request))
    return web.json_response(entities.filter_keyword(found))


async def filter_keyword_update(request: web.Request) -> web.Response:
    """``PUT /api/v2/filters/keywords/:id``."""
    svc, account = await _changing(request)
    keyword_id = _id(request)
    params = await read_nested(request)
    updated = await filters.update_keyword(svc, account, keyword_id,
                                           keyword=params.get("keyword"),
                                           whole_word=_flag(params, "whole_word"))
    return web.json_response(entities.filter_keyword(updated))


async def filter_keyword_delete(request: web.Request) -> web.Response:
    """``DELETE /api/v2/filters/keywords/:id``."""
    svc, account = await _changing(request)
    await filters.delete_keyword(svc, account, _id(request))
    return web.json_response({})


# -- statuses ----------------------------------------------------------------------------------


async def filter_statuses_get(request: web.Request) -> web.Response:
    """``GET /api/v2/filters/:filter_id/statuses``."""
    svc, account = await _reading(request)
    found = await filters.statuses_of(svc, account, _id(request, "filter_id"))
    return web.json_response([entities.filter_status(s) for s in found])


async def filter_statuses_create(request: web.Request) -> web.Response:
    """``POST /api/v2/filters/:filter_id/statuses`` (``status_id``)."""
    svc, account = await _changing(request)
    filter_id = _id(request, "filter_id")
    params = await read_nested(request)
    value = params.get("status_id", "").strip()
    if not value.isdigit() or len(value) > 20:
        raise Invalid("Validation failed: Status must exist")
    added = await filters.add_status(svc, account, filter_id, int(value))
    return web.json_response(entities.filter_status(added))


async def filter_status_get(request: web.Request) -> web.Response:
    """``GET /api/v2/filters/statuses/:id``."""
    svc, account = await _reading(request)
    found = await filters.get_filter_status(svc, account, _id(request))
    return web.json_response(entities.filter_status(found))


async def filter_status_delete(request: web.Request) -> web.Response:
    """``DELETE /api/v2/filters/statuses/:id``."""
    svc, account = await _changing(request)
    await filters.delete_filter_status(svc, account, _id(request))
    return web.json_response({})


# -- filters v1: one keyword each --------------------------------------------------------------


async def filters_v1_get(request: web.Request) -> web.Response:
    """``GET /api/v1/filters``: every keyword as a v1 filter."""
    svc, account = await _reading(request)
    found = await filters.v1_filters(svc, account)
    return web.json_response([entities.v1_filter(f, k) for f, k in found])


async def filters_v1_create(request: web.Request) -> web.Response:
    """``POST /api/v1/filters`` (``phrase``, ``context[]``, ``irreversible``, ``whole_word``,
    ``expires_in``)."""
    svc, account = await _changing(request)
    params = await read_nested(request)
    created = await filters.v1_create(
        svc, account, phrase=params.get("phrase", ""), context=_context(params) or [],
        irreversible=_flag(params, "irreversible") or False,
        whole_word=_flag(params, "whole_word") or False,
        expires_in=_new_expires_in(params))
    return web.json_response(entities.v1_filter(*created))


async def filter_v1_get(request: web.Request) -> web.Response:
    """``GET /api/v1/filters/:id``."""
    svc, account = await _reading(request)
    return web.json_response(entities.v1_filter(*await filters.v1_filter(svc, account,
                                                                         _id(request))))


async def filter_v1_update(request: web.Request) -> web.Response:
    """``PUT /api/v1/filters/:id``."""
    svc, account = await _changing(request)
    keyword_id = _id(request)
    params = await read_nested(request)
    updated = await filters.v1_update(
        svc, account, keyword_id, phrase=params.get("phrase"), context=_context(params),
        irreversible=_flag(params, "irreversible"), whole_word=_flag(params, "whole_word"),
        expires_in=_expires_in(params))
    return web.json_response(entities.v1_filter(*updated))


async def filter_v1_delete(request: web.Request) -> web.Response:
    """``DELETE /api/v1/filters/:id``."""
    svc, account = await _changing(request)
    await filters.v1_delete(svc, account, _id(request))
    return web.json_response({})
