"""Place benchmark (part of ``make bench``): measured and printed, never asserted.

On a copy of the cached Mastodon-API seed (``bench/api.py``: 1,000,000 statuses over a year),
a year of ressentis is added (``RESSENTIS`` public local statuses get a feeling, at the place or
one of 10 spots; the barometer is filled by its triggers as posting fills it), then the place
page ``/lieu`` (barometer SVG over 12 weeks, plan of the spots, latest public ressentis), the
barometer JSON and the nearby timeline are requested in-process, one at a time, and their
latencies reported (p50/p99). Target: the place page ≤ 50 ms p99.

Run alone with ``python bench/places.py``; ``bench/run.py`` calls :func:`run_all`.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import api  # bench/api.py, beside this script
from aiohttp.test_utils import TestClient, TestServer

from fediverse_mu.app import create_app
from fediverse_mu.appkeys import services_key
from fediverse_mu.config import load_config
from fediverse_mu.domain.places import DEFAULT_FEELINGS, iso_week
from fediverse_mu.services import maintenance, places
from fediverse_mu.storage import connect, transaction

RESSENTIS = 50_000  # a year of ressentis (~1,000 a week)
SPOTS = 10
REQUESTS = 300
WARMUP = 20
LAT, LON = 45.188, 5.724


def _add_ressentis(data: Path) -> int:
    """Give RESSENTIS public local statuses a feeling (and a spot for half of them)."""
    db = connect(data / "fediverse-mu.db")
    rng = random.Random(6)
    try:
        rows = db.execute(
            "SELECT id, created_at FROM statuses WHERE local = 1 AND visibility = 'public'"
            " AND reblog_of_id IS NULL AND deleted_at IS NULL AND local_only = 0"
            " ORDER BY random() LIMIT ?", [RESSENTIS]).fetchall()
        spots = [(f"Lieu-dit {i}", f"spot{i}", round(LAT + rng.uniform(-0.02, 0.02), 3),
                  round(LON + rng.uniform(-0.02, 0.02), 3)) for i in range(SPOTS)]
        with transaction(db):
            for name, tag, lat, lon in spots:
                db.execute("INSERT OR IGNORE INTO place_spots (name, hashtag, folded, latitude,"
                           " longitude, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           [name, tag, tag, lat, lon, "2025-01-01T00:00:00+00:00"])
            for status_id, created_at in rows:
                feeling = rng.choice(DEFAULT_FEELINGS)
                name, tag, lat, lon = rng.choice(spots) if rng.random() < 0.5 else (
                    "Le lieu", None, LAT, LON)
                db.execute(
                    "INSERT OR IGNORE INTO ressentis (status_id, feeling, emoji, label,"
                    " location_name, latitude, longitude, spot, place_uri, local, public,"
                    " local_only, week) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 1, 1, 0, ?)",
                    [status_id, feeling.term, feeling.emoji, feeling.label_fr, name, lat, lon,
                     tag, iso_week(datetime.fromisoformat(created_at))])
                db.execute("INSERT OR IGNORE INTO ressenti_locations VALUES (?, ?)", [lat, lon])
        return len(rows)
    finally:
        db.close()


def _summary(label: str, samples: list[float], target: str = "") -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"{label}: p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
            f" over {len(ordered)} requests{target}")


async def _measure(data: Path) -> list[str]:
    config = load_config(data)
    app = create_app(config, start_worker=False, storage_readers=2)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        await places.update_settings(app[services_key], {"coordinates": f"{LAT}, {LON}",
                                                         "radius_km": "8"})
        lines = []
        for label, path, target in (
                ("place page /lieu", "/lieu", "   (target <= 50 ms p99)"),
                ("barometer JSON", "/lieu/barometre.json", ""),
                ("nearby timeline (10 km, 20 statuses)", "/api/v1/timelines/nearby", "")):
            samples = []
            for i in range(WARMUP + REQUESTS):
                start = time.perf_counter()
                response = await client.get(path)
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path} answered {response.status}")
                if i >= WARMUP:
                    samples.append(time.perf_counter() - start)
            lines.append(_summary(label, samples, target))
        return lines
    finally:
        await client.close()


def run_all() -> None:
    """Seed (or reuse) the instance, add ressentis, measure, print."""
    seeded = api.seeded_instance()
    with tempfile.TemporaryDirectory(prefix="bench-places-") as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(seeded, data)
        maintenance.migrate(load_config(data))
        added = _add_ressentis(data)
        print(f"places: {added:,} ressentis among the seed's statuses")
        for line in asyncio.run(_measure(data)):
            print(f"places: {line}")


if __name__ == "__main__":
    run_all()
