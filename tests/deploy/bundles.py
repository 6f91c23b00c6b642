"""Build small bundles directly (no training) for backend tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neuromotif.deploy.synthetic_bundles import lif, make_bundle  # noqa: F401 - re-exported for the tests


def random_bundle(
    path: Path,
    seed: int,
    inputs: int = 12,
    hidden: int = 24,
    outputs: int = 5,
    profiles: int = 3,
    exps: tuple[int, int, int] = (1, 0, 2),
    numeric: dict | None = None,
) -> object:
    """Random recurrent net: mixed-sign even weights, given exponents, biases, several (du, dv) profiles."""
    rng = np.random.default_rng(seed)

    def weights(post, pre, density):
        w = 2 * rng.integers(-128, 128, (post, pre))
        return w * (rng.random((post, pre)) < density)

    du = rng.choice(rng.integers(0, 4096, profiles), hidden)
    dv = rng.choice(rng.integers(0, 4096, profiles), hidden)
    h = lif(
        "h",
        hidden,
        du,
        dv,
        vth=int(rng.integers(50, 400)),
        bias_mant=rng.integers(-300, 300, hidden),
        bias_exp=rng.integers(0, 4, hidden),
    )
    o = lif("out", outputs, 100, 200, vth=int(rng.integers(50, 400)))
    return make_bundle(
        path,
        inputs,
        [h, o],
        [
            ("input", "h", weights(hidden, inputs, 0.5), exps[0]),
            ("h", "h", weights(hidden, hidden, 0.3), exps[1]),
            ("h", "out", weights(outputs, hidden, 0.5), exps[2]),
        ],
        numeric,
        lava_rounds_weights=numeric is not None,
    )  # fewer weight bits: both backends round
