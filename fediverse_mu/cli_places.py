"""The place from the command line: ``place show``, ``place set`` (address, coordinates,
territory, communes, radius or polygon, minimum group size), ``place spot add|remove`` and
``place feeling add|remove``, each with ``--data DIR``; and the ``init`` options
``--address``, ``--coordinates`` and ``--radius`` (applied right after the instance is
created)."""

from __future__ import annotations

import argparse
from typing import Any

from fediverse_mu import cli
from fediverse_mu.config import Config
from fediverse_mu.services import places
from fediverse_mu.services.context import Services

_SET_OPTIONS = (
    ("--name", "name", "the place's name"),
    ("--kind", "kind", "kind of place, e.g. fablab"),
    ("--description", "description", "a short description"),
    ("--address", "address", "postal address"),
    ("--coordinates", "coordinates", "coarse 'latitude, longitude', e.g. '45.188, 5.724'"),
    ("--territory", "territory_name", "the territory's name"),
    ("--communes", "communes", "communes, comma-separated"),
    ("--radius", "radius_km", "the territory's radius in km"),
    ("--polygon", "polygon", "the territory as 'lat lon; lat lon; …' (3 to 64 vertices)"),
    ("--min-group-size", "min_group_size", "smallest count the barometer shows (default 5)"),
)


def _run(args: argparse.Namespace, work: Any) -> Any:
    config = cli._load(args)
    cli._require_current_schema(config)
    return cli._with_services(config, work)


def _form(args: argparse.Namespace) -> dict[str, str]:
    return {key: getattr(args, key) for _, key, _ in _SET_OPTIONS
            if getattr(args, key, None) is not None}


async def _show(svc: Services) -> str:
    await places.ensure_place(svc)
    s = await places.get_settings(svc)
    lines = [f"name: {s.name}", f"kind: {s.kind}", f"address: {s.address}",
             f"coordinates: {'' if not s.located else f'{s.latitude}, {s.longitude}'}",
             f"territory: {s.territory.name}", f"communes: {', '.join(s.territory.communes)}",
             f"radius_km: {s.territory.radius_km or ''}",
             f"min_group_size: {s.min_group_size}"]
    lines += [f"spot {p.id}: {p.name} #{p.hashtag} ({p.latitude}, {p.longitude})"
              for p in await places.list_spots(svc)]
    lines += [f"feeling {f.term}: {f.emoji} #{f.hashtag} ({f.label_fr} / {f.label_en})"
              for f in await places.list_feelings(svc)]
    return "\n".join(lines)


def cmd_place_show(args: argparse.Namespace) -> int:
    """Print the place's settings, spots and feelings."""
    print(_run(args, _show))
    return 0


async def _set(svc: Services, form: dict[str, str]) -> str:
    await places.ensure_place(svc)
    settings = await places.update_settings(svc, form)
    return settings.name


def cmd_place_set(args: argparse.Namespace) -> int:
    """Change the place's settings (only the options given)."""
    form = _form(args)
    if not form:
        cli._fail("nothing to change: give at least one option (see --help)")
    name = _run(args, lambda svc: _set(svc, form))
    print(f"Updated the place {name!r}")
    return 0


def cmd_spot_add(args: argparse.Namespace) -> int:
    """Add a named spot."""
    spot = _run(args, lambda svc: places.add_spot(svc, args.name, args.hashtag,
                                                  args.coordinates))
    print(f"Added spot {spot.id}: {spot.name} #{spot.hashtag}")
    return 0


def cmd_spot_remove(args: argparse.Namespace) -> int:
    """Remove a spot by id."""
    _run(args, lambda svc: places.remove_spot(svc, args.id))
    print(f"Removed spot {args.id}")
    return 0


def cmd_feeling_add(args: argparse.Namespace) -> int:
    """Add (or redefine) a feeling of the vocabulary."""
    feeling = _run(args, lambda svc: places.add_feeling(
        svc, args.term, args.emoji, args.hashtag or "", args.label_fr or "",
        args.label_en or ""))
    print(f"Added feeling {feeling.term}: {feeling.emoji} #{feeling.hashtag}")
    return 0


def cmd_feeling_remove(args: argparse.Namespace) -> int:
    """Remove a feeling from the vocabulary."""
    _run(args, lambda svc: places.remove_feeling(svc, args.term))
    print(f"Removed feeling {args.term}")
    return 0


def apply_init_options(config: Config, args: argparse.Namespace) -> None:
    """``init --address/--coordinates/--radius``: saved in the new instance's place."""
    form = {key: value for key, value in (("address", getattr(args, "address", None)),
                                          ("coordinates", getattr(args, "coordinates", None)),
                                          ("radius_km", getattr(args, "radius", None)))
            if value is not None}
    if form:
        cli._with_services(config, lambda svc: _set(svc, form))


def register(commands: Any, user_commands: Any) -> None:
    """Add the ``place`` commands and the ``init`` place options."""
    init = commands.choices.get("init")
    if init is not None:
        init.add_argument("--address", help="the place's postal address")
        init.add_argument("--coordinates", metavar="LAT,LON",
                          help="coarse coordinates, e.g. '45.188, 5.724'")
        init.add_argument("--radius", metavar="KM", help="radius of the territory in km")

    place = commands.add_parser(
        "place", help="the place: settings, spots, feelings",
        description="Manage the place. Every action takes --data DIR.")
    actions = place.add_subparsers(dest="place_command", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="print the place's settings, spots and feelings")
    cli._data_arg(show)
    show.set_defaults(func=cmd_place_show)
    change = actions.add_parser("set", help="change the place's settings")
    cli._data_arg(change)
    for flag, key, text in _SET_OPTIONS:
        change.add_argument(flag, dest=key, help=text)
    change.set_defaults(func=cmd_place_set)

    spot = actions.add_parser("spot", help="named spots of the territory",
                              description="Add or remove spots. Every action takes --data DIR.")
    spot_actions = spot.add_subparsers(dest="spot_command", required=True, metavar="ACTION")
    spot_add = spot_actions.add_parser("add", help="add a spot")
    cli._data_arg(spot_add)
    spot_add.add_argument("name")
    spot_add.add_argument("--hashtag", required=True)
    spot_add.add_argument("--coordinates", required=True, metavar="LAT,LON")
    spot_add.set_defaults(func=cmd_spot_add)
    spot_remove = spot_actions.add_parser("remove", help="remove a spot")
    cli._data_arg(spot_remove)
    spot_remove.add_argument("id", type=int)
    spot_remove.set_defaults(func=cmd_spot_remove)

    feeling = actions.add_parser(
        "feeling", help="the feelings vocabulary",
        description="Add or remove feelings. Every action takes --data DIR.")
    feeling_actions = feeling.add_subparsers(dest="feeling_command", required=True,
                                             metavar="ACTION")
    feeling_add = feeling_actions.add_parser("add", help="add or redefine a feeling")
    cli._data_arg(feeling_add)
    feeling_add.add_argument("term", help="ASCII term that federates, e.g. 'lassitude'")
    feeling_add.add_argument("--emoji", required=True)
    feeling_add.add_argument("--hashtag")
    feeling_add.add_argument("--label-fr")
    feeling_add.add_argument("--label-en")
    feeling_add.set_defaults(func=cmd_feeling_add)
    feeling_remove = feeling_actions.add_parser("remove", help="remove a feeling")
    cli._data_arg(feeling_remove)
    feeling_remove.add_argument("term")
    feeling_remove.set_defaults(func=cmd_feeling_remove)
