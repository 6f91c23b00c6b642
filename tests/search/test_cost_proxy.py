"""The differentiable chip-cost proxy against the exact cost model of the compiled network, its
gradients, the objective in training, and the Pareto command."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from neuromotif.cli import main
from neuromotif.config import load_config
from neuromotif.deploy.bundle import read_bundle
from neuromotif.pareto import non_dominated, trials
from neuromotif.search.cost_proxy import rsnn_proxy, supernet_proxy
from neuromotif.search.data import load_dataset
from neuromotif.search.hrmas import build_supernet
from neuromotif.search.train import load_model
from neuromotif.simulation import dataset_of
from tests.paths import QUICKSTART

TINY = [
    "data.max_samples=256",
    "model.hidden=[64]",
    "model.motif_size=8",
    "train.batch_size=32",
    "train.epochs=3",
    "search.enabled=false",
    "simulate.lava_samples=0",
    "simulate.divergence_samples=0",
    "report.plots=false",
]


def _sets(extra):
    return [a for s in TINY + extra for a in ("--set", s)]


@pytest.mark.parametrize("spread", [None, 16])
def test_proxy_is_within_15_percent_of_the_exact_cost_model(tmp_path, spread):
    extra = [f"compile.neurons_per_core={spread}"] if spread else []
    assert main(["run", QUICKSTART, "--out", str(tmp_path / "r"), "-q", *_sets(extra)]) == 0
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    model, _ = load_model(tmp_path / "r" / "model.pt")
    data, _ = dataset_of(read_bundle(tmp_path / "r" / "bundle"))
    _, cost = rsnn_proxy(model, "loihi2", neurons_per_core=spread)
    x = torch.from_numpy(data.test.spikes()).float()
    with torch.no_grad():
        c = cost(x, model(x, record=True)["trace"])
    energy = float(c["energy_uJ"]) / (report["energy"]["per_inference_J"] * 1e6)
    latency = float(c["latency_ms"]) / (report["latency"]["per_inference_s"] * 1e3)
    assert 0.85 <= energy <= 1.15 and 0.85 <= latency <= 1.15, (energy, latency)
    assert float(c["cores"]) == report["resources"]["cores"]
    if spread:
        assert report["resources"]["cores"] > 2  # the layer is spread over more cores
        return
    # realtime with static power per used core, at a period short enough that some steps fall behind
    period_ms = 0.5 * report["latency"]["per_step_s"] * 1e3
    sets = ["report.mode=realtime", "report.static=per_core", f"report.step_period_ms={period_ms}"]
    assert main(["report", str(tmp_path / "r"), *[a for s in sets for a in ("--set", s)]]) == 0
    rt = json.loads((tmp_path / "r" / "report.json").read_text())
    assert rt["modes"]["realtime"]["compute_bound_steps"] > 0
    operation = load_config(QUICKSTART, sets).report.operation(None)
    _, cost = rsnn_proxy(model, "loihi2", operation=operation)
    with torch.no_grad():
        c = cost(x, model(x, record=True)["trace"])
    energy = float(c["energy_uJ"]) / (rt["energy"]["per_inference_J"] * 1e6)
    latency = float(c["latency_ms"]) / (rt["latency"]["per_inference_s"] * 1e3)
    assert 0.85 <= energy <= 1.15 and 0.85 <= latency <= 1.15, (energy, latency)


def test_supernet_proxy_gives_the_architecture_a_cost_gradient():
    # the relaxed search's logits (with decision=evidence they are one-hot and the cost reaches the
    # choices through dL/dp, which test_evidence measures)
    sets = ["data.max_samples=64", "model.hidden=[32]", "search.motif_sizes=[4, 8]", "search.decision=argmax"]
    cfg = load_config(QUICKSTART, sets)
    data = load_dataset(cfg.data, 0)
    net = build_supernet(cfg.search_job(), data.info)
    _, cost = supernet_proxy(net, "loihi2")
    x = torch.from_numpy(data.train.spikes(np.arange(16))).float()
    c = cost(x, net(x, record=True)["trace"])
    c["energy_uJ"].backward()
    layer = net.layers[0]
    assert float(layer.beta.grad.abs().sum()) > 0  # motif size sees the cost
    # making every position absent lowers the synaptic part: the types see it with the right sign
    assert all(float(a.grad[..., 2].sum()) < 0 for a in layer.alpha)
    # decision=evidence: the same cost reaches the measured dL/dp of every choice
    cfg = load_config(QUICKSTART, sets[:-1])
    net = build_supernet(cfg.search_job(), data.info)
    layer = net.layers[0]
    layer.collecting = True
    _, cost = supernet_proxy(net, "loihi2")
    cost(x, net(x, record=True)["trace"])["energy_uJ"].backward()
    assert set(layer._captured) == {"types4", "types8", "size"}
    assert all(float(layer._captured[f"types{m}"][..., 2].sum()) < 0 for m in (4, 8))  # absent is cheaper


def test_an_energy_weight_lowers_the_proxy_energy_of_training(tmp_path):
    assert main(["train", QUICKSTART, "--out", str(tmp_path / "a"), "-q", *_sets([])]) == 0
    assert (
        main(
            [
                "train",
                QUICKSTART,
                "--out",
                str(tmp_path / "b"),
                "-q",
                *_sets(["train.objective.energy=0.5", "train.objective.rate=1.0"]),
            ]
        )
        == 0
    )
    plain = [json.loads(line) for line in (tmp_path / "a" / "train" / "history.jsonl").read_text().splitlines()]
    costed = [json.loads(line) for line in (tmp_path / "b" / "train" / "history.jsonl").read_text().splitlines()]
    assert "chip_cost" not in plain[-1]
    assert costed[-1]["chip_cost"]["energy_uJ"] < costed[0]["chip_cost"]["energy_uJ"]
    assert (
        costed[-1]["chip_cost"]["rate"] < 0.5 * costed[0]["chip_cost"]["rate"] or costed[-1]["chip_cost"]["rate"] < 0.05
    )


def reference_front(rows: list[dict]) -> list[bool]:
    """Independent non-dominance, written from the definition on vectors to maximise
    (accuracy, -energy, -latency, -cores): b dominates a when b >= a everywhere and b != a."""
    vec = [np.array([r["accuracy_fixed"], -r["energy_uJ"], -r["latency_ms"], -r["cores"]]) for r in rows]
    return [not any(np.all(b >= a) and np.any(b > a) for j, b in enumerate(vec) if j != i) for i, a in enumerate(vec)]


def test_pareto_trials_are_named_by_their_weights():
    t = trials(["energy=0,0.01", "latency=0.5"])
    assert [x.name for x in t] == ["accuracy-only", "energy-0.01", "latency-0.5"]
    assert t[1].overrides == ("search.objective.energy=0.01", "train.objective.energy=0.01")


def test_dominance_uses_every_objective():
    """Each row below is dominated (or not) through one objective only: a dominance check that
    ignored accuracy, energy, latency or cores gets one of them wrong."""
    base = {"accuracy_fixed": 0.9, "energy_uJ": 10.0, "latency_ms": 1.0, "cores": 4}
    rows = [
        base,
        {**base, "accuracy_fixed": 0.8},
        {**base, "energy_uJ": 11.0},
        {**base, "latency_ms": 1.5},
        {**base, "cores": 5},
        {**base, "accuracy_fixed": 0.95, "cores": 9},
        dict(base),
    ]
    assert non_dominated(rows) == [True, False, False, False, False, True, True]  # equal points dominate nothing
    assert non_dominated(rows) == reference_front(rows)


@pytest.mark.parametrize("seed", range(20))
def test_dominance_matches_the_definition_on_random_fronts(seed):
    """12 points on coarse grids (ties in every objective); most seeds give a partial front."""
    rng = np.random.default_rng(seed)
    rows = [
        {
            "accuracy_fixed": float(rng.choice([0.8, 0.85, 0.9])),
            "energy_uJ": float(rng.integers(5, 9)),
            "latency_ms": float(rng.integers(1, 4)),
            "cores": int(rng.integers(1, 4)),
        }
        for _ in range(12)
    ]
    assert non_dominated(rows) == reference_front(rows)


@pytest.mark.parametrize(
    "lambdas,expected",
    [("power=1", "unknown objective 'power'"), ("energy=-1", ">= 0"), ("energy=x", "is not a number")],
)
def test_bad_lambdas_exit_2(tmp_path, capsys, lambdas, expected):
    assert main(["pareto", QUICKSTART, "--lambdas", lambdas, "--out", str(tmp_path / "p")]) == 2
    assert expected in capsys.readouterr().err


@pytest.mark.slow
def test_pareto_command_writes_the_front_from_compiled_runs(tmp_path):
    extra = ["train.epochs=1", "model.hidden=[16]", "data.max_samples=64"]
    assert (
        main(
            [
                "pareto",
                QUICKSTART,
                "-q",
                *_sets(extra),
                "--lambdas",
                "energy=0.5",
                "--grid",
                "compile.neurons_per_core=16,8",
                "--out",
                str(tmp_path / "p"),
            ]
        )
        == 0
    )
    written = json.loads((tmp_path / "p" / "pareto.json").read_text())
    points = written["points"]
    assert {"commit", "dirty", "command", "machine", "versions", "date"} <= set(written["provenance"])
    assert len(points) == 4 and [p["pareto"] for p in points] == reference_front(points)
    for p in points:  # every number is the run's own report (exact cost model), not the proxy
        report = json.loads((tmp_path / "p" / p["trial"] / "report.json").read_text())
        assert p["energy_uJ"] == pytest.approx(report["energy"]["per_inference_J"] * 1e6)
        assert p["accuracy_fixed"] == report["accuracy"]["fixed_cpu"]
    assert (tmp_path / "p" / "pareto.png").exists() and "accuracy-only__neurons_per_core-16" in (
        tmp_path / "p" / "pareto.md"
    ).read_text()
