"""Moderation from the command line: ``user suspend|unsuspend USERNAME``, ``domain
block|unblock|allow|disallow|list|import|export`` (with ``allowlist on|off``) and ``report
list``, each with ``--data DIR``. Actions run as the CLI (no account) and are audited as such."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fediverse_mu import cli
from fediverse_mu.domain import Account, NotFound
from fediverse_mu.services import accounts, federation_policy, moderation
from fediverse_mu.services.context import Services


async def _account(svc: Services, name: str) -> Account:
    """A local account by username, or a known remote one by ``user@domain``."""
    username, _, domain = name.removeprefix("@").partition("@")
    if domain and domain != svc.config.domain:
        found = await accounts.get_remote_account(svc, username, domain)
    else:
        found = await accounts.get_local_account(svc, username)
    if found is None:
        raise NotFound(f"no known account '{name}'")
    return found


def _run(args: argparse.Namespace, work: Any) -> Any:
    config = cli._load(args)
    cli._require_current_schema(config)
    return cli._with_services(config, work)


def cmd_user_action(args: argparse.Namespace) -> int:
    """Suspend or unsuspend (silence, unsilence, warn) an account."""
    async def work(svc: Services) -> str:
        account = await _account(svc, args.username)
        await moderation.act_on_account(svc, None, account.id, args.action, args.reason or "")
        return account.acct()

    acct = _run(args, work)
    print(f"{args.action.capitalize()} done: {acct}")
    return 0


def cmd_domain_block(args: argparse.Namespace) -> int:
    """Block a domain."""
    block = _run(args, lambda svc: federation_policy.block_domain(
        svc, None, args.domain, severity=args.severity, reject_media=args.reject_media,
        reject_reports=args.reject_reports, public_comment=args.comment or "",
        private_comment=args.private_comment or "", obfuscate=args.obfuscate))
    print(f"Blocked {block.domain} ({block.severity.value}"
          f"{', reject media' if block.reject_media else ''})")
    return 0


def cmd_domain_unblock(args: argparse.Namespace) -> int:
    """Lift a domain block."""
    _run(args, lambda svc: federation_policy.unblock_domain(svc, None, args.domain))
    print(f"Unblocked {args.domain}")
    return 0


def cmd_domain_allow(args: argparse.Namespace) -> int:
    """Add a domain to the allowlist."""
    allow = _run(args, lambda svc: federation_policy.allow_domain(svc, None, args.domain))
    print(f"Allowed {allow.domain}")
    return 0


def cmd_domain_disallow(args: argparse.Namespace) -> int:
    """Take a domain off the allowlist."""
    _run(args, lambda svc: federation_policy.disallow_domain(svc, None, args.domain))
    print(f"Disallowed {args.domain}")
    return 0


def cmd_domain_allowlist(args: argparse.Namespace) -> int:
    """Turn allowlist mode on or off."""
    _run(args, lambda svc: federation_policy.set_allowlist_mode(svc, None, args.mode == "on"))
    print(f"Allowlist mode {args.mode}")
    return 0


def cmd_domain_list(args: argparse.Namespace) -> int:
    """Print the federation policy."""
    async def work(svc: Services) -> tuple[Any, Any, bool]:
        return (await federation_policy.list_domain_blocks(svc),
                await federation_policy.list_domain_allows(svc),
                await federation_policy.allowlist_mode(svc))

    blocks, allows, mode = _run(args, work)
    print(f"allowlist mode: {'on' if mode else 'off'}")
    for block in blocks:
        flags = [block.severity.value] + [name for name, on in (
            ("reject_media", block.reject_media), ("reject_reports", block.reject_reports),
            ("obfuscate", block.obfuscate)) if on]
        comment = block.public_comment or block.private_comment
        print(f"block {block.domain} {','.join(flags)}" + (f"  # {comment}" if comment else ""))
    for allow in allows:
        print(f"allow {allow.domain}")
    return 0


def cmd_domain_import(args: argparse.Namespace) -> int:
    """Import Mastodon's domain-block CSV (all rows or none)."""
    try:
        text = Path(args.file).read_text(encoding="utf-8") if args.file != "-" \
            else sys.stdin.read()
    except UnicodeDecodeError:
        cli._fail(f"{args.file} is not UTF-8 text")
    count = _run(args, lambda svc: federation_policy.import_csv(svc, None, text))
    print(f"Imported {count} domain block(s)")
    return 0


def cmd_domain_export(args: argparse.Namespace) -> int:
    """Print the domain blocks as Mastodon's CSV."""
    sys.stdout.write(_run(args, federation_policy.export_csv))
    return 0


def cmd_report_list(args: argparse.Namespace) -> int:
    """Print the reports (open ones by default)."""
    async def work(svc: Services) -> list[tuple[Any, str, str]]:
        reports = await moderation.list_reports(
            svc, resolved=None if args.all else args.resolved)
        out = []
        for report in reports:
            reporter = await accounts.get_account(svc, report.account_id)
            target = await accounts.get_account(svc, report.target_account_id)
            out.append((report, reporter.acct() if reporter else "?",
                        target.acct() if target else "?"))
        return out

    for report, reporter, target in _run(args, work):
        state = "resolved" if report.action_taken else "open"
        comment = report.comment.replace("\n", " ")[:80]
        print(f"#{report.id} {report.created_at:%Y-%m-%d %H:%M} {state} {report.category.value}"
              f" {target} (by {reporter}; {len(report.status_ids)} status(es))"
              + (f": {comment}" if comment else ""))
    return 0


def register(commands: Any, user_commands: Any) -> None:
    """Add the moderation commands to the parser."""
    for action, text in (("suspend", "suspend an account (local: no login, actor deleted "
                                     "remotely; remote: follows and content dropped)"),
                         ("unsuspend", "lift a suspension"),
                         ("silence", "hide an account from public timelines"),
                         ("unsilence", "lift a silence"),
                         ("warn", "record a warning")):
        sub = user_commands.add_parser(action, help=text)
        cli._data_arg(sub)
        sub.add_argument("username", metavar="USERNAME", help="local name or user@domain")
        sub.add_argument("--reason", help="why (kept in the audit log)")
        sub.set_defaults(func=cmd_user_action, action=action)

    domain = commands.add_parser("domain", help="federation policy (domain blocks, allowlist)")
    domain_commands = domain.add_subparsers(dest="domain_command", required=True,
                                            metavar="ACTION")
    block = domain_commands.add_parser("block", help="block (silence or suspend) a domain")
    cli._data_arg(block)
    block.add_argument("domain", metavar="DOMAIN")
    block.add_argument("--severity", choices=("suspend", "silence", "noop"), default="suspend")
    block.add_argument("--reject-media", action="store_true", help="do not show its media")
    block.add_argument("--reject-reports", action="store_true", help="ignore its reports")
    block.add_argument("--comment", help="public comment (shown on the moderated servers page)")
    block.add_argument("--private-comment", help="comment only moderators see")
    block.add_argument("--obfuscate", action="store_true",
                       help="star some letters of the domain in the public list")
    block.set_defaults(func=cmd_domain_block)

    unblock = domain_commands.add_parser("unblock", help="lift a domain block")
    cli._data_arg(unblock)
    unblock.add_argument("domain", metavar="DOMAIN")
    unblock.set_defaults(func=cmd_domain_unblock)

    allow = domain_commands.add_parser("allow", help="allow a domain (allowlist mode)")
    cli._data_arg(allow)
    allow.add_argument("domain", metavar="DOMAIN")
    allow.set_defaults(func=cmd_domain_allow)

    disallow = domain_commands.add_parser("disallow", help="take a domain off the allowlist")
    cli._data_arg(disallow)
    disallow.add_argument("domain", metavar="DOMAIN")
    disallow.set_defaults(func=cmd_domain_disallow)

    allowlist = domain_commands.add_parser(
        "allowlist", help="federate only with allowed domains (on) or with all but blocked (off)")
    cli._data_arg(allowlist)
    allowlist.add_argument("mode", choices=("on", "off"))
    allowlist.set_defaults(func=cmd_domain_allowlist)

    listing = domain_commands.add_parser("list", help="print blocks, allows and the mode")
    cli._data_arg(listing)
    listing.set_defaults(func=cmd_domain_list)

    importing = domain_commands.add_parser("import", help="import Mastodon's domain-block CSV")
    cli._data_arg(importing)
    importing.add_argument("file", metavar="FILE.csv", help="the CSV file ('-': stdin)")
    importing.set_defaults(func=cmd_domain_import)

    export = domain_commands.add_parser("export", help="print the blocks as Mastodon's CSV")
    cli._data_arg(export)
    export.set_defaults(func=cmd_domain_export)

    report = commands.add_parser("report", help="moderation reports")
    report_commands = report.add_subparsers(dest="report_command", required=True,
                                            metavar="ACTION")
    listing = report_commands.add_parser("list", help="print the reports (open ones first)")
    cli._data_arg(listing)
    listing.add_argument("--resolved", action="store_true", help="resolved ones instead")
    listing.add_argument("--all", action="store_true", help="open and resolved")
    listing.set_defaults(func=cmd_report_list)
