"""Bundles built directly, without training: small hand-made networks for the backend tests and
SC-ML layers of any size for the cross-checks and benchmarks (``scml_bundle``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from neuromotif.deploy.bundle import Population, Projection, read_bundle, write_bundle
from neuromotif.hw_models import load_chip
from neuromotif.hw_models.neurons import INPUT_KIND
from neuromotif.hw_models.neurons.lif import KIND as LIF_KIND
from neuromotif.hw_models.synthetic_netlists import scml_structure


def lif(name: str, n: int, du, dv, vth: int, bias_mant=0, bias_exp=0, motif: int = 1) -> Population:
    """A LIF population; ``du``, ``dv``, ``bias_*`` scalars or one value per neuron."""
    full = lambda v: np.broadcast_to(np.asarray(v, np.int64), (n,)).copy()  # noqa: E731
    return Population(name, n, LIF_KIND, motif, vth, full(du), full(dv), full(bias_mant), full(bias_exp), 1024.0)


def make_bundle(
    path: Path,
    inputs: int,
    pops: list[Population],
    projs: list[tuple],
    numeric: dict | None = None,
    read: bool = True,
    lava_rounds_weights: bool = False,
):
    """``projs``: (pre, post, int weights (post x pre, dense or sparse), weight_exp[, sign_mode[, delay]]);
    ``numeric``: changes to Loihi 2's numeric format (e.g. ``{"weight_bits": 4}``);
    ``lava_rounds_weights``: read back weights the format cannot store (to test the backends' rounding)."""
    populations = [Population("input", inputs, INPUT_KIND), *pops]
    projections = [
        Projection(
            f"{a}->{b}", a, b, sp.csr_matrix(w if sp.issparse(w) else np.asarray(w, np.int64), dtype=np.int64), e, *rest
        )
        for a, b, w, e, *rest in projs
    ]
    chip = load_chip("loihi2")
    fmt = {**dataclasses.asdict(chip.numeric), **(numeric or {})}
    manifest = {
        "chip": chip.name,
        "chip_spec": dataclasses.asdict(chip),
        "numeric": fmt,
        "placement": {},
        "ports": {"input": "input", "output": pops[-1].name},
        "classes": pops[-1].size,
        "quantization": {"populations": {}, "projections": {}},
    }
    write_bundle(path, manifest, populations, projections, {p.name: np.zeros(p.size, np.int64) for p in populations})
    return read_bundle(path, lava_rounds_weights) if read else path


def scml_bundle(
    path: Path,
    n: int,
    motif_size: int = 16,
    inputs: int = 64,
    outputs: int = 10,
    seed: int = 0,
    p_input: float = 0.2,
    vth: int = 400,
    p_out: float = 0.3,
    rec_low: int = -64,
):
    """An SC-ML layer of ``n`` neurons (``scml_structure``: shared motif and ring-neighbour
    patterns) with random mixed-sign 8-bit weights (recurrent ones from ``2 * rec_low``), input
    and readout projections (each output from ``p_out`` of the hidden neurons; ``p_out = 0``: from
    the first motif only, a readout fed by one core); the defaults keep the hidden layer at a few
    to a few tens of percent activity (``vth`` and ``rec_low`` set it: 30 and 0 give ~97 %)."""
    rng = np.random.default_rng(seed)

    def weights(mask: sp.csr_matrix, lo: int, hi: int) -> sp.csr_matrix:
        w = mask.tocsr().astype(np.int64)
        w.data = 2 * rng.integers(lo, hi, w.nnz)
        w.eliminate_zeros()
        return w

    rec = weights(scml_structure(n, motif_size, seed=seed), rec_low, 48)
    w_in = weights(sp.random(n, inputs, p_input, random_state=seed, format="csr"), -16, 64)
    if p_out > 0:
        out_mask = sp.random(outputs, n, p_out, random_state=seed + 1, format="csr")
    else:
        out_mask = sp.lil_matrix((outputs, n))
        out_mask[:, :motif_size] = 1
    w_out = weights(out_mask, -64, 64)
    hidden = lif("h", n, 1024, 256, vth=vth, motif=motif_size)
    out = lif("out", outputs, 1024, 256, vth=vth)
    return make_bundle(
        path, inputs, [hidden, out], [("input", "h", w_in, 2), ("h", "h", rec, 1), ("h", "out", w_out, 1)]
    )
