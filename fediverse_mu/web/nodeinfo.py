"""NodeInfo discovery (``/.well-known/nodeinfo``) and documents 2.0 and 2.1, with the place's
metadata so that directories and other places can see what kind of tiers-lieu this is.
Schemas: https://github.com/jhass/nodeinfo/tree/main/schemas"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from fediverse_mu import SOFTWARE_NAME, __version__
from fediverse_mu.appkeys import services_key
from fediverse_mu.services import instance, registration

_VERSIONS = ("2.0", "2.1")


async def well_known_nodeinfo_get(request: web.Request) -> web.Response:
    """Links to the NodeInfo documents."""
    base = request.app[services_key].config.base_url
    return web.json_response({"links": [
        {"rel": f"http://nodeinfo.diaspora.software/ns/schema/{v}", "href": f"{base}/nodeinfo/{v}"}
        for v in _VERSIONS
    ]})


async def nodeinfo_get(request: web.Request) -> web.Response:
    """A NodeInfo document (2.0 or 2.1)."""
    version = request.match_info["version"]
    if version not in _VERSIONS:
        raise web.HTTPNotFound()
    svc = request.app[services_key]
    config = await registration.config_in_force(svc)  # the admin's registration mode
    stats = await instance.instance_stats(svc)
    software: dict[str, Any] = {"name": SOFTWARE_NAME, "version": __version__}
    if version == "2.1":
        software["repository"] = "https://example.invalid/fediverse-mu"
        software["homepage"] = config.base_url
    document = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0"]},
        "openRegistrations": config.registration_mode == "open",
        "usage": {
            "users": {"total": stats.users, "activeMonth": stats.active_month,
                      "activeHalfyear": stats.active_halfyear},
            "localPosts": stats.local_posts,
        },
        "metadata": {
            "nodeName": config.place_name,
            "nodeDescription": config.place_description,
            "place": {"name": config.place_name, "kind": config.place_kind,
                      "territory": config.place_territory},
            "languages": list(config.languages),
            "registrationMode": config.registration_mode,
        },
    }
    profile = f"http://nodeinfo.diaspora.software/ns/schema/{version}#"
    return web.Response(text=json.dumps(document),
                        headers={"Content-Type": f'application/json; profile="{profile}"'})
