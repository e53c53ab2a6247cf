"""Listening-group benchmark (part of ``make bench``): measured and printed, never asserted.

A local group with 2,000 remote members on 200 instances (10 per instance, one shared inbox
each) re-announces a member's post: a resident member posts mentioning the group through
``services.posting.create_status``; the status, the group's boost and its ``Announce``
delivery jobs (one per shared inbox) are written in one transaction. Timed until the real
``Worker`` + ``Federation.deliver`` have delivered every Announce over TLS to one local
receiver process (the one of ``bench/federation.py``: trustme CA, a resolver sending every
host to it, production transport rules except loopback) and recorded them. The receiver
counts the signed POSTs: the figure to check is one per shared inbox.

Run alone with ``python bench/groups.py [MEMBERS INSTANCES]``; ``bench/run.py`` calls
:func:`run_all`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import federation  # bench/federation.py, beside this script

from fediverse_mu.app import create_app
from fediverse_mu.appkeys import federation_key, services_key, worker_key
from fediverse_mu.config import Config
from fediverse_mu.domain import FollowState
from fediverse_mu.services import accounts, groups, posting
from fediverse_mu.services.context import Services
from fediverse_mu.storage import follows as follow_store

MEMBERS = 2000
INSTANCES = 200


@dataclass
class GroupRun:
    """One announced post: wall time from the post to the last delivery recorded as done."""

    label: str
    queue_seconds: float
    seconds: float
    cpu: float
    deliveries: int


@dataclass
class GroupResult:
    """Figures of the group benchmark."""

    members: int
    instances: int
    runs: list[GroupRun]
    received: int


async def _bench(config: Config, receiver_port: int, ca_pem: bytes, members: int,
                 instances: int) -> GroupResult:
    app = create_app(config, start_worker=False)
    runner = web.AppRunner(app)
    await runner.setup()
    fed = app[federation_key]
    fed.transport = transport = federation.fanout_transport(receiver_port, ca_pem)
    await transport.start()
    try:
        svc: Services = app[services_key]
        worker = app[worker_key]
        anna = (await accounts.create_user(svc, "anna", "anna@bench.test",
                                           password="correct horse battery")).account
        group = await groups.create_group(svc, "ecoute", title="Écoute", creator=anna)
        pem = federation.public_pem(federation.new_key())
        remotes = [federation.remote_actor(
            federation.actor_uri(i, instances, "https", "fan.test"), pem)
            for i in range(members)]
        await svc.storage.write(federation.seed_followers, group.account, remotes,
                                datetime.now(UTC))
        await svc.storage.write(follow_store.put_follow, follower_id=anna.id,
                                followee_id=group.account.id, state=FollowState.ACCEPTED,
                                uri=f"{anna.actor_uri}#follows/g", now=datetime.now(UTC))
        timer = federation.DeliveryTimer(svc, worker)
        worker.start()
        await asyncio.sleep(0.05)

        async def post(number: int, label: str) -> GroupRun:
            async def send() -> None:
                draft = await posting.prepare(svc, anna,
                                              text=f"@ecoute Je vous écoute ({number})")
                await posting.create_status(svc, anna, draft)

            queued, total, cpu, count = await timer.measure(send)
            return GroupRun(label, queued, total, cpu, count)

        cold = await post(1, "first announce after start")
        await transport.close()
        await transport.start()
        steady = await post(2, "later announce, new TLS connections")
        received = await federation.received_posts(svc, worker, transport)
    finally:
        await transport.close()
        await runner.cleanup()
    return GroupResult(members, instances, [cold, steady], received)


def bench_group(tmp: Path, members: int = MEMBERS, instances: int = INSTANCES) -> GroupResult:
    """The group benchmark (see the module docstring)."""
    config = federation.init_instance(tmp / "groups")
    return federation.with_tls_receiver(tmp, "groups", lambda port, ca_pem: asyncio.run(
        _bench(config, port, ca_pem, members, instances)))


def run_all(members: int = MEMBERS, instances: int = INSTANCES) -> None:
    """Run the group benchmark and print its figures."""
    with tempfile.TemporaryDirectory() as folder:
        result = bench_group(Path(folder), members, instances)
    steady = result.runs[1]
    print(f"group announce: {result.members:,} members on {result.instances} instances, TLS"
          f"  {steady.seconds:.2f} s  (target <= 1.5 s, as the fan-out)")
    for run in result.runs:
        print(f"  {run.label}: {run.seconds:.2f} s (queued in {run.queue_seconds * 1000:.0f} ms,"
              f" CPU {run.cpu:.2f} s, {run.deliveries} deliveries)")
    print(f"    the receiver counted {result.received:,} signed POSTs for "
          f"{len(result.runs)} posts ({result.received // len(result.runs)} per post: one per "
          f"shared inbox)")


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:3]]
    run_all(*sizes)
