"""``fediverse-mu group create|list``: a group with its moderators, and the refusals (no
moderator, unknown moderator, a taken name) that create nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import alice, data, query, run

__all__ = ["alice", "data"]


def _groups(data: Path) -> list[tuple[object, ...]]:
    return query(data / "fediverse-mu.db",
                 "SELECT a.username, a.display_name, a.actor_type, g.join_policy,"
                 " g.members_only FROM groups g JOIN accounts a ON a.id = g.account_id")


def test_group_create_and_list(data: Path, alice: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "group", "create", "--data", str(data), "ecoute",
                         "--title", "Écoute", "--approval", "--members-only",
                         "--moderator", "alice")
    assert (code, err) == (0, ""), err
    assert "@ecoute@localhost:8000" in out and "members only" in out
    assert _groups(data) == [("ecoute", "Écoute", "Group", "approval", 1)]
    moderators = query(data / "fediverse-mu.db",
                       "SELECT a.username FROM group_moderators m JOIN accounts a"
                       " ON a.id = m.account_id")
    assert moderators == [("alice",)]
    code, out, _ = run(capsys, "group", "list", "--data", str(data))
    assert code == 0 and out.split("\t")[:3] == ["ecoute", "Écoute", "approval"]


def test_group_create_refusals_change_nothing(data: Path, alice: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in ((("ecoute",), "at least one moderator"),
                          (("ecoute", "--moderator", "nobody"), "no local resident"),
                          (("alice", "--moderator", "alice"), "already taken"),
                          (("bad name", "--moderator", "alice"), "username must be")):
        code, _, err = run(capsys, "group", "create", "--data", str(data), *argv)
        assert code == 1 and message in err, err
    assert _groups(data) == []
