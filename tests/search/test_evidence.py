"""Decisions from evidence (search/evidence.py): z-scores by hand, the ratchet, micro-batch
invariance of the measurement, and what a search with decision=evidence derives (committed
choices, else the hand-designed motif and the default size)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from neuromotif.config import load_config
from neuromotif.search.arch import default_motif
from neuromotif.search.data import load_dataset
from neuromotif.search.evidence import UNDECIDED, PairwiseEvidence
from neuromotif.search.hrmas import Search
from neuromotif.search.supernet import TYPE_CODES, default_options
from tests.search.test_hrmas import TINY as HRMAS_TINY

TINY = [*HRMAS_TINY, "search.diagnostics=false"]


def _evidence(grads: list[list[float]]) -> PairwiseEvidence:
    ev = PairwiseEvidence(*PairwiseEvidence.buffers((), 3), options=3)
    for g in grads:
        ev.add(torch.tensor(g, dtype=torch.float64))
    return ev


def test_z_scores_and_the_decision_by_hand():
    # dL/dp of (E, I, absent) over four steps: raising p_E lowers the loss, raising p_I raises it
    g_e = [-1.0, -0.8, -1.2, -1.0]
    ev = _evidence([[e, -e, 0.0] for e in g_e])
    # pair (E, I): g_I - g_E = -2 g_E = 2, 1.6, 2.4, 2 -> mean 2, sample sd sqrt(0.32 / 3), se = sd / 2
    z = 2 / (math.sqrt(0.32 / 3) / 2)
    np.testing.assert_allclose(ev.z_scores().numpy(), [z, z, -z], rtol=1e-12)  # pairs (E,I), (E,0), (I,0)
    assert int(ev.decide(3.0)) == 0 and int(ev.decide(z + 0.1)) == UNDECIDED
    assert float(ev.margin()) == pytest.approx(z)


def test_noise_without_a_mean_decides_nothing_and_identical_steps_decide():
    assert int(_evidence([[s, -s, 0.0] for s in (1.0, -1.0, 1.0, -1.0)]).decide(1.0)) == UNDECIDED
    assert int(_evidence([[0.0, 0.5, 1.0]] * 3).decide(100.0)) == 0  # se 0, every step agrees: conclusive
    assert int(_evidence([[0.0, 0.0, 0.0]] * 3).decide(0.5)) == UNDECIDED  # no gradient at all: no evidence


def test_a_decision_with_one_option_is_that_option():
    """A search without motifs has one "size" (the whole layer): its evidence has no pair to compare
    and the decision is that size. (Before: torch.stack of no pairs raised at the first step.)"""
    ev = PairwiseEvidence(*PairwiseEvidence.buffers((), 1), options=1)
    for g in ([0.3], [-0.1]):
        ev.add(torch.tensor(g, dtype=torch.float64))
    assert float(ev.count) == 2 and ev.z_scores().shape == (0,)
    assert int(ev.decide(4.0)) == 0 and float(ev.margin()) == math.inf


def test_a_search_without_motifs_measures_and_decides(tmp_path):
    search = _search(tmp_path, "full", "search.space=full", "search.warmup=1", "search.epochs=2")
    layer = search.net.search_layers()[0]
    assert layer.sizes == [layer.n]  # one motif: the whole layer, a type per connection
    search.run(resume=False)
    assert float(layer.evidence(f"types{layer.n}").count) > 0
    assert search.net.derive().layers[0].motif_size == layer.n


def _search(tmp_path, name: str, *extra: str) -> Search:
    cfg = load_config(None, TINY + [*extra])
    return Search(cfg.search_job(), load_dataset(cfg.data, cfg.seed), tmp_path / name)


def test_one_architecture_step_measures_the_same_gradient_with_any_micro_batch_count(tmp_path):
    """A measurement is the whole global batch's dL/dp: 1 and 2 micro-batches agree to rounding."""
    sums = []
    for micro in (1, 2):
        search = _search(tmp_path, f"m{micro}", f"train.micro_batches={micro}")
        search._step(search.a_opt, search.a_split, np.arange(32) % len(search.a_split))
        layer = search.net.search_layers()[0]
        assert float(layer.evidence("types8").count) == 1
        sums.append([layer.evidence(k).sums.clone() for k in ("types4", "types8", "size")])
    assert all(float(s.abs().max()) > 0 for s in sums[0])
    for a, b in zip(*sums, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-9)


def test_a_search_commits_only_what_the_evidence_carries_and_never_takes_it_back(tmp_path):
    search = _search(tmp_path, "a", "search.evidence_z=2.0", "search.warmup=1", "search.epochs=3")
    layer = search.net.search_layers()[0]
    assert float(layer.beta.detach().abs().max()) == 0  # sizes: an even mixture until one is committed
    for i, m in enumerate(layer.sizes):  # types: the hand-designed motif, exactly (one-hot; masked: absent)
        mask = getattr(layer, f"mask{m}").bool().numpy()
        expected = np.where(mask, default_options(m).numpy(), 2)
        np.testing.assert_array_equal(layer.type_probabilities(i).argmax(-1).numpy(), expected)
        assert bool((layer.type_probabilities(i).max(-1).values == 1).all())
    search.run(resume=False, stop_after=1)  # warm-up: no measurement
    assert float(layer.evidence("types8").count) == 0
    search.run(resume=True, stop_after=1)
    steps = float(layer.evidence("types8").count)
    assert steps > 0
    committed = {m: getattr(layer, f"committed{m}").clone() for m in layer.sizes}
    assert any(bool((c != UNDECIDED).any()) for c in committed.values())
    search.run(resume=True)
    assert float(layer.evidence("types8").count) > steps
    for m, before in committed.items():
        now = getattr(layer, f"committed{m}")
        assert bool((now[before != UNDECIDED] == before[before != UNDECIDED]).all()), "a commitment was undone"
        probs = layer.type_probabilities(layer.sizes.index(m))
        hot = now != UNDECIDED
        assert torch.equal(probs[hot].argmax(-1), now[hot]) and bool((probs[hot].max(-1).values == 1).all())
    spec = search.net.derive().layers[0]
    m = spec.motif_size
    size = int(layer.committed_size)
    assert m == (layer.sizes[size] if size != UNDECIDED else layer.default_size)
    committed_m = getattr(layer, f"committed{m}").numpy()
    mask = getattr(layer, f"mask{m}").numpy().astype(bool)
    types = np.concatenate([spec.inter_prev, spec.intra, spec.inter_next], axis=1)
    default = TYPE_CODES[default_options(m).numpy()]
    expected = np.where(committed_m == UNDECIDED, default, TYPE_CODES[committed_m.clip(0)]) * mask
    np.testing.assert_array_equal(types, expected)  # undecided positions keep the hand-designed motif's type
    intra, prev, _ = default_motif(m)
    assert (default[:, m : 2 * m] == intra).all() and (default[:, :m] == prev).all()


def test_evidence_refuses_the_gumbel_relaxation():
    from neuromotif.core.errors import InputError

    with pytest.raises(InputError, match="search.relaxation=mixture or search.decision=argmax"):
        load_config(None, ["search.relaxation=gumbel"])


def test_replicates_keep_only_the_choices_they_all_committed():
    from neuromotif.search.arch import NeuronParams
    from neuromotif.search.supernet import SuperNet, agreed_architecture, agreement_summary

    nets = [SuperNet(10, [32], 3, [4, 8], NeuronParams(), seed=s, decision="evidence") for s in range(2)]
    a, b = (net.search_layers()[0] for net in nets)
    with torch.no_grad():
        for layer in (a, b):
            layer.committed_size.fill_(0)  # both committed size 4
            layer.committed4[0, 4 + 1] = 1  # both: intra 0 <- 1 inhibitory (default: excitatory)
        a.committed4[1, 4 + 2] = 2  # only one replicate: intra 1 <- 2 absent
        a.committed4[2, 4 + 3], b.committed4[2, 4 + 3] = 2, 1  # they disagree
    spec = agreed_architecture(nets, "test").layers[0]
    intra, prev, nxt = default_motif(4)
    intra[0, 1] = -1  # the one agreed change; everything else the hand-designed motif
    assert spec.motif_size == 4
    np.testing.assert_array_equal(spec.intra, intra)
    np.testing.assert_array_equal(spec.inter_prev, prev)
    np.testing.assert_array_equal(spec.inter_next, nxt)
    summary = agreement_summary(nets)["layers"][0]
    assert summary["committed_size"] == [4, 4]
    assert summary["m4"] == {"changed_from_default_per_replicate": [3, 2], "agreed_changes": 1}
    with torch.no_grad():
        b.committed_size.fill_(1)  # the sizes disagree: the default (largest) size
    assert agreed_architecture(nets, "test").layers[0].motif_size == 8
