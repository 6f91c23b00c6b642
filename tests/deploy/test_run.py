"""End to end on a tiny config: `neuromotif run`, the report's keys and their consistency."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from neuromotif.cli import main
from neuromotif.deploy.bundle import read_bundle
from tests.paths import QUICKSTART

TINY = [
    "data.max_samples=64",
    "model.hidden=[16]",
    "search.enabled=true",
    "search.motif_sizes=[4, 8]",
    "search.epochs=1",
    "search.ip.window=1",
    "train.epochs=2",
    "train.batch_size=32",
    "train.ip=true",
    "simulate.lava_samples=3",
    "simulate.divergence_samples=4",
    "compile.chip=loihi1",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    sets = [a for s in TINY for a in ("--set", s)]
    assert main(["run", QUICKSTART, "--out", str(out / "r"), "-q", *sets]) == 0
    return out / "r", sets


def test_report_has_the_design_keys(run_dir):
    out, _ = run_dir
    report = json.loads((out / "report.json").read_text())
    for key in (
        "dataset",
        "chip",
        "seed",
        "versions",
        "accuracy",
        "agreement",
        "network",
        "resources",
        "activity",
        "energy",
        "latency",
    ):
        assert key in report, key
    assert set(report["accuracy"]) >= {"float", "quantized", "fixed_cpu", "lava", "lava_samples"}
    assert set(report["agreement"]) >= {"cpu_vs_lava_spike_mismatches", "float_vs_fixed_spike_agreement"}
    assert set(report["network"]) >= {"neurons", "synapses", "motif_size", "layers"}
    assert set(report["resources"]) >= {"cores", "chips", "per_core"}
    assert set(report["activity"]) >= {"spikes_per_inference", "synops_per_inference"}
    # where the result came from (issue 28): the code, the command, the config it was computed from
    p = report["provenance"]
    assert {"commit", "dirty", "command", "machine", "versions", "date"} <= set(p)
    assert p["config_digest"] == report["inputs"]["config"] and len(p["config_digest"]) == 64
    assert p["machine"]["cores"] and p["versions"]["torch"]
    assert set(report["energy"]["breakdown"]) == {"synops", "neuron_updates", "routing", "static"}
    assert set(report["latency"]) >= {"per_step_s", "per_inference_s"}
    sync = report["synchrony"]  # every neuron population, over every simulated sample
    assert {layer["name"] for layer in report["network"]["layers"]} < set(sync)
    assert all(0 <= s["burst_fraction"] <= 1 and set(s) == {"burst_fraction", "fano", "chi"} for s in sync.values())
    assert "| population | bursts | Fano | chi |" in (out / "report.md").read_text()
    # the search section carries what IP did to the hidden layer, as history.jsonl has it
    history = [json.loads(line) for line in (out / "search" / "history.jsonl").read_text().splitlines()]
    ip = report["search"]["ip"]
    assert ip["kl_before"] == [h["ip"]["kl_before"] for h in history] and ip["rate_after"][0] is not None
    assert report["search"]["decisions"] == history[-1]["decisions"]
    assert "SpiKL-IP, first hidden layer" in (out / "report.md").read_text()
    for name in (
        "report.md",
        "raster.png",
        "accuracy.png",
        "energy.png",
        "utilisation.png",
        "placement.png",
        "search/architecture.yaml",
        "model.pt",
        "bundle/manifest.json",
    ):
        assert (out / name).exists(), name


def test_report_numbers_are_consistent(run_dir):
    out, _ = run_dir
    report = json.loads((out / "report.json").read_text())
    with np.load(out / "simulation" / "predictions.npz") as z:
        labels = z["labels"]
        for stage in ("float", "quantized", "fixed_cpu"):
            assert report["accuracy"][stage] == pytest.approx(float((z[stage] == labels).mean()))
        assert report["accuracy"]["lava"] == pytest.approx(float((z["lava"] == labels[:3]).mean()))
    e, lat = report["energy"], report["latency"]
    assert e["per_inference_J"] > 0 and lat["per_inference_s"] > 0
    assert sum(e["breakdown"].values()) == pytest.approx(e["per_inference_J"])
    assert sum(e["routing_by_hops_J"].values()) == pytest.approx(e["breakdown"]["routing"])
    assert sum(lat["breakdown_s"].values()) == pytest.approx(lat["per_inference_s"])
    assert sum(lat["per_step_series_s"]) == pytest.approx(lat["per_inference_s"])
    bundle = read_bundle(out / "bundle")
    res = report["resources"]
    assert res["cores"] == len(res["per_core"]) == bundle.manifest["placement"]["cores"]
    assert res["totals"]["compartments"] == sum(p.size for p in bundle.neuron_populations)
    assert report["network"]["synapses"] == sum(j.weights.nnz for j in bundle.projections)
    assert report["agreement"]["cpu_vs_lava_spike_mismatches"] == 0
    agree = report["agreement"]
    assert (
        agree["lava_entries_compared"] == 3 * 60 * (16 + 10)
        and 0 < agree["lava_spikes"] < agree["lava_entries_compared"]
    )
    # the torch chip precision is the fixed point: every prediction and every spike of every layer agree
    assert agree["quantized_vs_fixed_prediction_agreement"] == 1.0
    assert all(
        layer["quantized_vs_fixed_spike_agreement"] == 1.0 and layer["quantized_vs_fixed_v_rms"] == 0.0
        for layer in agree["per_layer"].values()
    )
    assert report["overflow"]["checked"] and "100.00 %" in (out / "report.md").read_text()


def test_report_rebuilds_from_stored_results_without_a_dataset_or_model(run_dir, monkeypatch):
    """``report`` only reads simulation/: with the model gone and the dataset loader broken it still works."""
    out, _ = run_dir
    from neuromotif.search import data

    monkeypatch.setattr(data, "load_dataset", lambda *a, **k: pytest.fail("report loaded the dataset"))
    before = json.loads((out / "report.json").read_text())
    moved = out / "model.pt.moved"
    (out / "model.pt").rename(moved)
    try:
        assert main(["report", str(out)]) == 0
    finally:
        moved.rename(out / "model.pt")
    after = json.loads((out / "report.json").read_text())
    assert after["accuracy"] == before["accuracy"] and after["energy"] == before["energy"]


def test_rerun_recomputes_nothing_and_report_can_switch_cost_table(run_dir, capsys):
    out, sets = run_dir
    before = json.loads((out / "report.json").read_text())
    products = [
        "search/architecture.yaml",
        "model.pt",
        "bundle/manifest.json",
        "simulation/summary.json",
        "simulation/predictions.npz",
        "report.json",
        "report.md",
    ]
    stamps = {name: (out / name).stat().st_mtime_ns for name in products}
    assert main(["run", QUICKSTART, "--out", str(out), *sets]) == 0
    err = capsys.readouterr().err
    for stage in ("search", "train", "compile", "simulate", "report"):
        assert f"{stage}: done already" in err, stage
    assert {name: (out / name).stat().st_mtime_ns for name in products} == stamps  # nothing was rewritten
    assert main(["report", str(out), "--set", "report.cost_table=davies2018"]) == 0
    after = json.loads((out / "report.json").read_text())
    assert (
        after["energy"]["cost_table"] == "davies2018"
        and after["energy"]["per_inference_J"] != before["energy"]["per_inference_J"]
    )
    assert after["accuracy"] == before["accuracy"]
    # the run's own config differs from the report's --set: a rerun rebuilds the report, simulates nothing
    assert main(["run", QUICKSTART, "--out", str(out), *sets]) == 0
    err = capsys.readouterr().err
    assert "simulate: done already" in err and "report: done already" not in err
    assert json.loads((out / "report.json").read_text())["energy"] == before["energy"]


def test_report_of_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "is not a run directory" in capsys.readouterr().err


def test_report_crosschecks_a_run_against_sanafe(run_dir):
    pytest.importorskip("sanafe", reason="make peers installs sanafe")
    out, _ = run_dir
    assert main(["report", str(out), "--crosscheck", "sana-fe", "--sample", "1", "-q"]) == 0
    r = json.loads((out / "crosscheck_sanafe.json").read_text())
    assert r["sample"] == 1 and r["events_equal"], r["events"]
    assert 0.9 <= r["time"]["pipeline_ratio"] <= 1.1
    assert (out / "crosscheck_sanafe.md").read_text().startswith("SANA-FE cross-check")
    assert main(["report", str(out), "--crosscheck", "sana-fe", "--sample", "100000", "-q"]) == 2


def test_the_report_carries_neurobench_metrics(run_dir):
    """hw_models/neurobench.py on a real run (by hand in tests/hw_models/test_neurobench.py): the
    effective ACs are the cost model's synaptic events, every count is per inference."""
    out, _ = run_dir
    report = json.loads((out / "report.json").read_text())
    nb = report["neurobench"]
    assert nb["synaptic_operations"]["effective_acs"] == pytest.approx(report["activity"]["synops_per_inference"])
    assert 0 < nb["connection_sparsity"] < 1 and 0 < nb["activation_sparsity"] < 1
    assert nb["membrane_updates"] == report["network"]["neurons"] * report["activity"]["timesteps"]
    assert "NeuroBench metrics" in (out / "report.md").read_text()


def test_a_chip_file_is_honoured_end_to_end_and_stale_results_are_never_mixed(run_dir, tmp_path, capsys):
    """A chip YAML that keeps a built-in name but 100x its synapse energy: the bundle carries the
    spec, so the report's synaptic energy is 100x (it used to reload the built-in loihi1 by name).
    After recompiling, the old simulation is refused by `report`, and `run` recompiles for its config."""
    import shutil

    import yaml

    from neuromotif.hw_models.chip import CHIP_DIR

    out, sets = run_dir
    run = tmp_path / "r"
    shutil.copytree(out, run)
    base = json.loads((run / "report.json").read_text())
    spec = yaml.safe_load((CHIP_DIR / "loihi1.yaml").read_text())
    table = spec["cost_tables"][spec["default_cost_table"]]
    table["synop"]["energy_pj"] *= 100
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(spec))
    assert main(["compile", str(run), "--chip", str(tmp_path / "mine.yaml"), "-q"]) == 0
    assert main(["report", str(run)]) == 2
    assert "simulated from another bundle" in capsys.readouterr().err
    assert main(["simulate", str(run / "bundle"), "--backend", "cpu", "-q"]) == 0
    assert main(["report", str(run)]) == 0
    mine = json.loads((run / "report.json").read_text())
    assert mine["energy"]["breakdown"]["synops"] == pytest.approx(100 * base["energy"]["breakdown"]["synops"])
    capsys.readouterr()
    assert main(["run", QUICKSTART, "--out", str(run), *sets]) == 0  # its config says loihi1: compile again
    err = capsys.readouterr().err
    assert "compiled for another chip" in err and "simulate: done already" not in err
    assert json.loads((run / "report.json").read_text())["energy"] == base["energy"]


def test_settings_of_later_stages_do_not_invalidate_the_run(run_dir, tmp_path, capsys):
    """After a Lava time-out the advice is to raise simulate.timeout_s: rerunning with it on the same
    --out used to be refused as a different config (and --force threw the training away)."""
    import shutil

    out, sets = run_dir
    run = tmp_path / "r"
    shutil.copytree(out, run)
    capsys.readouterr()
    assert (
        main(
            [
                "run",
                QUICKSTART,
                "--out",
                str(run),
                *sets,
                "--set",
                "simulate.timeout_s=900",
                "--set",
                "report.timing=analytic",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "changed only in settings of later stages" in err
    for stage in ("search", "train", "compile", "simulate"):
        assert f"{stage}: done already" in err, stage
    assert "report: done already" not in err  # the report's timing model changed: rebuilt
    assert json.loads((run / "report.json").read_text())["latency"]["model"] == "analytic"
    assert main(["run", QUICKSTART, "--out", str(run), *sets, "--set", "train.lr=0.1"]) == 2
    assert "train.lr 0.003 -> 0.1" in capsys.readouterr().err


def test_simulate_on_the_torch_backend_equals_the_cpu_backend(run_dir, tmp_path):
    out, _ = run_dir
    for backend in ("cpu", "torch"):
        assert (
            main(
                [
                    "simulate",
                    str(out / "bundle"),
                    "--backend",
                    backend,
                    "--divergence",
                    "0",
                    "-q",
                    "--out",
                    str(tmp_path / backend),
                ]
            )
            == 0
        )
    for name in ("predictions.npz", "activity.npz", "rasters.npz"):
        with np.load(tmp_path / "cpu" / name) as a, np.load(tmp_path / "torch" / name) as b:
            assert a.files == b.files and all(np.array_equal(a[k], b[k]) for k in a.files), name
    assert json.loads((tmp_path / "torch" / "summary.json").read_text())["backend"] == "torch (cpu)"


def test_any_trained_run_reaches_netx_by_compile_target(run_dir, tmp_path, capsys):
    """The export's advice is a command that works on the run: it used to say --set compile.target=netx,
    which `compile` did not take and `run` refused as a different config."""
    import shutil

    out, _ = run_dir
    run = tmp_path / "r"
    shutil.copytree(out, run)
    net = tmp_path / "n.net"
    if main(["export", str(run), "--format", "netx", "--out", str(net)]) == 2:  # exponents > 0: refused ...
        assert "neuromotif compile RUN_OR_MODEL --target netx" in capsys.readouterr().err
    assert main(["compile", str(run), "--target", "netx", "-q"]) == 0  # ... and the advice works
    manifest = json.loads((run / "bundle" / "manifest.json").read_text())
    assert manifest["target"] == "netx"
    # exponent 0 with the 1024 resolution floor clipped 16-48 % of trained weights; the scale now fits them
    assert {q["clip_fraction"] for q in manifest["quantization"]["projections"].values()} == {0.0}
    assert main(["export", str(run), "--format", "netx", "--out", str(net)]) == 0 and net.exists()


def test_report_in_realtime_mode_with_static_per_used_core(run_dir, tmp_path, capsys):
    """Both modes in report.json, the headline in the chosen one, static power of the cores in use
    only, [low, high] around every figure, and a warning with the numbers when a step outlasts its
    period."""
    src, _ = run_dir
    out = tmp_path / "r"
    shutil.copytree(src, out)
    before = json.loads((out / "report.json").read_text())
    sets = ["report.mode=realtime", "report.static=per_core", "report.step_period_ms=0.0001"]
    assert main(["report", str(out), *[a for s in sets for a in ("--set", s)]]) == 0
    err = capsys.readouterr().err
    r = json.loads((out / "report.json").read_text())
    op, rt, tp = r["operation"], r["modes"]["realtime"], r["modes"]["throughput"]
    chip = read_bundle(out / "bundle").chip
    table = chip.cost_table()
    assert (
        op["mode"] == "realtime"
        and op["static_accounting"] == "per_core"
        and op["step_period_s"] == pytest.approx(1e-7)
    )
    assert op["static_power_W"] == pytest.approx(table.static_w_per_chip * r["resources"]["cores"] / 128)
    assert (
        r["energy"]["per_inference_J"] == rt["per_inference_J"] and r["latency"]["per_inference_s"] == rt["latency_s"]
    )
    steps = r["activity"]["timesteps"]
    assert rt["window_s"] == pytest.approx(steps * 1e-7) and rt["latency_s"] >= tp["latency_s"]
    assert rt["compute_bound_steps"] > 0 and "realtime:" in err and "take longer than the step period" in err
    # the dynamic energy is the same whatever the mode; the throughput figures are the default report's
    # except for the static power, which now counts only the cores in use
    assert rt["dynamic_J"] == tp["dynamic_J"] == pytest.approx(before["modes"]["throughput"]["dynamic_J"])
    assert tp["static_J"] == pytest.approx(
        before["modes"]["throughput"]["static_J"] * r["resources"]["cores"] / 128 / r["resources"]["chips"]
    )
    e = r["energy"]
    for k, (lo, hi) in e["breakdown_bounds_J"].items():  # every component carries its range
        assert lo <= e["breakdown"][k] <= hi, k
    assert sum(lo for lo, _ in e["breakdown_bounds_J"].values()) == pytest.approx(e["bounds_J"][0])
    for m in (rt, tp):
        b = m["bounds"]
        assert b["per_inference_J"][0] < m["per_inference_J"] < b["per_inference_J"][1]
        assert b["latency_s"][0] < m["latency_s"] < b["latency_s"][1]
    md = (out / "report.md").read_text()
    assert "realtime mode, static power per core" in md and "compute-bound in" in md
    assert "realtime" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    "setting,message",
    [
        ("report.mode=batch", "report.mode"),
        ("report.static=per_tile", "report.static"),
        ("report.step_period_ms=0", "report.step_period_ms"),
    ],
)
def test_report_refuses_a_bad_operation(run_dir, setting, message, capsys):
    src, _ = run_dir
    assert main(["report", str(src), "--set", setting]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_compile_chooses_the_packing_with_the_cost_model(run_dir, tmp_path, capsys):
    """``--neurons-per-core auto``: every candidate priced on the layout the compiler builds for it,
    the cheapest (energy, then fewer cores) kept, the table printed and stored in the manifest."""
    src, _ = run_dir
    out = tmp_path / "auto"
    assert main(["compile", str(src), "--neurons-per-core", "auto", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    m = read_bundle(out).manifest
    p = m["packing"]
    fitting = [r for r in p["candidates"] if r["fits"]]
    assert len(fitting) >= 2 and "neurons/core" in err and "<- chosen" in err
    assert p["requested"] == "auto" and p["objective"] == "energy" and p["validation_samples"] > 0
    best = min(fitting, key=lambda r: (r["energy_J"], r["cores"]))
    assert p["chosen"] == best["neurons_per_core"] == m["neurons_per_core"]
    assert m["placement"]["cores"] == best["cores"]
    for r in fitting:
        fixed = tmp_path / f"n{r['neurons_per_core']}"
        extra = ["--neurons-per-core", str(r["neurons_per_core"])] if r["neurons_per_core"] else []
        assert main(["compile", str(src), "--out", str(fixed), "-q", *extra]) == 0
        assert read_bundle(fixed).manifest["placement"]["cores"] == r["cores"]
        assert r["energy_bounds_J"][0] < r["energy_J"] < r["energy_bounds_J"][1]


def test_compile_splits_the_bounding_core_when_asked_and_prints_before_and_after(run_dir, tmp_path, capsys):
    """``--set compile.split_bottleneck=true``: the pass's record in the manifest agrees with the
    bundle it wrote (its cores, a latency that only fell) and its lines are printed."""
    src, _ = run_dir
    out = tmp_path / "split"
    assert main(["compile", str(src), "--out", str(out), "--set", "compile.split_bottleneck=true"]) == 0
    err = capsys.readouterr().err
    m = read_bundle(out).manifest
    record = m["placement_pass"]
    assert record["pass"] == "split_bottleneck" and record["validation_samples"] > 0 and record["stopped"]
    last = record["splits"][-1] if record["splits"] else record["before"]
    assert m["placement"]["cores"] == record["after"]["cores"] == last["cores"]
    assert record["after"]["latency_s"] <= record["before"]["latency_s"]
    assert "bottleneck splits:" in err and "stopped:" in err
    plain = tmp_path / "plain"
    assert main(["compile", str(src), "--out", str(plain), "-q"]) == 0
    assert read_bundle(plain).manifest["placement_pass"] is None
    assert read_bundle(plain).manifest["placement"]["cores"] == record["before"]["cores"]


def test_auto_packing_refuses_when_nothing_fits_and_bad_values(run_dir, capsys):
    from neuromotif.core.errors import InputError
    from neuromotif.packing import best_packing

    rows = [{"neurons_per_core": None, "cores": 3, "fits": False, "why": "3 cores > compile.max_cores"}]
    with pytest.raises(InputError, match="no packing fits .*raise compile.max_cores"):
        best_packing(rows, "energy")
    src, _ = run_dir
    assert main(["compile", str(src), "--neurons-per-core", "lots"]) == 2
    assert "neither a positive integer nor 'auto'" in capsys.readouterr().err


def test_compile_takes_compile_and_report_settings(run_dir, tmp_path, capsys):
    src, _ = run_dir
    out = tmp_path / "b"
    sets = ["compile.neurons_per_core=auto", "compile.max_cores=3", "report.static=per_core"]
    assert main(["compile", str(src), "--out", str(out), "-q", *[a for s in sets for a in ("--set", s)]]) == 0
    p = read_bundle(out).manifest["packing"]
    assert p["max_cores"] == 3 and p["static"] == "per_core" and read_bundle(out).manifest["placement"]["cores"] <= 3
    assert all(r["cores"] > 3 for r in p["candidates"] if not r["fits"] and "cores" in r)
    assert main(["compile", str(src), "--out", str(out), "-q", "--set", "compile.target=netx"]) == 0
    assert read_bundle(out).manifest["target"] == "netx"
    capsys.readouterr()  # the model's own overflow warning
    assert main(["compile", str(src), "--out", str(out), "--set", "train.epochs=3"]) == 2
    err = capsys.readouterr().err.strip()
    assert "compile takes compile.* and report.* settings" in err and len(err.splitlines()) == 1
