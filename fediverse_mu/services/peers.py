"""Remote hosts as delivery peers: reading and recording their state (the signature scheme
they accept, their circuit breaker). When a failing or unavailable host answers again, or
writes to us, its postponed deliveries become due at once and the worker is woken."""

from __future__ import annotations

from fediverse_mu.domain.peers import Peer, SignatureScheme
from fediverse_mu.services.context import Services
from fediverse_mu.services.delivery import DELIVER_JOB
from fediverse_mu.services.jobs import announce_jobs
from fediverse_mu.storage import peers as store


async def get_peer(svc: Services, host: str) -> Peer:
    """What we know about ``host`` (a blank, healthy state for a host never recorded)."""
    return await svc.storage.read(store.get_peer, host) or Peer(host=host)


async def record_failure(svc: Services, host: str) -> Peer:
    """A request to ``host`` failed (network error, timeout, 5xx)."""
    return await svc.storage.write(store.record_peer_failure, host, now=svc.clock())


async def record_success(svc: Services, host: str) -> Peer:
    """``host`` answered us or wrote to us: reset its breaker, release its postponed jobs."""
    peer, released = await svc.storage.write(store.record_peer_success, host,
                                             now=svc.clock(), release_kind=DELIVER_JOB)
    if released:
        announce_jobs(svc)
    return peer


async def remember_signature_scheme(svc: Services, host: str,
                                    scheme: SignatureScheme) -> Peer:
    """Remember that ``host`` accepts ``scheme`` signatures (survives restarts)."""
    return await svc.storage.write(store.set_peer_signature_scheme, host, scheme,
                                   now=svc.clock())
