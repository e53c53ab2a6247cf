"""Dates as ActivityPub writes and reads them (xsd:dateTime, UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def xsd_datetime(moment: datetime) -> str:
    """A moment as an xsd:dateTime in UTC, to the second (``2026-11-21T10:00:00Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: Any) -> datetime | None:
    """An xsd:dateTime as an aware UTC datetime, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
