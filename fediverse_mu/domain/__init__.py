"""The domain: frozen dataclasses, enums and errors shared by every layer. No I/O here."""

from fediverse_mu.domain.accounts import Account, Role, User
from fediverse_mu.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthorized,
)
from fediverse_mu.domain.jobs import GiveUp, Job, JobState, RetryLater
from fediverse_mu.domain.oauth import SCOPES, Token, expand_scopes

__all__ = [
    "SCOPES",
    "Account",
    "Conflict",
    "DomainError",
    "Forbidden",
    "GiveUp",
    "Invalid",
    "Job",
    "JobState",
    "NotFound",
    "RateLimited",
    "RetryLater",
    "Role",
    "Token",
    "Unauthorized",
    "User",
    "expand_scopes",
]
