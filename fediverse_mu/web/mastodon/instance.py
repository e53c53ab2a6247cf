"""Mastodon instance endpoints: ``/api/v1/instance`` and ``/api/v2/instance``."""

from __future__ import annotations

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.services import instance, registration, rules
from fediverse_mu.web.mastodon import entities


async def instance_v1_get(request: web.Request) -> web.Response:
    """The v1 instance entity."""
    svc = request.app[services_key]
    return web.json_response(entities.instance_v1(
        await registration.config_in_force(svc), await instance.instance_stats(svc),
        rules=await rules.list_rules(svc)))


async def instance_v2_get(request: web.Request) -> web.Response:
    """The v2 instance entity."""
    svc = request.app[services_key]
    return web.json_response(entities.instance_v2(
        await registration.config_in_force(svc), await instance.instance_stats(svc),
        rules=await rules.list_rules(svc)))
