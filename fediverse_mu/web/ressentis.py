"""What the place's public pages and open data are drawn from, as text: the barometer as a
server-side SVG heat map (readable without JavaScript, no third-party request), the plan of
the spots as SVG, the barometer as CSV and JSON, and the Atom feed of public local ressentis.
Pure functions of domain values; the handlers in ``web/places.py`` serve them."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from fediverse_mu.activitypub.html import to_plain_text
from fediverse_mu.domain.places import PlaceSettings, Spot
from fediverse_mu.domain.statuses import StatusView
from fediverse_mu.services.ressentis import Barometer

Translate = Callable[[str], str]

_CELL_W, _CELL_H, _LABEL_W, _HEAD_H = 44, 30, 150, 34


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def barometer_svg(barometer: Barometer, _: Translate, lang: str) -> str:
    """A heat map: one row per feeling, one column per week; each cell shows the count (its
    shade grows with it) or is hatched when fewer ressentis than the minimum group size."""
    weeks, feelings = barometer.weeks, barometer.feelings
    width = _LABEL_W + _CELL_W * len(weeks) + 8
    height = _HEAD_H + _CELL_H * len(feelings) + 8
    hidden = _("fewer than {n}").replace("{n}", str(barometer.min_group_size))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="barometer-title" '
        f'class="barometer" font-family="sans-serif" font-size="12">',
        f'<title id="barometer-title">{escape(_("Ressentis per feeling per week"))}</title>',
        '<defs><pattern id="hidden" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4f4f4"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#c8c8c8" stroke-width="2"/></pattern></defs>',
    ]
    for col, week in enumerate(weeks):
        x = _LABEL_W + col * _CELL_W + _CELL_W / 2
        out.append(f'<text x="{x:.0f}" y="{_HEAD_H - 10}" text-anchor="middle" '
                   f'fill="#333">{escape(week.split("-")[1])}</text>')
    top = barometer.maximum
    for row, feeling in enumerate(feelings):
        y = _HEAD_H + row * _CELL_H
        label = f"{feeling.emoji} {feeling.label(lang)}".strip()
        out.append(f'<text x="4" y="{y + _CELL_H / 2 + 4:.0f}" fill="#222">{escape(label)}'
                   '</text>')
        for col, week in enumerate(weeks):
            x = _LABEL_W + col * _CELL_W
            count = barometer.count(week, feeling.term)
            if count is None:
                title = f"{feeling.label(lang)}, {week}: {hidden}"
                out.append(f'<rect x="{x + 1}" y="{y + 1}" width="{_CELL_W - 2}" '
                           f'height="{_CELL_H - 2}" fill="url(#hidden)"><title>'
                           f'{escape(title)}</title></rect>')
                continue
            shade = 0.15 + 0.85 * count / top
            title = f"{feeling.label(lang)}, {week}: {count}"
            out.append(f'<rect x="{x + 1}" y="{y + 1}" width="{_CELL_W - 2}" '
                       f'height="{_CELL_H - 2}" fill="#1f6f8b" fill-opacity="{shade:.2f}">'
                       f'<title>{escape(title)}</title></rect>')
            colour = "#fff" if shade > 0.55 else "#111"
            out.append(f'<text x="{x + _CELL_W / 2:.0f}" y="{y + _CELL_H / 2 + 4:.0f}" '
                       f'text-anchor="middle" fill="{colour}">{count}</text>')
    out.append("</svg>")
    return "".join(out)


def _projector(points: Sequence[tuple[float, float]], width: int, height: int,
               pad: int) -> Callable[[float, float], tuple[float, float]]:
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    mid = math.radians((min(lats) + max(lats)) / 2)
    scale_x = max(math.cos(mid), 0.01)
    span_x = max((max(lons) - min(lons)) * scale_x, 1e-4)
    span_y = max(max(lats) - min(lats), 1e-4)
    k = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    cx = (min(lons) + max(lons)) / 2
    cy = (min(lats) + max(lats)) / 2

    def project(lat: float, lon: float) -> tuple[float, float]:
        return (width / 2 + (lon - cx) * scale_x * k, height / 2 - (lat - cy) * k)

    return project


def plan_svg(settings: PlaceSettings, spots: Sequence[Spot], _: Translate) -> str:
    """A plan of the territory: the place, its spots and its polygon or radius, drawn from
    coarse coordinates only (no map tiles: nothing is fetched from anywhere)."""
    width, height, pad = 480, 320, 40
    points: list[tuple[float, float]] = [(s.latitude, s.longitude) for s in spots]
    points += list(settings.territory.polygon)
    radius = settings.territory.radius_km
    if settings.latitude is not None and settings.longitude is not None:
        points.append((settings.latitude, settings.longitude))
        if radius and not settings.territory.polygon:
            dlat = radius / 111.0
            dlon = radius / max(0.01, 111.0 * math.cos(math.radians(settings.latitude)))
            points += [(settings.latitude + dlat, settings.longitude + dlon),
                       (settings.latitude - dlat, settings.longitude - dlon)]
    if not points:
        return ""
    project = _projector(points, width, height, pad)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-labelledby="plan-title" '
           f'class="plan" font-family="sans-serif" font-size="12">',
           f'<title id="plan-title">{escape(_("Plan of the spots"))}</title>',
           f'<rect width="{width}" height="{height}" fill="#f7f5ef"/>']
    if settings.territory.polygon:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (
            project(lat, lon) for lat, lon in settings.territory.polygon))
        out.append(f'<polygon points="{path}" fill="#e3efe6" stroke="#6a9f79"/>')
    elif radius and settings.latitude is not None and settings.longitude is not None:
        x, y = project(settings.latitude, settings.longitude)
        x2, _y2 = project(settings.latitude, settings.longitude + radius / max(
            0.01, 111.0 * math.cos(math.radians(settings.latitude))))
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{abs(x2 - x):.1f}" fill="#e3efe6" '
                   'stroke="#6a9f79"/>')
    for spot in spots:
        x, y = project(spot.latitude, spot.longitude)
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#1f6f8b"><title>'
                   f'{escape(spot.name)} #{escape(spot.hashtag)}</title></circle>')
        out.append(f'<text x="{x + 8:.1f}" y="{y + 4:.1f}" fill="#111">{escape(spot.name)}'
                   '</text>')
    if settings.latitude is not None and settings.longitude is not None:
        x, y = project(settings.latitude, settings.longitude)
        out.append(f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" '
                   f'fill="#b5451b"><title>{escape(settings.name)}</title></rect>')
        out.append(f'<text x="{x + 10:.1f}" y="{y - 8:.1f}" fill="#b5451b" '
                   f'font-weight="bold">{escape(settings.name)}</text>')
    out.append("</svg>")
    return "".join(out)


def barometer_json(settings: PlaceSettings, barometer: Barometer, base_url: str) -> dict[
        str, Any]:
    """The barometer as open data: every (week, feeling) cell; ``count`` is null when fewer
    ressentis than ``min_group_size`` (zero included) were posted."""
    return {
        "place": {"name": settings.name, "kind": settings.kind, "url": f"{base_url}/lieu",
                  "territory": settings.territory.name},
        "min_group_size": barometer.min_group_size,
        "weeks": list(barometer.weeks),
        "feelings": [{"term": f.term, "emoji": f.emoji, "label_fr": f.label_fr,
                      "label_en": f.label_en} for f in barometer.feelings],
        "counts": [{"week": w, "feeling": f.term, "count": barometer.count(w, f.term)}
                   for w in barometer.weeks for f in barometer.feelings],
        "licence": "ODbL-1.0",
    }


def barometer_csv(barometer: Barometer) -> str:
    """The barometer as CSV (``week,feeling,emoji,count``; count empty when hidden)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["week", "feeling", "emoji", "count"])
    for week in barometer.weeks:
        for feeling in barometer.feelings:
            count = barometer.count(week, feeling.term)
            writer.writerow([week, feeling.term, feeling.emoji,
                             "" if count is None else count])
    return buffer.getvalue()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom_feed(settings: PlaceSettings, views: Sequence[StatusView], base_url: str,
              now: datetime) -> str:
    """An Atom feed (RFC 4287) of the place's latest public ressentis."""
    updated = views[0].status.created_at if views else now
    feed_url = f"{base_url}/lieu/ressentis.atom"
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<feed xmlns="http://www.w3.org/2005/Atom">',
           f"<id>{escape(feed_url)}</id>",
           f"<title>{escape(settings.name)} — ressentis</title>",
           f'<link rel="self" href="{_attr(feed_url)}"/>',
           f'<link rel="alternate" type="text/html" href="{_attr(base_url + "/lieu")}"/>',
           f"<updated>{_iso(updated)}</updated>"]
    for view in views:
        status, ressenti = view.status, view.ressenti
        label = "" if ressenti is None else f"{ressenti.emoji} {ressenti.label}".strip()
        where = "" if ressenti is None or not ressenti.location_name else \
            f" — {ressenti.location_name}"
        out += ["<entry>",
                f"<id>{escape(status.uri)}</id>",
                f"<title>{escape(label + where)}</title>",
                f'<link rel="alternate" type="text/html" href="'
                f'{_attr(status.url or status.uri)}"/>',
                f"<published>{_iso(status.created_at)}</published>",
                f"<updated>{_iso(status.edited_at or status.created_at)}</updated>",
                f"<author><name>{escape(view.account.display_name or view.account.username)}"
                f"</name></author>",
                f"<summary>{escape(to_plain_text(status.content))}</summary>",
                f'<content type="html">{escape(status.content)}</content>']
        if ressenti is not None:
            out.append(f'<category term="{_attr(ressenti.feeling)}" '
                       f'label="{_attr(ressenti.label)}"/>')
        out.append("</entry>")
    out.append("</feed>")
    return "\n".join(out) + "\n"
