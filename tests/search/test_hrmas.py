"""HRMAS: SpiKL-IP is the gradient it claims, moves rates toward the target and revives silent
neurons; discretisation is argmax; an interrupted search resumes to the same result."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuromotif.cli import main
from neuromotif.config import load_config
from neuromotif.search.arch import NeuronParams, build_arch
from neuromotif.search.data import load_dataset
from neuromotif.search.hrmas import Search
from neuromotif.search.model import RSNN
from neuromotif.search.plasticity import SpiKLIP, rate_kl, run_ip
from neuromotif.search.supernet import SuperNet
from tests.paths import QUICKSTART


@pytest.mark.parametrize(
    "r,tau,vth,tref,mu,x",
    [
        (1.0, 64.0, 20.0, 2.0, 0.2, 25.0),
        (3.0, 10.0, 1.0, 1.0, 0.1, 0.5),
        (0.7, 5.0, 1.0, 1.0, 0.05, 2.0),
        (2.0, 20.0, 1.0, 1.0, 0.1, 0.6),
    ],
)
def test_ip_updates_are_the_negative_gradients_of_the_loss(r, tau, vth, tref, mu, x):
    ip = SpiKLIP(target_rate=mu, eta=1.0, t_ref=tref, vth=vth)
    y = ip.transfer(x, r, tau)
    d_r, d_tau = ip.updates(y, r, tau)
    e = 1e-4
    grad_r = (ip.loss(x, r + e, tau, h=1e-6 * x) - ip.loss(x, r - e, tau, h=1e-6 * x)) / (2 * e)
    grad_tau = (ip.loss(x, r, tau + e, h=1e-6 * x) - ip.loss(x, r, tau - e, h=1e-6 * x)) / (2 * e)
    assert d_r == pytest.approx(-grad_r, rel=1e-4)
    assert d_tau == pytest.approx(-grad_tau, rel=1e-4)


def _toy_population():
    model = RSNN(build_arch("feedforward", [200], 1, 50, 2, NeuronParams(du=0.25, dv=0.1)), seed=0)
    with torch.no_grad():
        model.layers[0].gain.copy_(torch.exp(torch.randn(200, generator=torch.Generator().manual_seed(0))))
        model.layers[0].gain[:20] = 0.01  # silent neurons
    gen = torch.Generator().manual_seed(1)
    return model, [(torch.rand(32, 60, 50, generator=gen) < 0.1).float() for _ in range(40)]


@torch.no_grad()
def _rates(model, x):
    return model(x, record=True)["trace"][0]["spikes"].mean(1)


def test_ip_moves_the_rate_distribution_toward_the_target_and_revives_silent_neurons():
    model, batches = _toy_population()
    ip = SpiKLIP(target_rate=0.1, eta=0.05)
    before = _rates(model, batches[0])
    assert (before[:, :20] == 0).all()
    run_ip(model, batches, ip, torch.device("cpu"))
    after = _rates(model, batches[0])
    assert rate_kl(after.flatten().numpy(), 0.1) < rate_kl(before.flatten().numpy(), 0.1) - 0.03
    assert (after[:, :20].mean(0) > 0).all(), "silent neurons were not revived"
    layer = model.layers[0]
    assert (
        (layer.gain >= 0.25).all() and (layer.gain <= 4).all() and (layer.dv >= 0.01).all() and (layer.dv <= 0.5).all()
    )


def test_an_ip_window_at_the_default_step_moves_the_mean_rate_toward_the_target():
    """Issue 25: the closed-form step applied to R itself (dR ~ 1 / R, so dR / R ~ 1 / R^2) left
    the rates where they were (a search's hidden rate stayed at 0.30 against a target of 0.1); the
    same gradient taken in ln R moves them."""
    from neuromotif.search.plasticity import from_config
    from neuromotif.search.settings import IPConfig

    def gap_after(eta: float) -> tuple[float, float]:
        model, batches = _toy_population()
        with torch.no_grad():
            model.layers[0].gain.mul_(3.0)  # an over-active population (rate well above the target)
        before = float(_rates(model, batches[0]).mean())
        run_ip(model, batches[:8], from_config(IPConfig(target_rate=0.1, eta=eta)), torch.device("cpu"))
        return before - 0.1, float(_rates(model, batches[0]).mean()) - 0.1

    before, after = gap_after(IPConfig().eta)
    assert before > 0.1 and 0 <= after < 0.5 * before, (before, after)  # half the way or more, no overshoot
    # the old step on a quickstart hidden neuron (gain 0.7, dv 0.1, rate 0.3): R moved by 0.2 %
    ip = from_config(IPConfig())
    tau = 10.0
    r = 0.7 * tau
    d_r, _ = ip.updates(np.array(0.3), np.array(r), np.array(tau))
    assert abs(d_r / r) < 0.005  # the old rule: r + d_r
    assert abs(np.expm1(r * d_r)) > 0.05  # the log step: r * exp(r * d_r)


def test_discretisation_picks_the_argmax():
    net = SuperNet(10, [16], 3, [4, 8], NeuronParams(), seed=0)
    layer = net.layers[0]
    with torch.no_grad():
        layer.beta.copy_(torch.tensor([0.0, 1.0]))  # size 8 wins
        alpha = torch.zeros(8, 24, 3)
        alpha[..., 2] = 1.0  # absent everywhere ...
        alpha[0, 8 + 1, 0] = 2.0  # ... but intra 0 <- 1 excitatory
        alpha[3, 8 + 2, 1] = 2.0  # intra 3 <- 2 inhibitory
        alpha[5, 0 + 4, 0] = 2.0  # from motif k-1: 5 <- 4 excitatory
        alpha[6, 16 + 7, 1] = 2.0  # from motif k+1 (only 2 motifs: masked out)
        layer.alpha[1].copy_(alpha)
    spec = net.derive().layers[0]
    assert spec.motif_size == 8
    expected_intra = np.zeros((8, 8), np.int8)
    expected_intra[0, 1], expected_intra[3, 2] = 1, -1
    np.testing.assert_array_equal(spec.intra, expected_intra)
    assert spec.inter_prev[5, 4] == 1 and spec.inter_prev.sum() == 1
    assert not spec.inter_next.any()  # with 2 motifs, k+1 is k-1: the second pattern is masked


TINY = [
    "data.max_samples=64",
    "model.hidden=[16]",
    "search.motif_sizes=[4, 8]",
    "search.epochs=2",
    "train.batch_size=32",
    "search.ip.window=1",
    "train.epochs=1",
    "train.ip=true",
]


def test_search_resumes_to_the_same_result(tmp_path):
    cfg = load_config(None, TINY)
    data = load_dataset(cfg.data, cfg.seed)
    straight = Search(cfg.search_job(), data, tmp_path / "a")
    arch_a = straight.run(resume=False)
    first = Search(cfg.search_job(), data, tmp_path / "b")
    first.run(resume=False, stop_after=1)  # interrupted after one iteration
    resumed = Search(cfg.search_job(), data, tmp_path / "b")
    arch_b = resumed.run(resume=True)
    assert arch_a.to_dict() == arch_b.to_dict()
    for (name, a), (_, b) in zip(straight.net.state_dict().items(), resumed.net.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    assert [h["val_accuracy"] for h in straight.history] == [h["val_accuracy"] for h in resumed.history]
    assert {"weight_loss", "arch_loss", "entropy", "size_probabilities", "chosen_motif_size"} <= set(
        straight.history[0]
    )


def test_search_cli_then_train_the_found_architecture(tmp_path, capsys):
    sets = [a for s in TINY for a in ("--set", s)]
    assert main(["search", QUICKSTART, "--out", str(tmp_path / "r"), "-q", *sets]) == 0
    assert "found hrmas" in capsys.readouterr().out
    for name in ("architecture.yaml", "history.jsonl", "checkpoint.pt", "motif_types.png", "search_history.png"):
        assert (tmp_path / "r" / "search" / name).exists(), name
    arch = tmp_path / "r" / "search" / "architecture.yaml"
    assert main(["train", QUICKSTART, "--out", str(tmp_path / "r"), "--arch", str(arch), "-q", *sets]) == 0
    assert "trained hrmas" in capsys.readouterr().out
    bad = main(
        [
            "search",
            QUICKSTART,
            "--out",
            str(tmp_path / "x"),
            "--set",
            "model.hidden=[18]",
            "--set",
            "model.motif_size=6",
            "--set",
            "search.motif_sizes=[4, 8]",
        ]
    )
    assert bad == 2 and "none divides the layer size 18" in capsys.readouterr().err


def test_warmup_freezes_the_architecture_and_history_records_the_risk(tmp_path):
    sets = ["search.warmup=1", "search.epochs=2", "search.decision=argmax"]
    cfg = load_config(None, TINY + [*sets])
    search = Search(cfg.search_job(), load_dataset(cfg.data, cfg.seed), tmp_path / "a")
    before = [p.detach().clone() for p in search.net.arch_parameters()]
    search.run(resume=False, stop_after=1)
    for a, b in zip(before, search.net.arch_parameters(), strict=True):
        torch.testing.assert_close(a, b.detach(), rtol=0, atol=0)  # warm-up: weights only
    search.run(resume=True)
    assert any(not torch.equal(a, b.detach()) for a, b in zip(before, search.net.arch_parameters(), strict=True))
    first, second = search.history
    assert first["warmup"] and not second["warmup"] and first["arch_loss"] is None
    risk = second["risk"]
    assert risk["architecture_drop"] == pytest.approx(risk["val_previous_architecture"] - risk["val_after_step1"])
    assert risk["ip_recovery"] == pytest.approx(second["val_accuracy"] - risk["val_after_step1"])
    assert len(second["rates"]) == 2
    assert second["train_accuracy"] > first["train_accuracy"]  # the weights learn (a broken weight step stays put)


def test_search_without_ip_measures_what_ip_would_recover_without_applying_it(tmp_path):
    cfg = load_config(None, TINY + ["search.ip.enabled=false", "search.epochs=1"])
    search = Search(cfg.search_job(), load_dataset(cfg.data, cfg.seed), tmp_path / "a")
    gain = search.net.layers[0].gain.detach().clone()
    search.run(resume=False)
    torch.testing.assert_close(search.net.layers[0].gain.detach(), gain)  # the counterfactual IP was undone
    risk = search.history[0]["risk"]
    assert risk["ip_recovery"] == pytest.approx(risk["val_if_ip"] - risk["val_after_step1"])


def test_gumbel_search_resumes_to_the_same_result_and_entropy_stop_ends_early(tmp_path):
    sets = TINY + [
        "search.relaxation=gumbel",
        "search.decision=argmax",
        "search.epochs=3",
    ]
    cfg = load_config(None, sets)
    data = load_dataset(cfg.data, cfg.seed)
    torch.manual_seed(123)
    straight = Search(cfg.search_job(), data, tmp_path / "a")
    arch_a = straight.run(resume=False)
    torch.manual_seed(123)
    first = Search(cfg.search_job(), data, tmp_path / "b")
    first.run(resume=False, stop_after=1)
    torch.manual_seed(999)  # another process: the checkpoint restores the sampler state
    resumed = Search(cfg.search_job(), data, tmp_path / "b")
    assert resumed.run(resume=True).to_dict() == arch_a.to_dict()
    for (name, a), (_, b) in zip(straight.net.state_dict().items(), resumed.net.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    stop = Search(load_config(None, sets + ["search.stop_entropy=5.0"]), data, tmp_path / "c")
    stop.run(resume=False)
    assert len(stop.history) == 1 and stop.stopped  # entropy (<= ln 3) is below 5 at once


def test_candidate_logits_make_the_supernet_run_one_discrete_architecture():
    net = SuperNet(10, [16], 3, [4, 8], NeuronParams(), seed=0)
    layer = net.layers[0]
    types = np.random.default_rng(0).integers(-1, 2, (8, 24)).astype(np.int8)
    logits = layer.candidate_logits(1, types)
    with torch.no_grad():
        for p, v in zip(layer.arch_parameters(), logits, strict=True):
            p.copy_(v)
    layer.temperature = 0.1
    np.testing.assert_array_equal(layer.size_probabilities().detach().numpy(), [0.0, 1.0])
    p = layer.type_probabilities(1).detach().numpy()
    np.testing.assert_array_equal(p[..., 0] - p[..., 1], types)
    spec = layer.derive()
    mask = layer.mask8.numpy().astype(np.int8)
    np.testing.assert_array_equal(spec.intra, (types * mask)[:, 8:16])


def test_architecture_risk_is_the_old_weights_under_the_new_architecture(tmp_path):
    cfg = load_config(None, TINY + ["search.epochs=1"])
    search = Search(cfg.search_job(), load_dataset(cfg.data, cfg.seed), tmp_path / "a")
    weights = {k: v.clone() for k, v in search.net.state_dict().items()}
    search.run(resume=False)
    risk = search.history[0]["risk"]
    after = {k: v.clone() for k, v in search.net.state_dict().items()}
    search.net.load_state_dict(weights)  # recompute by hand: old weights, old / new logits
    names = {id(p): n for n, p in search.net.named_parameters()}
    with search._architecture([weights[names[id(p)]] for p in search.net.arch_parameters()]):
        old_old = search._val()[0]
    with search._architecture([after[names[id(p)]] for p in search.net.arch_parameters()]):
        old_new = search._val()[0]
    assert risk["val_old_weights_old_architecture"] == old_old
    assert risk["val_old_weights_new_architecture"] == old_new
    assert risk["architecture_risk"] == pytest.approx(old_old - old_new)
