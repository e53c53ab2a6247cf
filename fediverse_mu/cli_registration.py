"""Registration from the command line, for places without e-mail: ``user approve|reject
USERNAME``, ``user reset-password USERNAME [--password-stdin]``, ``invite create [--uses N]
[--expires DAYS]`` (prints the link) and ``invite list``, each with ``--data DIR``. Actions run
as the CLI (no account) and are audited as such."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fediverse_mu import cli
from fediverse_mu.domain import Invalid
from fediverse_mu.domain.invites import Invite
from fediverse_mu.services import invites, registration
from fediverse_mu.services.context import Services

T = TypeVar("T")


def _run(args: argparse.Namespace, work: Callable[[Services], Awaitable[T]]) -> T:
    config = cli._load(args)
    cli._require_current_schema(config)
    return cli._with_services(config, work)


def cmd_user_approve(args: argparse.Namespace) -> int:
    """Approve a pending sign-up."""
    async def work(svc: Services) -> str:
        account, user = await registration.user_of(svc, args.username)
        if user.approved:
            raise Invalid(f"@{account.username} is already approved")
        await registration.approve(svc, None, user.id)
        return account.username

    print(f"Approved @{_run(args, work)}")
    return 0


def cmd_user_reject(args: argparse.Namespace) -> int:
    """Reject a pending sign-up (its account is deleted)."""
    async def work(svc: Services) -> str:
        account, user = await registration.user_of(svc, args.username)
        if user.approved:
            raise Invalid(f"@{account.username} is not a pending sign-up (already approved)")
        await registration.reject(svc, None, user.id)
        return account.username

    print(f"Rejected @{_run(args, work)}; the account was deleted")
    return 0


def cmd_user_reset_password(args: argparse.Namespace) -> int:
    """Give a user a new password (generated and printed, or read from stdin)."""
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            cli._fail("no password on standard input")

    async def work(svc: Services) -> tuple[str, str | None]:
        account, user = await registration.user_of(svc, args.username)
        return account.username, await registration.reset_password(svc, None, user.id,
                                                                   password)

    username, generated = _run(args, work)
    print(f"New password set for @{username}; all its apps were signed out")
    if generated is not None:
        print(f"Password: {generated}")
    return 0


def _describe(svc: Services, invite: Invite) -> str:
    uses = f"{invite.uses}/{invite.max_uses}" if invite.max_uses else f"{invite.uses}/∞"
    expires = invite.expires_at.strftime("%Y-%m-%d %H:%M UTC") if invite.expires_at else "never"
    return (f"{invite.id}\t{invite.state(svc.now()).value}\tuses {uses}\texpires {expires}\t"
            f"{invites.invite_url(svc, invite)}")


def cmd_invite_create(args: argparse.Namespace) -> int:
    """Create an invite and print its link."""
    async def work(svc: Services) -> tuple[str, str]:
        invite = await invites.create_invite(svc, None, max_uses=args.uses,
                                             expires_in_days=args.expires)
        mode = await registration.registration_mode(svc)
        return invites.invite_url(svc, invite), mode.value

    url, mode = _run(args, work)
    print(url)
    if mode == "closed":
        print("note: registrations are closed; the invite works once they are opened",
              file=sys.stderr)
    return 0


def cmd_invite_list(args: argparse.Namespace) -> int:
    """List the invites (id, state, uses, expiry, link)."""
    async def work(svc: Services) -> list[str]:
        return [_describe(svc, i) for i in await invites.list_invites(svc)]

    lines = _run(args, work)
    print("\n".join(lines) if lines else "No invites")
    return 0


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, got {text!r}") from None
    if not 0 < value <= invites.MAX_DAYS:
        raise argparse.ArgumentTypeError(f"expected between 0 and {invites.MAX_DAYS} days")
    return value


def register(commands: Any, user_commands: Any) -> None:
    """Add the registration commands to the ``fediverse-mu`` parser."""
    approve = user_commands.add_parser("approve", help="approve a pending sign-up")
    cli._data_arg(approve)
    approve.add_argument("username")
    approve.set_defaults(func=cmd_user_approve)

    reject = user_commands.add_parser("reject", help="reject a pending sign-up (deletes it)")
    cli._data_arg(reject)
    reject.add_argument("username")
    reject.set_defaults(func=cmd_user_reject)

    reset = user_commands.add_parser(
        "reset-password", help="give a user a new password and sign all its apps out")
    cli._data_arg(reset)
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true",
                       help="read the new password from standard input (else one is generated)")
    reset.set_defaults(func=cmd_user_reset_password)

    invite = commands.add_parser(
        "invite", help="manage invite links",
        description="Invite links to sign up (printable as a QR code from the web admin). "
                    "Each action takes --data DIR.")
    invite_commands = invite.add_subparsers(dest="invite_command", required=True,
                                            metavar="ACTION")
    create = invite_commands.add_parser("create", help="create an invite and print its link")
    cli._data_arg(create)
    create.add_argument("--uses", type=_positive_int, metavar="N",
                        help="how many accounts it may create (default: unlimited)")
    create.add_argument("--expires", type=_days, metavar="DAYS",
                        help="days until it expires (default: never)")
    create.set_defaults(func=cmd_invite_create)

    listing = invite_commands.add_parser("list", help="list the invites")
    cli._data_arg(listing)
    listing.set_defaults(func=cmd_invite_list)
