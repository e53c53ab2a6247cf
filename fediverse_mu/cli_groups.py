"""Listening groups from the command line: ``group create --data DIR NAME [--title T]
[--charter-file FILE] [--approval] [--members-only] [--moderator USERNAME]...`` and ``group
list``. The moderators named must be local accounts; there must be at least one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fediverse_mu import cli
from fediverse_mu.domain import Account, Invalid, NotFound
from fediverse_mu.domain.groups import Group
from fediverse_mu.services import accounts, groups
from fediverse_mu.services.context import Services


def cmd_group_create(args: argparse.Namespace) -> int:
    """Create a local group."""
    config = cli._load(args)
    cli._require_current_schema(config)
    charter = ""
    if args.charter_file:
        try:
            charter = Path(args.charter_file).read_text(encoding="utf-8")
        except OSError as exc:
            cli._fail(f"cannot read the charter: {exc}")

    async def work(svc: Services) -> Group:
        moderators: list[Account] = []
        for name in args.moderator or []:
            found = await accounts.get_local_account(svc, name)
            if found is None or found.actor_type != "Person":
                raise NotFound(f"no local resident '{name}'")
            moderators.append(found)
        if not moderators:
            raise Invalid("a group needs at least one moderator (--moderator USERNAME)")
        return await groups.create_group(svc, args.name, title=args.title or "",
                                         charter=charter, approval=args.approval,
                                         members_only=args.members_only, moderators=moderators)

    group = cli._with_services(config, work)
    print(f"Created group @{group.account.username}@{config.domain}"
          f" ({group.join_policy.value}{', members only' if group.members_only else ''})"
          f" — {config.base_url}/groups/{group.account.username}")
    return 0


def cmd_group_list(args: argparse.Namespace) -> int:
    """List the local groups."""
    config = cli._load(args)
    cli._require_current_schema(config)
    for group in cli._with_services(config, groups.list_groups):
        flags = [group.join_policy.value] + (["members-only"] if group.members_only else []) \
            + (["closed"] if group.closed else [])
        print("\t".join([group.account.username, group.title, *flags]))
    return 0


def register(commands: Any, user_commands: Any) -> None:
    """Add the group commands to the parser."""
    del user_commands
    group = commands.add_parser("group", help="listening groups")
    group_commands = group.add_subparsers(dest="group_command", required=True,
                                          metavar="ACTION")
    create = group_commands.add_parser("create", help="create a listening group")
    cli._data_arg(create)
    create.add_argument("name", metavar="NAME", help="the group's username")
    create.add_argument("--title", help="its display name")
    create.add_argument("--charter-file", metavar="FILE", help="the charter (plain text)")
    create.add_argument("--approval", action="store_true",
                        help="joining needs a moderator's approval")
    create.add_argument("--members-only", action="store_true",
                        help="posts are shown to members only")
    create.add_argument("--moderator", action="append", metavar="USERNAME",
                        help="a local resident moderating it (repeatable; at least one)")
    create.set_defaults(func=cmd_group_create)
    listing = group_commands.add_parser("list", help="list the local groups")
    cli._data_arg(listing)
    listing.set_defaults(func=cmd_group_list)
