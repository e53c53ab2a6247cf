"""Instance rules: short texts residents accept at sign-up and cite when they report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

MAX_RULE_TEXT = 300
MAX_RULE_HINT = 1000


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule, shown in ``position`` order."""

    id: int
    text: str
    hint: str
    position: int
    created_at: datetime
    updated_at: datetime
