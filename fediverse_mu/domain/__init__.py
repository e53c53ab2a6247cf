"""The domain: frozen dataclasses, enums and errors shared by every layer. No I/O here."""

from fediverse_mu.domain.accounts import Account, RemoteActor, Role, User
from fediverse_mu.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthorized,
)
from fediverse_mu.domain.follows import Follow, FollowState
from fediverse_mu.domain.jobs import GiveUp, Job, JobState, RetryLater
from fediverse_mu.domain.media import Media, MediaType, RemoteMedia
from fediverse_mu.domain.oauth import (
    OOB_REDIRECT_URI,
    SCOPES,
    AuthorizationCode,
    OAuthApp,
    OAuthError,
    Token,
    expand_scopes,
)

__all__ = [
    "OOB_REDIRECT_URI",
    "SCOPES",
    "Account",
    "AuthorizationCode",
    "Conflict",
    "DomainError",
    "Follow",
    "FollowState",
    "Forbidden",
    "GiveUp",
    "Invalid",
    "Job",
    "JobState",
    "Media",
    "MediaType",
    "NotFound",
    "OAuthApp",
    "OAuthError",
    "RateLimited",
    "RemoteActor",
    "RemoteMedia",
    "RetryLater",
    "Role",
    "Token",
    "Unauthorized",
    "User",
    "expand_scopes",
]
