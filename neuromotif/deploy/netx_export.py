"""A compiled bundle as a lava-dl netx network (HDF5), for ``lava.lib.dl.netx.hdf5.Network``.

netx describes a chain of blocks: ``input`` (shape only), then ``dense`` / ``dense_rec``
(a layer's input weights and, for ``dense_rec``, its recurrent weights) each with CUBA neurons
(``iDecay`` = du + 1, ``vDecay`` = dv, per neuron or one value, ``vThMant`` = vth) and a bias
whose exponent netx fixes at 6. netx picks each block's weight exponent itself
(``optimize_weight_bits``: weights clipped to [-256, 254], one exponent shared by W and W_rec).
So a bundle exports exactly only when:
  - it is a chain input -> layer -> ... -> readout, each layer fed by the one before and
    recurrent only onto itself;
  - every weight, W x 2^weight_exp, lies in [-256, 254] (always true at weight exponent 0:
    compile with ``compile.target: netx``);
  - every bias is a multiple of 2^6 with a mantissa that fits 13 bits;
  - sign modes are mixed and weights 8-bit (netx's Dense).
Anything else is refused naming the field and value (``NetxError``), never exported inexactly.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from neuromotif.core.errors import InputError
from neuromotif.deploy.bundle import Bundle
from neuromotif.hw_models import formats

NETX_BIAS_EXP = 6  # netx's fixed bias exponent
NETX_BIAS_MANT_BITS = 13  # netx's signed bias mantissa
NETX_WEIGHT_BITS = 8  # netx's Dense stores 8-bit weights: -256..254 as Lava keeps them (formats)


class NetxError(InputError):
    """The bundle holds something netx cannot carry exactly."""


def _chain(bundle: Bundle) -> list[str]:
    """LIF populations in feed-forward order, checking that the network is a netx chain."""
    inp = bundle.manifest["ports"]["input"]
    feeds: dict[str, str] = {}
    for j in bundle.projections:
        if j.pre == j.post:
            continue
        if j.pre in feeds:
            raise NetxError(f"population {j.pre} feeds both {feeds[j.pre]} and {j.post}: netx carries chains only")
        feeds[j.pre] = j.post
    order, at = [], inp
    while at in feeds:
        at = feeds[at]
        order.append(at)
    lifs = {p.name for p in bundle.neuron_populations}
    if set(order) != lifs or order[-1] != bundle.manifest["ports"]["output"]:
        raise NetxError("the bundle is not a chain input -> layers -> readout: netx carries chains only")
    return order


def _weights(bundle: Bundle, name: str) -> np.ndarray:
    j = next(j for j in bundle.projections if j.name == name)
    if j.sign_mode != "mixed":
        raise NetxError(f"projection {name}: sign mode {j.sign_mode}; netx writes mixed-sign weights only")
    w = j.weights.toarray().astype(np.int64) << j.weight_exp
    lo, hi = formats.stored_weight_range(bundle.numeric)
    if w.min(initial=0) < lo or w.max(initial=0) > hi:
        raise NetxError(
            f"projection {name}: weight_exp {j.weight_exp} makes weights reach "
            f"{int(w.min())}..{int(w.max())}, outside netx's {lo}..{hi}: compile it with "
            "`neuromotif compile RUN_OR_MODEL --target netx` (weight exponent 0)"
        )
    return w


def check_netx(bundle: Bundle) -> list[str]:
    """Refuse (``NetxError``) what netx cannot express; returns the chain of populations."""
    if bundle.manifest["numeric"]["weight_bits"] != NETX_WEIGHT_BITS:
        raise NetxError(
            f"numeric.weight_bits = {bundle.manifest['numeric']['weight_bits']}: netx's Dense stores 8-bit "
            "weights; compile for an 8-bit chip"
        )
    order = _chain(bundle)
    for j in bundle.projections:
        _weights(bundle, j.name)
    for name in order:
        pop = bundle.population(name)
        bias = pop.bias_mant.astype(np.int64) << pop.bias_exp.astype(np.int64)
        if np.any(bias % (1 << NETX_BIAS_EXP)):
            bad = int(np.flatnonzero(bias % (1 << NETX_BIAS_EXP))[0])
            raise NetxError(
                f"population {name}: bias {int(bias[bad])} (neuron {bad}) is not a multiple of "
                f"2^{NETX_BIAS_EXP}, netx's fixed bias exponent"
            )
        if np.any(np.abs(bias >> NETX_BIAS_EXP) >= 1 << (NETX_BIAS_MANT_BITS - 1)):
            raise NetxError(
                f"population {name}: a bias needs more than netx's {NETX_BIAS_MANT_BITS}-bit mantissa "
                f"at exponent {NETX_BIAS_EXP}"
            )
    return order


def write_netx(bundle: Bundle, path: Path) -> list[str]:
    """Write the bundle as a netx HDF5 file (atomically); returns notes for the user."""
    from neuromotif.core.io import atomic_path

    order = check_netx(bundle)
    inp = bundle.manifest["ports"]["input"]
    notes = []
    with atomic_path(Path(path)) as tmp, h5py.File(tmp, "w") as f:
        layers = f.create_group("layer")
        first = layers.create_group("0")
        first.create_dataset("type", data=np.array([b"input"]))
        first.create_dataset("shape", data=np.array([bundle.population(inp).size]))
        pre = inp
        for k, name in enumerate(order, start=1):
            pop = bundle.population(name)
            g = layers.create_group(str(k))
            rec_name = f"{name}->{name}"
            recurrent = any(j.name == rec_name for j in bundle.projections)
            g.create_dataset("type", data=np.array([b"dense_rec" if recurrent else b"dense"]))
            g.create_dataset("shape", data=np.array([pop.size]))
            g.create_dataset("weight", data=_weights(bundle, f"{pre}->{name}"))
            if recurrent:
                g.create_dataset("weight_rec", data=_weights(bundle, rec_name))
            bias = (pop.bias_mant.astype(np.int64) << pop.bias_exp.astype(np.int64)) >> NETX_BIAS_EXP
            if np.any(bias):
                g.create_dataset("bias", data=bias)
            neuron = g.create_group("neuron")
            neuron.create_dataset("type", data=np.array([b"CUBA"]))
            one = lambda a: a[:1] if np.all(a == a[0]) else a  # noqa: E731 - one value when shared
            neuron.create_dataset("iDecay", data=one(pop.du.astype(np.int64) + 1))
            neuron.create_dataset("vDecay", data=one(pop.dv.astype(np.int64)))
            neuron.create_dataset("vThMant", data=np.array([pop.vth]))
            neuron.create_dataset("refDelay", data=np.array([1]))
            neuron.create_dataset("gradedSpike", data=np.array([False]))
            if len(np.unique(pop.dv)) > 1:
                notes.append(f"{name}: {len(np.unique(pop.dv))} decay profiles written as a per-neuron vDecay array")
            pre = name
    return notes
