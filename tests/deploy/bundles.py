"""Build small bundles directly (no training) for backend tests."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from neuromotif.deploy.bundle import Population, Projection, read_bundle, write_bundle
from neuromotif.hw_models import load_chip


def lif(name: str, n: int, du, dv, vth: int, bias_mant=0, bias_exp=0, motif: int = 1) -> Population:
    full = lambda v: np.broadcast_to(np.asarray(v, np.int64), (n,)).copy()  # noqa: E731
    return Population(name, n, "lif", motif, vth, full(du), full(dv), full(bias_mant), full(bias_exp), 1024.0)


def make_bundle(path: Path, inputs: int, pops: list[Population], projs: list[tuple],
                numeric: dict | None = None, read: bool = True):
    """``projs``: (pre, post, dense int weights (post x pre), weight_exp[, sign_mode[, delay]]);
    ``numeric``: changes to Loihi 2's numeric format (e.g. ``{"weight_bits": 4}``)."""
    populations = [Population("input", inputs, "input"), *pops]
    projections = [Projection(f"{a}->{b}", a, b, sp.csr_matrix(np.asarray(w, np.int64)), e, *rest)
                   for a, b, w, e, *rest in projs]
    fmt = {**dataclasses.asdict(load_chip("loihi2").numeric), **(numeric or {})}
    manifest = {"chip": "none", "numeric": fmt, "placement": {}, "ports": {"input": "input", "output": pops[-1].name}, "classes": pops[-1].size,
                "quantization": {"populations": {}, "projections": {}}}
    write_bundle(path, manifest, populations, projections, {p.name: np.zeros(p.size, np.int64) for p in populations})
    return read_bundle(path) if read else path


def random_bundle(path: Path, seed: int, inputs: int = 12, hidden: int = 24, outputs: int = 5, profiles: int = 3,
                  exps: tuple[int, int, int] = (1, 0, 2), numeric: dict | None = None) -> object:
    """Random recurrent net: mixed-sign even weights, given exponents, biases, several (du, dv) profiles."""
    rng = np.random.default_rng(seed)

    def weights(post, pre, density):
        w = 2 * rng.integers(-128, 128, (post, pre))
        return w * (rng.random((post, pre)) < density)
    du = rng.choice(rng.integers(0, 4096, profiles), hidden)
    dv = rng.choice(rng.integers(0, 4096, profiles), hidden)
    h = lif("h", hidden, du, dv, vth=int(rng.integers(50, 400)), bias_mant=rng.integers(-300, 300, hidden),
            bias_exp=rng.integers(0, 4, hidden))
    o = lif("out", outputs, 100, 200, vth=int(rng.integers(50, 400)))
    return make_bundle(path, inputs, [h, o], [("input", "h", weights(hidden, inputs, 0.5), exps[0]),
                                              ("h", "h", weights(hidden, hidden, 0.3), exps[1]),
                                              ("h", "out", weights(outputs, hidden, 0.5), exps[2])], numeric)
