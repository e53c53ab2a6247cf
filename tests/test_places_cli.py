"""The place from the command line: ``init`` with an address, coordinates and a radius,
``place set|show``, ``place spot add`` and ``place feeling add``; bad input is one clear error
and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import run


def test_place_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "lieu")
    code, out, err = run(capsys, "init", "--data", data, "--domain", "lieu.test", "--dev",
                         "--name", "La Fabrique", "--kind", "fablab", "--address",
                         "1 rue du Four", "--coordinates", "45.18852, 5.72449", "--radius", "6")
    assert code == 0, err
    code, out, err = run(capsys, "place", "show", "--data", data)
    assert code == 0, err
    assert "name: La Fabrique" in out and "coordinates: 45.189, 5.724" in out
    assert "radius_km: 6.0" in out and "feeling joie: 😊 #joie" in out

    code, out, err = run(capsys, "place", "set", "--data", data, "--coordinates", "95, 5")
    assert code == 1 and "latitude" in err
    code, out, err = run(capsys, "place", "set", "--data", data, "--radius", "9000")
    assert code == 1 and "radius" in err
    code, out, _ = run(capsys, "place", "show", "--data", data)
    assert "coordinates: 45.189, 5.724" in out and "radius_km: 6.0" in out  # unchanged

    code, out, err = run(capsys, "place", "set", "--data", data, "--territory", "Vallée",
                         "--communes", "Grenoble, Échirolles", "--min-group-size", "7")
    assert code == 0, err
    code, out, err = run(capsys, "place", "spot", "add", "--data", data, "La halle",
                         "--hashtag", "halle", "--coordinates", "45.19, 5.73")
    assert code == 0, err
    code, out, err = run(capsys, "place", "spot", "add", "--data", data, "Autre halle",
                         "--hashtag", "HALLE", "--coordinates", "45.19, 5.73")
    assert code == 1 and "#HALLE" in err  # the same hashtag, whatever the case
    code, out, err = run(capsys, "place", "feeling", "add", "--data", data, "lassitude",
                         "--emoji", "😩", "--label-en", "weariness")
    assert code == 0, err
    code, out, err = run(capsys, "place", "feeling", "add", "--data", data, "Pas Bon",
                         "--emoji", "😩")
    assert code == 1 and "term" in err
    code, out, _ = run(capsys, "place", "show", "--data", data)
    assert "territory: Vallée" in out and "communes: Grenoble, Échirolles" in out
    assert "min_group_size: 7" in out and "#halle" in out
    assert out.count("spot ") == 1 and "feeling lassitude: 😩 #lassitude" in out
