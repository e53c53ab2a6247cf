"""Registration: the modes a place can choose, a sign-up request, a pending application, and
the field-by-field validation error Mastodon answers on ``POST /api/v1/accounts`` (422 with
``details``, https://docs.joinmastodon.org/methods/accounts/#create)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from fediverse_mu.domain.accounts import Account, User
from fediverse_mu.domain.errors import Invalid


class RegistrationMode(StrEnum):
    """Who may create an account."""

    OPEN = "open"  # anyone, at once
    APPROVAL = "approval"  # anyone may apply (with a reason); a moderator approves
    INVITE = "invite"  # only with an invite link
    CLOSED = "closed"  # nobody (admins create accounts with the CLI)


@dataclass(frozen=True)
class SignUp:
    """What an applicant sends (from the sign-up page or a client app)."""

    username: str
    email: str
    password: str = field(repr=False)
    agreement: bool
    reason: str = ""
    invite_code: str = ""
    locale: str = ""
    ip: str = ""


@dataclass(frozen=True)
class Application:
    """A pending sign-up, waiting for a moderator."""

    user: User
    account: Account
    reason: str
    invite_id: int | None
    ip: str
    created_at: datetime


@dataclass(frozen=True)
class FieldError:
    """One bad field: Mastodon's error code (``ERR_BLANK``…) and an English description."""

    field: str
    code: str
    description: str


class InvalidFields(Invalid):
    """Several fields are wrong; the API lists them in ``details``."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("Validation failed: " + ", ".join(
            f"{e.field.capitalize()} {e.description}" for e in errors))
        self.errors = tuple(errors)

    def details(self) -> dict[str, list[dict[str, str]]]:
        """Mastodon's ``details`` object: field → ``[{"error", "description"}]``."""
        out: dict[str, list[dict[str, str]]] = {}
        for e in self.errors:
            out.setdefault(e.field, []).append({"error": e.code, "description": e.description})
        return out

    def by_field(self) -> dict[str, str]:
        """The first description of each bad field (for forms)."""
        out: dict[str, str] = {}
        for e in self.errors:
            out.setdefault(e.field, e.description)
        return out
