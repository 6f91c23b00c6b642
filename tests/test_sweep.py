"""Sweeps: grid parsing, bad grids refused up front, and a 2-trial sweep on a local Ray equal to
the same 2 runs done one after another (and resumed, not repeated, when run again)."""

from __future__ import annotations

import json

import pytest

from neuromotif.cli import main
from neuromotif.sweep import grid
from tests.paths import QUICKSTART

TINY = [
    "data.max_samples=64",
    "model.hidden=[16]",
    "model.motif_size=8",
    "train.batch_size=32",
    "train.epochs=1",
    "search.enabled=false",
    "simulate.lava_samples=0",
    "simulate.divergence_samples=0",
    "report.plots=false",
]


def _sets() -> list[str]:
    return [a for s in TINY for a in ("--set", s)]


def test_grid_is_the_product_of_the_axes_with_readable_names():
    trials = grid(["seed=0,1", "model.hidden=[64],[128, 64]"])
    assert [t.name for t in trials] == [
        "seed-0__hidden-64",
        "seed-0__hidden-128_64",
        "seed-1__hidden-64",
        "seed-1__hidden-128_64",
    ]
    assert trials[1].overrides == ("seed=0", "model.hidden=[128, 64]")


@pytest.mark.parametrize(
    "axes,expected",
    [
        (["seed"], "write KEY=V1,V2"),
        (["seed="], "at least one value"),
        (["compile.chip=x/y.yaml,x_y.yaml"], "the same name"),
        (["train.lr=0.1,abc"], "train.lr"),
    ],
)
def test_bad_grids_exit_2_before_any_trial_runs(tmp_path, capsys, axes, expected):
    args = ["sweep", QUICKSTART, "--out", str(tmp_path / "s"), *[a for x in axes for a in ("--grid", x)]]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not (tmp_path / "s" / "sweep.json").exists()


@pytest.mark.slow
def test_a_sweep_on_local_ray_equals_the_same_runs_done_in_turn(tmp_path, capsys):
    pytest.importorskip("ray")
    axes = ["--grid", "seed=0,1", "--grid", "train.lr=1e-3"]  # two axes, two trials (the product: test_grid_...)
    sets = _sets()
    assert main(["sweep", QUICKSTART, *sets, *axes, "--out", str(tmp_path / "local"), "-q"]) == 0
    assert main(["sweep", QUICKSTART, *sets, *axes, "--out", str(tmp_path / "ray"), "--executor", "ray", "-q"]) == 0
    local = json.loads((tmp_path / "local" / "sweep.json").read_text())["trials"]
    on_ray = json.loads((tmp_path / "ray" / "sweep.json").read_text())["trials"]
    assert len(local) == 2 and [t["status"] for t in on_ray] == ["done"] * 2
    for a, b in zip(local, on_ray, strict=True):
        assert {k: v for k, v in a.items() if k not in ("seconds", "run_dir")} == {
            k: v for k, v in b.items() if k not in ("seconds", "run_dir")
        }
        ra = json.loads((tmp_path / "local" / a["trial"] / "report.json").read_text())
        rb = json.loads((tmp_path / "ray" / b["trial"] / "report.json").read_text())
        assert ra["accuracy"] == rb["accuracy"] and ra["energy"] == rb["energy"]
    model = tmp_path / "ray" / on_ray[0]["trial"] / "model.pt"
    stamp = model.stat().st_mtime_ns
    assert main(["sweep", QUICKSTART, *sets, *axes, "--out", str(tmp_path / "ray"), "--executor", "ray", "-q"]) == 0
    assert model.stat().st_mtime_ns == stamp  # finished trials are reused, never run twice
    assert "seed-0__lr-1e-3" in (tmp_path / "ray" / "sweep.md").read_text()
    recorded = json.loads((tmp_path / "ray" / "sweep.json").read_text())["provenance"]
    assert {"commit", "dirty", "command", "machine", "versions", "date"} <= set(recorded)


def test_grid_values_are_read_by_the_schema_so_one_value_gives_one_trial():
    """``--grid train.lr=1e-3,0.001`` used to run two identical trials."""
    from neuromotif.sweep import grid

    assert [t.overrides for t in grid(["train.lr=1e-3,0.001,3e-3"])] == [("train.lr=1e-3",), ("train.lr=3e-3",)]
    assert len(grid(["model.hidden=[128],[ 128 ]", "seed=0,1"])) == 2


def test_on_ray_a_failing_item_is_reported_and_the_others_finish():
    """One trial that raises must not take a long sweep's other trials with it (found by the HW-NAS
    run: a crash of one search ended all 90 trials); without ``on_error`` the first error ends the map."""
    pytest.importorskip("ray")
    from neuromotif.sweep import map_tasks

    def tenfold(x: int) -> int:
        if x == 2:
            raise ValueError("two is refused")
        return 10 * x

    done: dict[int, int] = {}
    errors: dict[int, Exception] = {}
    out = map_tasks(tenfold, [1, 2, 3], done.__setitem__, on_error=errors.__setitem__)
    assert out == [10, None, 30] and done == {0: 10, 2: 30}
    assert list(errors) == [1] and "two is refused" in str(errors[1])
    with pytest.raises(Exception, match="two is refused"):
        map_tasks(tenfold, [2], done.__setitem__)
