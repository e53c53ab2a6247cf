"""Cross-cutting HTTP behaviour: domain errors mapped to statuses in one place (JSON
``{"error": …}`` for API paths, a page for browsers), CORS for web clients, security headers,
and an access log that never writes query strings (they can carry tokens)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from fediverse_mu.domain import DomainError
from fediverse_mu.web import i18n

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_JSON_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/", "/nodeinfo/",
                  "/healthz")
_CORS_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/", "/nodeinfo/")
_REASONS = {404: "Record not found", 405: "Method not allowed", 413: "Payload too large"}


def wants_json(request: web.Request) -> bool:
    """True for paths whose errors are JSON (APIs, discovery, inboxes)."""
    return request.path.startswith(_JSON_PREFIXES) or request.path.endswith("/inbox") or \
        request.path == "/inbox"


def _error(request: web.Request, status: int, message: str,
           headers: dict[str, str] | None = None) -> web.StreamResponse:
    if wants_json(request):
        return web.json_response({"error": message}, status=status, headers=headers)
    lang = i18n.negotiate(request)
    response = aiohttp_jinja2.render_template(
        "error.html", request,
        {"status": status, "message": i18n.translator(lang)(message), "lang": lang,
         "_": i18n.translator(lang)},
        status=status)
    if headers:
        response.headers.update(headers)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map domain errors and HTTP errors to one error format per face."""
    try:
        return await handler(request)
    except DomainError as exc:
        return _error(request, exc.status, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        text = _REASONS.get(exc.status) or exc.reason
        if exc.text and exc.content_type == "text/plain" and exc.status not in _REASONS:
            text = exc.text.removeprefix(f"{exc.status}: ")
        headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        return _error(request, exc.status, text, headers)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(request, 500, "Internal server error")


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """CORS for the API and discovery endpoints, so browser-based clients work."""
    if not request.path.startswith(_CORS_PREFIXES):
        return await handler(request)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response: web.StreamResponse = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = (
            "GET, POST, PUT, PATCH, DELETE, OPTIONS")
        response.headers["Access-Control-Allow-Headers"] = request.headers.get(
            "Access-Control-Request-Headers", "Authorization, Content-Type")
        response.headers["Access-Control-Max-Age"] = "86400"
    else:
        response = await handler(request)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "Link, X-RateLimit-Reset, Idempotency-Key"
    return response


@web.middleware
async def security_headers_middleware(request: web.Request,
                                      handler: Handler) -> web.StreamResponse:
    """Safe defaults on every response: no sniffing, no framing, no referrer leaks."""
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.content_type == "text/html":
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'none'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
    return response


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, path without the query string, status, time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Write the access log line."""
        self.logger.info("%s %s %s %.1fms", request.method, request.path, response.status,
                         time * 1000)
