"""The admin command line: ``fediverse-mu init|serve|migrate|user create|token create|backup``,
each with ``--data DIR``. Admins and scripts rely on these names and options: extend them,
never rename them. Errors are one clear line on stderr and a non-zero exit code."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from fediverse_mu import __version__
from fediverse_mu.config import Config, ConfigError, load_config
from fediverse_mu.domain import DomainError, Role
from fediverse_mu.services import accounts, maintenance, tokens
from fediverse_mu.services.context import Services
from fediverse_mu.storage import DatabaseError, Storage, StorageError

if TYPE_CHECKING:
    from fediverse_mu.supervise import WebProcesses

T = TypeVar("T")
log = logging.getLogger("fediverse_mu")


class CliError(Exception):
    """A failure to report to the admin as one line, with an exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _fail(message: str, code: int = 1) -> NoReturn:
    raise CliError(message, code)


def _load(args: argparse.Namespace) -> Config:
    config = load_config(Path(args.data))
    # sqlite3 would silently create an empty file, which ``migrate`` would then turn into a
    # fresh instance without its actor and keys: a lost database must be restored, not replaced.
    if not config.database_path.exists():
        _fail(f"database {config.database_path} does not exist; restore it from a backup "
              "(or run 'fediverse-mu init' for a new instance)")
    return config


def _with_services(config: Config, work: Callable[[Services], Awaitable[T]]) -> T:
    async def run() -> T:
        storage = Storage(config.database_path, readers=1)
        storage.open()
        try:
            return await work(Services(config=config, storage=storage))
        finally:
            await storage.close()

    return asyncio.run(run())


def _require_current_schema(config: Config) -> None:
    try:
        maintenance.check_schema(config)
    except maintenance.SchemaNotReady as exc:
        _fail(str(exc))


# -- commands -------------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    """Create a data folder: config, database, instance keys."""
    target = Path(args.data)
    values: dict[str, object] = {"domain": args.domain}
    if args.name is not None:
        values["place_name"] = args.name
    if args.dev:
        values.update(dev_allow_http=True, dev_allow_private_addresses=True, scheme="http",
                      registration_mode="open")
    for key in ("place_kind", "place_territory", "place_description"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    config = maintenance.initialise(target, values, force=args.force)
    from fediverse_mu.cli_places import apply_init_options  # --address/--coordinates/--radius
    apply_init_options(config, args)
    print(f"Initialised {config.place_name!r} at {config.base_url} in {target}")
    print(f"Next: fediverse-mu user create --data {target} NAME --email EMAIL --admin")
    print(f"Then: fediverse-mu serve --data {target}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply pending database migrations."""
    config = _load(args)
    try:
        applied = maintenance.migrate(config)
    except ValueError as exc:
        _fail(str(exc))
    print(f"Applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else
                                                    "; the database is up to date"))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the instance until SIGINT/SIGTERM."""
    from aiohttp import web

    from fediverse_mu import dispatch
    from fediverse_mu.app import create_app
    from fediverse_mu.web.middleware import AccessLogger

    config = _load(args)
    _require_current_schema(config)
    host = args.host or config.listen_host
    port = args.port or config.listen_port
    workers = args.workers or config.workers
    _setup_logging(config.log_level)
    options: dict[str, Any] = {
        "access_log_class": AccessLogger, "access_log": logging.getLogger("fediverse_mu.access"),
        "shutdown_timeout": 15}
    if not args.worker_process:
        log.info("fediverse-mu %s serving %s on http://%s:%d%s", __version__, config.base_url,
                 host, port, f" with {workers} processes" if workers > 1 else "")
    try:
        if args.worker_process:  # one of the other web processes of ``--workers N``
            app = create_app(config, start_worker=False, relay="client",
                             on_relay_lost=_stop_this_process)
            _stop_when_parent_goes()
            channel = socket.socket(fileno=args.connections_fd)
            dispatch.run(app, lambda runner: dispatch.ReceiveSite(
                runner, channel, on_closed=_stop_this_process), **options)
        elif workers > 1:  # the first process: accepts, and hands connections out in turn
            app = create_app(config, relay="hub")
            others = _other_processes(args.data, workers - 1)
            app.cleanup_ctx.append(others.cleanup_ctx)
            dispatch.run(app, lambda runner: others.site(runner, host, port), **options)
        else:
            web.run_app(create_app(config), host=host, port=port, print=None, **options)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            _fail(f"port {port} on {host} is already in use; stop the other program or choose "
                  "another port with --port")
        if exc.errno in (errno.EACCES, errno.EADDRNOTAVAIL):
            _fail(f"cannot listen on {host}:{port}: {exc.strerror}")
        raise
    return 0


def _stop_this_process() -> None:
    os.kill(os.getpid(), signal.SIGTERM)  # aiohttp's run_app shuts down gracefully


def _stop_when_parent_goes() -> None:
    """A worker process stops when its standard input closes: the first process holds the
    other end, so even a kill -9 of the first process stops the others."""
    def watch() -> None:
        # The raw descriptor, not sys.stdin: a thread blocked in a buffered read holds its
        # lock, and the interpreter aborts at exit when it cannot take it.
        with contextlib.suppress(OSError):
            while os.read(0, 4096):
                pass
        _stop_this_process()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _other_processes(data: str, count: int) -> WebProcesses:
    """The other web processes, each started as ``serve --worker-process`` with its end of a
    connection channel passed down as a descriptor; ``supervise.WebProcesses`` restarts one
    that dies and stops them all (SIGTERM, then SIGKILL after 20 s) when the first stops."""
    from fediverse_mu.supervise import WebProcesses

    def command(fd: int) -> list[str]:
        return [sys.executable, "-m", "fediverse_mu", "serve", "--data", data,
                "--worker-process", "--connections-fd", str(fd)]

    return WebProcesses(count, command)


def cmd_user_create(args: argparse.Namespace) -> int:
    """Create a local user."""
    config = _load(args)
    _require_current_schema(config)
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _fail("no password on standard input")
    role = Role.ADMIN if args.admin else Role.RESIDENT
    created = _with_services(config, lambda svc: accounts.create_user(
        svc, args.username, args.email, password=password, role=role))
    print(f"Created {role.value} @{created.account.username}@{config.domain}")
    if created.generated_password is not None:
        print(f"Password: {created.generated_password}")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    """Print a bearer token for a local user."""
    config = _load(args)
    _require_current_schema(config)
    scopes = tokens.parse_scopes(args.scopes)
    token = _with_services(config, lambda svc: tokens.create_token_for(svc, args.username,
                                                                       scopes))
    print(token)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a consistent copy of the database."""
    config = _load(args)
    size = maintenance.backup(config, Path(args.out))
    print(f"Backed up {config.database_path} to {args.out} ({size} bytes)")
    return 0


# -- parser ---------------------------------------------------------------------------------------


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _data_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="DIR",
                        help="the instance's data folder (config.toml, database, media)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="fediverse-mu",
        description="A federated ActivityPub server for hyperlocal expression in tiers-lieux.")
    parser.add_argument("--version", action="version", version=f"fediverse-mu {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create a new instance in a data folder")
    _data_arg(init)
    init.add_argument("--domain", required=True, metavar="HOST[:PORT]",
                      help="public domain, e.g. lieu.example or localhost:8000")
    init.add_argument("--name", help="the place's name")
    init.add_argument("--kind", dest="place_kind", help="kind of place, e.g. fablab")
    init.add_argument("--territory", dest="place_territory", help="the territory it serves")
    init.add_argument("--description", dest="place_description", help="a short description")
    init.add_argument("--dev", action="store_true",
                      help="development: plain http and loopback peers (localhost/*.test only)")
    init.add_argument("--force", action="store_true", help="initialise a non-empty folder")
    init.set_defaults(func=cmd_init)

    serve = commands.add_parser("serve", help="run the server")
    _data_arg(serve)
    serve.add_argument("--host", help="listen address (default: listen_host from config)")
    serve.add_argument("--port", type=int, help="listen port (default: listen_port)")
    serve.add_argument("--workers", type=int, choices=range(1, 33), metavar="N",
                       help="web processes sharing the port, one per core (default: workers "
                            "from config, 1)")
    serve.add_argument("--worker-process", action="store_true", help=argparse.SUPPRESS)
    serve.add_argument("--connections-fd", type=int, default=-1, help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    _data_arg(migrate)
    migrate.set_defaults(func=cmd_migrate)

    user = commands.add_parser("user", help="manage local users")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    user_create = user_commands.add_parser("create", help="create a local user")
    _data_arg(user_create)
    user_create.add_argument("username")
    user_create.add_argument("--email", required=True)
    user_create.add_argument("--password-stdin", action="store_true",
                             help="read the password from standard input (else one is generated)")
    user_create.add_argument("--admin", action="store_true", help="give the admin role")
    user_create.set_defaults(func=cmd_user_create)

    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    token_create = token_commands.add_parser("create", help="print a Mastodon API bearer token")
    _data_arg(token_create)
    token_create.add_argument("username")
    token_create.add_argument("--scopes", default="read write follow push",
                              help='space-separated scopes (default: "read write follow push")')
    token_create.set_defaults(func=cmd_token_create)

    backup = commands.add_parser("backup", help="consistent online copy of the database")
    _data_arg(backup)
    backup.add_argument("out", metavar="OUT.db")
    backup.set_defaults(func=cmd_backup)
    from fediverse_mu import cli_moderation
    cli_moderation.register(commands, user_commands)
    from fediverse_mu import cli_registration
    cli_registration.register(commands, user_commands)
    from fediverse_mu import cli_groups
    cli_groups.register(commands, user_commands)
    from fediverse_mu import cli_places
    cli_places.register(commands, user_commands)
    from fediverse_mu import cli_prune
    cli_prune.register(commands, user_commands)  # storage hygiene (issue 7)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fediverse-mu`` command."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except CliError as exc:
        print(f"fediverse-mu: error: {exc}", file=sys.stderr)
        return exc.code
    except (ConfigError, DomainError, StorageError) as exc:
        print(f"fediverse-mu: error: {exc}", file=sys.stderr)
        return 1
    except DatabaseError as exc:
        print(f"fediverse-mu: error: database {args.data}: {exc}", file=sys.stderr)
        return 1
    except PermissionError as exc:
        print(f"fediverse-mu: error: permission denied: {exc.filename or exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a read-only or full disk, a file where a folder should be…
        print(f"fediverse-mu: error: {exc.strerror or exc}: {exc.filename or args.data}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code
