"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106's recommendation)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 1024


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    """The Argon2id hash of a password."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not a password: only here to spend the time of a real check")


def check_login_password(password_hash: str | None, password: str) -> bool:
    """Like :func:`verify_password`, but an unknown account (``password_hash is None``) or an
    over-long password costs the same hashing time, so timing does not reveal which accounts
    exist."""
    if password_hash is None or len(password) > MAX_LENGTH:
        verify_password(_dummy_hash(), password[:MAX_LENGTH])
        return False
    return verify_password(password_hash, password)
