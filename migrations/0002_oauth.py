"""OAuth 2 login: one-time authorization codes (stored as their SHA-256 only), each bound to
its client application, user, redirect URI, scopes and PKCE challenge, and linked to the token
it was exchanged for (so a replayed code can revoke that token, RFC 6749 §4.1.2)."""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Create the authorization codes table."""
    db["oauth_authorization_codes"].create(
        {
            "id": int,
            "code_hash": str,  # SHA-256 of the code: the code itself is never stored
            "app_id": int,
            "user_id": int,
            "redirect_uri": str,
            "scopes": str,
            "code_challenge": str,  # PKCE (RFC 7636), NULL when the client sent none
            "code_challenge_method": str,  # only 'S256' is accepted
            "created_at": str,
            "expires_at": str,
            "used_at": str,
            "token_id": int,  # the token this code was exchanged for
        },
        pk="id",
        not_null={"code_hash", "app_id", "user_id", "redirect_uri", "scopes", "created_at",
                  "expires_at"},
        foreign_keys=[("app_id", "oauth_apps", "id"), ("user_id", "users", "id"),
                      ("token_id", "oauth_tokens", "id")],
    )
    db["oauth_authorization_codes"].create_index(["code_hash"], unique=True)
    db["oauth_authorization_codes"].create_index(["expires_at"])
