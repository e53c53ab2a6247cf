"""The typed keys under which the composition root stores shared objects in the aiohttp app."""

from __future__ import annotations

from aiohttp import web

from fediverse_mu.config import Config
from fediverse_mu.federation.client import Federation
from fediverse_mu.services.context import Services
from fediverse_mu.worker import Worker

config_key = web.AppKey("config", Config)
services_key = web.AppKey("services", Services)
worker_key = web.AppKey("worker", Worker)

federation_key = web.AppKey("federation", Federation)
