"""Compile a trained model, read bundles back, refuse damaged ones, and the CLI verbs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from neuromotif.cli import main
from neuromotif.config import load_config
from neuromotif.deploy.backends.cpu import CPUBackend
from neuromotif.deploy.bundle import BundleError, read_bundle
from neuromotif.deploy.divergence import spike_mismatches
from neuromotif.search.train import evaluate, load_model
from neuromotif.simulation import dataset_of
from neuromotif.stages import compile_checkpoint as compile_model
from neuromotif.stages import train_model

TINY = ["data.max_samples=64", "model.hidden=[32]", "model.motif_size=8", "train.batch_size=32", "train.epochs=2"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    cfg = load_config(None, TINY)
    train_model(cfg, out)
    return out


def test_compile_writes_a_verified_bundle(trained, tmp_path):
    bundle, mapping = compile_model(trained, "loihi1", tmp_path / "b")
    m = bundle.manifest
    assert m["format"] == "neuromotif-bundle" and m["chip"] == "loihi1" and len(m["source"]["sha256"]) == 64
    assert [p.name for p in bundle.populations] == ["input", "scml0", "readout"]
    assert m["placement"]["cores"] == len(mapping.cores) and m["placement"]["totals"]["compartments"] == 42
    for j in bundle.projections:
        assert (j.weights.data % 2 == 0).all() and j.weight_exp >= 0  # mixed sign: even; exponents never negative
        assert np.abs(j.weights.data).max() <= 254
    assert set(bundle.neuron_core) == {"input", "scml0", "readout"} and (bundle.neuron_core["input"] == -1).all()


def test_fixed_point_matches_the_torch_chip_precision_exactly(trained, tmp_path):
    bundle, _ = compile_model(trained, "loihi2", tmp_path / "b")
    data, _ = dataset_of(bundle)
    model, _ = load_model(trained / "model.pt")
    fixed = CPUBackend(bundle).run(data.test.spikes())
    chip = evaluate(model, data.test, __import__("torch").device("cpu"), "chip")
    np.testing.assert_array_equal(fixed.counts, chip["counts"])  # every output spike count, every sample


def test_a_chip_yaml_with_4_bit_weights_and_16_bit_thresholds_compiles_and_runs_bit_exactly(trained, tmp_path):
    """The chip's numeric section is the single source: quantization reads it, the bundle records
    it, and both backends compute with it (zero CPU/Lava spike mismatches)."""
    from neuromotif.deploy.backends.lava import LavaBackend

    chip = yaml.safe_load((Path(__file__).parents[2] / "hw_models" / "chips" / "loihi2.yaml").read_text())
    chip["name"] = "small4"
    chip["numeric"].update(weight_bits=4, vth_bits=16)
    (tmp_path / "small4.yaml").write_text(yaml.safe_dump(chip))
    bundle, _ = compile_model(trained, str(tmp_path / "small4.yaml"), tmp_path / "b")
    assert bundle.numeric.weight_bits == 4 and bundle.manifest["numeric"]["vth_bits"] == 16
    for j in bundle.projections:
        assert (
            (j.weights.data % 32 == 0).all() and -256 <= j.weights.data.min() and j.weights.data.max() <= 224
        )  # -8, 7 << 5
    assert all(0 < p.vth < 2**16 for p in bundle.neuron_populations)
    data, _ = dataset_of(bundle)
    x = data.test.spikes(np.arange(4))
    names = tuple(p.name for p in bundle.neuron_populations)
    cpu = CPUBackend(bundle).run(x, record=names)
    lava = LavaBackend(bundle, timeout_s=300).run(x, record=names)
    assert cpu.spikes["scml0"].sum() > 0 and spike_mismatches(cpu.spikes, lava.spikes) == 0
    np.testing.assert_array_equal(cpu.counts, lava.counts)


@pytest.mark.parametrize(
    "damage,expected",
    [
        (lambda b: (b / "manifest.json").unlink(), "no manifest.json"),
        (lambda b: (b / "manifest.json").write_text("{not json"), "not valid JSON"),
        (lambda b: _edit(b, format="something-else"), "not a neuromotif bundle"),
        (lambda b: _edit(b, format_version=99), "format version 99 is not supported"),
        (lambda b: (b / "proj_scml0__scml0.npz").write_bytes(b"\0" * 10), "checksum mismatch in proj_scml0__scml0.npz"),
        (lambda b: (b / "placement.npz").unlink(), "placement.npz is missing"),
        (lambda b: shutil.rmtree(b), "is not a directory"),
    ],
)
def test_damaged_or_foreign_bundles_are_refused(trained, tmp_path, damage, expected, capsys):
    compile_model(trained, "loihi1", tmp_path / "b")
    damage(tmp_path / "b")
    with pytest.raises(BundleError) as err:
        read_bundle(tmp_path / "b")
    assert expected in str(err.value) and "\n" not in str(err.value)
    assert main(["inspect", str(tmp_path / "b")]) == 2
    assert expected in capsys.readouterr().err


def _edit(bundle: Path, **changes):
    m = json.loads((bundle / "manifest.json").read_text())
    m.update(changes)
    (bundle / "manifest.json").write_text(json.dumps(m))


def test_rewriting_a_bundle_is_atomic_and_leaves_no_temporaries(trained, tmp_path):
    compile_model(trained, "loihi1", tmp_path / "b")
    compile_model(trained, "loihi2", tmp_path / "b")
    assert read_bundle(tmp_path / "b").manifest["chip"] == "loihi2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_cli_compile_simulate_inspect(trained, tmp_path, capsys):
    assert main(["compile", str(trained), "--chip", "loihi2", "--out", str(tmp_path / "b"), "-q"]) == 0
    assert "compiled" in capsys.readouterr().out
    assert main(["simulate", str(tmp_path / "b"), "--samples", "20", "--divergence", "4"]) == 0
    result = json.loads((tmp_path / "simulation" / "summary.json").read_text())
    assert result["samples"] == 20
    with np.load(tmp_path / "simulation" / "predictions.npz") as z:
        assert result["accuracy"]["fixed_cpu"] == float((z["fixed_cpu"] == z["labels"]).mean())
        assert (z["quantized"] == z["fixed_cpu"]).all()  # torch chip precision (torch) = fixed point (numpy)
    assert result["model"] == str((trained / "model.pt").resolve())  # found from another directory
    assert result["divergence"]["layers"]["scml0"]["quantized_vs_fixed_spike_agreement"] > 0.99
    with np.load(tmp_path / "simulation" / "rasters.npz") as z:
        assert set(z.files) == {"input", "scml0", "readout"} and z["scml0"].shape == (60, 32)
    assert main(["inspect", str(tmp_path / "b")]) == 0
    assert "input->scml0" in capsys.readouterr().out


def test_cli_compile_bad_inputs(trained, tmp_path, capsys):
    tiny = yaml.safe_load((Path(__file__).parents[2] / "hw_models" / "chips" / "loihi1.yaml").read_text())
    tiny["core"]["max_compartments"] = 4
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(tiny))
    cases = {
        "no model": (["compile", str(tmp_path / "nothing")], "no model to compile"),
        "unknown chip": (["compile", str(trained), "--chip", "loihi7"], "unknown chip 'loihi7'"),
        "motif too big for the chip": (
            ["compile", str(trained), "--chip", str(tmp_path / "tiny.yaml"), "--out", str(tmp_path / "x")],
            "use motifs of at most 4 neurons",
        ),
        "not a model file": (["compile", str(tmp_path / "tiny.yaml")], "not a readable model checkpoint"),
        "bundle missing": (["simulate", str(tmp_path / "none")], "bundle not found"),
    }
    for case, (argv, expected) in cases.items():
        assert main(argv) == 2, case
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1, (case, err)


def test_a_moved_run_directory_still_finds_its_model(trained, tmp_path, capsys):
    """The bundle records the model's absolute path; when the run directory moves, the model
    beside the bundle (same SHA-256) is used instead."""
    run = tmp_path / "run"
    shutil.copytree(trained, run, ignore=shutil.ignore_patterns(".lock", "bundle"))
    assert main(["compile", str(run), "-q"]) == 0
    moved = tmp_path / "elsewhere"
    run.rename(moved)
    assert main(["simulate", str(moved / "bundle"), "--samples", "4", "--divergence", "2", "-q"]) == 0
    summary = json.loads((moved / "simulation" / "summary.json").read_text())
    assert summary["model"] == str(moved / "model.pt") and "divergence" in summary


def test_design_rule_messages_carry_units():
    from neuromotif.hw_models.errors import DesignRuleError

    err = DesignRuleError("synapse memory per core", "core 3", 94.4e6, 1572864, "fix it", "bits")
    assert "needs 94.4 M bits; allowed 1.57 M bits" in str(err)
    assert "needs 1,300 compartments; allowed 1,024 compartments" in str(
        DesignRuleError("compartments per core", "a motif", 1300, 1024, "fix", "compartments")
    )
    assert "needs 3 chips; allowed 2 chips" in str(DesignRuleError("chips per system", "net", 3, 2, "fix", "chips"))


def test_a_qat_model_compiled_for_another_number_format_gets_a_warning(tmp_path, capsys):
    """Quantization-aware training learns the chip's rounding; compiling for a 4-bit chip throws that
    away: said once, with what changed and the fix (it used to pass in silence)."""
    cfg = load_config(None, TINY + ["train.qat_epochs=1"])
    train_model(cfg, tmp_path / "run")
    chip = yaml.safe_load((Path(__file__).parents[2] / "hw_models" / "chips" / "loihi2.yaml").read_text())
    chip["numeric"]["weight_bits"] = 4
    (tmp_path / "small4.yaml").write_text(yaml.safe_dump(chip))
    capsys.readouterr()
    compile_model(tmp_path / "run", str(tmp_path / "small4.yaml"), tmp_path / "b")
    err = capsys.readouterr().err
    assert "quantization-aware epochs for another number format (weight_bits 8 -> 4)" in err
    compile_model(tmp_path / "run", "loihi2", tmp_path / "b2")  # the format it was trained for: no warning
    assert "quantization-aware" not in capsys.readouterr().err
