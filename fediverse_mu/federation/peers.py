"""The in-process side of per-host delivery state: a cache of the ``peers`` rows (so the
common, healthy case costs no database access), one semaphore per host bounding our in-flight
requests to it, and the half-open circuit breaker's single probe (when a host's cool-down is
over, one delivery tests it while the others for that host wait for its outcome)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from fediverse_mu.domain import GiveUp
from fediverse_mu.domain.jobs import Postpone
from fediverse_mu.domain.peers import BREAKER_THRESHOLD, Admission, Peer, SignatureScheme
from fediverse_mu.services import peers as peer_service
from fediverse_mu.services.context import Services

log = logging.getLogger(__name__)

MAX_IN_FLIGHT_PER_HOST = 4
SUCCESS_WRITE_INTERVAL = 3600.0  # a healthy host's last_success_at is refreshed this often


class PeerTracker:
    """Per-host state for outgoing requests: cached breaker and scheme, slots, probes."""

    def __init__(self, svc: Services, *, max_in_flight: int = MAX_IN_FLIGHT_PER_HOST) -> None:
        self.svc = svc
        self.max_in_flight = max_in_flight
        self._peers: dict[str, Peer] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._probes: dict[str, asyncio.Event] = {}

    async def peer(self, host: str) -> Peer:
        """The host's state (read once from the database, then kept up to date here)."""
        cached = self._peers.get(host)
        if cached is None:
            loaded = await peer_service.get_peer(self.svc, host)
            cached = self._peers.setdefault(host, loaded)  # a concurrent update wins
        return cached

    def slot(self, host: str) -> asyncio.Semaphore:
        """The semaphore bounding concurrent requests to ``host``."""
        slot = self._slots.get(host)
        if slot is None:
            slot = self._slots[host] = asyncio.Semaphore(self.max_in_flight)
        return slot

    async def admit(self, host: str) -> bool:
        """Let a delivery to ``host`` through the breaker; True when it is the probe (the caller
        must then call :meth:`probe_done`). Raises Postpone (circuit open) or GiveUp."""
        while True:
            peer = await self.peer(host)
            now = self.svc.clock()
            decision, until = peer.admission(now)
            match decision:
                case Admission.GO:
                    return False
                case Admission.DROP:
                    since = datetime.fromtimestamp(peer.unavailable_since or now, UTC)
                    raise GiveUp(f"{host} has been unavailable since {since:%Y-%m-%d};"
                                 " delivery given up")
                case Admission.WAIT:
                    raise Postpone(f"{host} is failing ({peer.consecutive_failures} in a row);"
                                   " circuit open", delay=until - now)
                case Admission.PROBE:
                    probe = self._probes.get(host)
                    if probe is None:
                        self._probes[host] = asyncio.Event()
                        return True
                    await probe.wait()  # then decide again on the probe's outcome

    def probe_done(self, host: str) -> None:
        """The probe's request finished (its outcome is already recorded): wake the others."""
        probe = self._probes.pop(host, None)
        if probe is not None:
            probe.set()

    async def failed(self, host: str) -> Peer:
        """Record a failed request to ``host``."""
        peer = await peer_service.record_failure(self.svc, host)
        self._peers[host] = peer
        if peer.consecutive_failures == BREAKER_THRESHOLD:
            log.warning("%s failed %d times in a row: circuit open", host, BREAKER_THRESHOLD)
        if peer.unavailable_since is not None and peer.unavailable_since == peer.last_failure_at:
            log.warning("%s has been failing for a week: marked unavailable", host)
        return peer

    async def answered(self, host: str) -> Peer:
        """Record that ``host`` answered us or wrote to us: a failing or unavailable host is
        available again and its postponed deliveries are due now. Cheap when healthy."""
        peer = await self.peer(host)
        now = self.svc.clock()
        if peer.is_healthy and peer.last_success_at is not None and \
                now - peer.last_success_at < SUCCESS_WRITE_INTERVAL:
            return peer
        if not peer.is_healthy:
            log.info("%s is reachable again after %d failures", host, peer.consecutive_failures)
        peer = self._peers[host] = await peer_service.record_success(self.svc, host)
        return peer

    async def signature_scheme(self, host: str) -> SignatureScheme | None:
        """The scheme ``host`` is known to accept, None when not learnt yet."""
        return (await self.peer(host)).signature_scheme

    async def remember_scheme(self, host: str, scheme: SignatureScheme) -> None:
        """Remember (in memory and in the database) that ``host`` accepts ``scheme``."""
        if (await self.peer(host)).signature_scheme != scheme:
            self._peers[host] = await peer_service.remember_signature_scheme(
                self.svc, host, scheme)
