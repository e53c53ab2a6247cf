"""The faces of listening groups: the moderators collection of a group actor (AS2), the
group's public page (charter, members count, recent posts unless the group is members-only
and the visitor is not a member), the page where a resident creates a group, and the
moderators' page (settings, avatar and header, join requests, members, bans, removal of
posts, the log). Forms are POSTs with the session's CSRF token (``web.session``)."""

from __future__ import annotations

from aiohttp import web

from fediverse_mu.activitypub.groups import render_moderators
from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Account, DomainError, Invalid, NotFound
from fediverse_mu.domain.groups import Group
from fediverse_mu.domain.pagination import Page
from fediverse_mu.services import directory, groups, profile_images
from fediverse_mu.web.activitypub import as2_response
from fediverse_mu.web.pages import page
from fediverse_mu.web.session import csrf_token, current_login, read_form, require_login

_NOT_MODERATOR = "Only the group's moderators can see this page."


async def moderators_get(request: web.Request) -> web.Response:
    """``/users/{username}/moderators``: a group's moderators (its ``attributedTo``)."""
    svc = request.app[services_key]
    group = await groups.get_group(svc, request.match_info["username"])
    return as2_response(render_moderators(group.account.actor_uri,
                                          await groups.moderator_uris(svc, group)))


async def _viewer(request: web.Request) -> Account | None:
    login = await current_login(request)
    return None if login is None else login.account


async def group_get(request: web.Request) -> web.Response:
    """A group's public page."""
    svc = request.app[services_key]
    group = await groups.get_group(svc, request.match_info["name"])
    viewer = await _viewer(request)
    posts = await groups.recent_posts(svc, group, viewer, Page(limit=20))
    return page(request, "group.html", {
        "config": svc.config, "group": group, "posts": posts,
        "members_count": await groups.count_members(svc, group),
        "hidden": not await groups.may_read(svc, group, viewer),
        "is_moderator": group.is_moderator(viewer),
        "is_member": await groups.is_member(svc, group.account, viewer),
        "charter": groups.summary_of(group.charter)})


def _checked(form: dict[str, str], name: str) -> bool:
    return form.get(name) in ("on", "1", "true")


async def group_new_get(request: web.Request) -> web.Response:
    """The form to create a group (residents)."""
    await require_login(request)
    svc = request.app[services_key]
    return page(request, "group_new.html", {"config": svc.config, "error": None, "form": {},
                                            "csrf_token": csrf_token(request)})


async def group_new_post(request: web.Request) -> web.Response:
    """Create a group; its creator becomes its first moderator."""
    login = await require_login(request)
    svc = request.app[services_key]
    form = await read_form(request)
    try:
        group = await groups.create_group(
            svc, form.get("name", "").strip(), title=form.get("title", ""),
            charter=form.get("charter", ""), approval=_checked(form, "approval"),
            members_only=_checked(form, "members_only"), creator=login.account)
    except DomainError as exc:
        return page(request, "group_new.html", {"config": svc.config, "error": str(exc),
                                                "form": form, "csrf_token": csrf_token(request)},
                    status=exc.status)
    raise web.HTTPSeeOther(f"/groups/{group.account.username}/settings")


async def _moderated(request: web.Request) -> tuple[Group, Account]:
    login = await require_login(request)
    svc = request.app[services_key]
    group = await groups.get_group(svc, request.match_info["name"])
    if not group.is_moderator(login.account):
        raise web.HTTPForbidden(text=_NOT_MODERATOR)
    return group, login.account


async def _settings_page(request: web.Request, group: Group, moderator: Account,
                         error: str | None = None, status: int = 200) -> web.Response:
    svc = request.app[services_key]
    return page(request, "group_settings.html", {
        "config": svc.config, "group": group, "error": error,
        "csrf_token": csrf_token(request),
        "requests": await groups.pending(svc, moderator, group),
        "members": await groups.members(svc, moderator, group),
        "bans": await groups.bans(svc, moderator, group),
        "posts": await groups.recent_posts(svc, group, moderator, Page(limit=20)),
        "log": await groups.moderation_log(svc, moderator, group)}, status=status)


async def group_settings_get(request: web.Request) -> web.Response:
    """The moderators' page of a group."""
    group, moderator = await _moderated(request)
    return await _settings_page(request, group, moderator)


async def group_settings_post(request: web.Request) -> web.Response:
    """Save the settings (title, charter, join policy, members-only, closed)."""
    group, moderator = await _moderated(request)
    svc = request.app[services_key]
    form = await read_form(request)
    try:
        await groups.update_settings(
            svc, moderator, group, title=form.get("title", ""), charter=form.get("charter", ""),
            join_policy="approval" if _checked(form, "approval") else "open",
            members_only=_checked(form, "members_only"), closed=_checked(form, "closed"))
    except DomainError as exc:
        return await _settings_page(request, group, moderator, str(exc), exc.status)
    raise web.HTTPSeeOther(f"/groups/{group.account.username}/settings")


async def _image_files(request: web.Request) -> dict[str, bytes]:
    """The non-empty ``avatar``/``header`` files of the (CSRF-checked) multipart form; what
    they really are is checked by the profile image pipeline."""
    found: dict[str, bytes] = {}
    for name, item in (await request.post()).items():  # parsed once, by read_form
        if name in ("avatar", "header") and isinstance(item, web.FileField):
            data = item.file.read(profile_images.SIZE_LIMIT + 1)
            if len(data) > profile_images.SIZE_LIMIT:
                raise Invalid(f"{name}: file size must be at most "
                              f"{profile_images.SIZE_LIMIT // (1024 * 1024)} MB")
            if data:
                found[name] = data
    return found


async def group_images_post(request: web.Request) -> web.Response:
    """A new avatar and/or header for the group (multipart form of the moderators' page)."""
    group, moderator = await _moderated(request)
    svc = request.app[services_key]
    await read_form(request)
    try:
        await groups.update_images(svc, moderator, group, await _image_files(request))
    except DomainError as exc:
        return await _settings_page(request, group, moderator, str(exc), exc.status)
    raise web.HTTPSeeOther(f"/groups/{group.account.username}/settings")


async def _account_from(request: web.Request, form: dict[str, str]) -> Account:
    value = form.get("account_id", "")
    if not value.isdigit():
        raise Invalid("account_id is missing")
    return await directory.get_account(request.app[services_key], value)


async def group_action_post(request: web.Request) -> web.Response:
    """One moderation action from the moderators' page: accept or reject a request, remove
    or ban a member, lift a ban, remove a post."""
    group, moderator = await _moderated(request)
    svc = request.app[services_key]
    form = await read_form(request)
    action = request.match_info["action"]
    try:
        if action == "remove_post":
            value = form.get("status_id", "")
            if not value.isdigit():
                raise Invalid("status_id is missing")
            await groups.remove_post(svc, moderator, group, int(value), form.get("reason", ""))
        elif action in ("accept", "reject"):
            await groups.answer_request(svc, moderator, group,
                                        await _account_from(request, form), action == "accept")
        elif action in ("remove_member", "ban"):
            await groups.remove_member(svc, moderator, group, await _account_from(request, form),
                                       ban=action == "ban", reason=form.get("reason", ""))
        elif action == "unban":
            await groups.unban(svc, moderator, group, await _account_from(request, form))
        else:
            raise NotFound("no such action")
    except DomainError as exc:
        return await _settings_page(request, group, moderator, str(exc), exc.status)
    raise web.HTTPSeeOther(f"/groups/{group.account.username}/settings")


def setup_routes(router: web.UrlDispatcher) -> None:
    """Register the group routes (fixed paths before ``{name}``)."""
    router.add_get("/users/{username}/moderators", moderators_get)
    router.add_get("/groups/new", group_new_get)
    router.add_post("/groups/new", group_new_post)
    router.add_get("/groups/{name}", group_get)
    router.add_get("/groups/{name}/settings", group_settings_get)
    router.add_post("/groups/{name}/settings", group_settings_post)
    router.add_post("/groups/{name}/images", group_images_post)
    router.add_post("/groups/{name}/actions/{action}", group_action_post)
