"""Domain errors. Services raise them; one web middleware maps them to HTTP statuses and the
CLI maps them to exit codes, so no face invents its own error vocabulary."""


class DomainError(Exception):
    """Base of the errors a user can be shown; ``status`` is the HTTP status it maps to."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(DomainError):
    """Input that breaks a rule (Mastodon answers 422)."""

    status = 422


class Unauthorized(DomainError):
    """Missing or bad credentials or signature."""

    status = 401


class Forbidden(DomainError):
    """Authenticated but not allowed."""

    status = 403


class NotFound(DomainError):
    """No such thing, or not visible to the asker."""

    status = 404


class Conflict(DomainError):
    """The thing already exists."""

    status = 409


class RateLimited(DomainError):
    """Too many attempts; retry later (``retry_after`` seconds, when known)."""

    status = 429

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
