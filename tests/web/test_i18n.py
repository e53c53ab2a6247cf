"""Every string a template shows goes through ``_()`` and has a French translation."""

from __future__ import annotations

import json
import re

from fediverse_mu.config import PLACE_KINDS
from fediverse_mu.resources import templates_dir
from fediverse_mu.web import i18n

MESSAGE = re.compile(r"""_\(\s*"((?:[^"\\]|\\.)*)"\s*\)""")
TEXT_NODE = re.compile(r">([^<>{}]*[A-Za-zÀ-ÿ]{3,}[^<>{}]*)<")
ALLOWED_LITERALS = {"Français", "English", "fediverse-mu"}


def _templates() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in templates_dir().rglob("*.html")}


def test_every_message_has_a_french_translation() -> None:
    french = i18n.catalogue("fr")
    missing = sorted({m for text in _templates().values() for m in MESSAGE.findall(text)}
                     - set(french))
    assert missing == []
    assert all(kind in french for kind in PLACE_KINDS)  # shown through _(config.place_kind)


def test_no_bare_text_outside_messages() -> None:
    bare = []
    for name, text in _templates().items():
        for literal in TEXT_NODE.findall(text):
            literal = literal.strip()
            if literal and literal not in ALLOWED_LITERALS:
                bare.append(f"{name}: {literal!r}")
    assert bare == []


def test_catalogues_are_valid_json_with_text_values() -> None:
    for lang in i18n.LANGUAGES:
        for path in i18n.catalogue_files(lang):
            data = json.loads(path.read_text(encoding="utf-8"))
            assert all(isinstance(v, str) and v for v in data.values()), path
