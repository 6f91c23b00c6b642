"""A compiled bundle as a NIR graph (``nir`` 1.0.x): exactly the fixed-point network the chip runs.

Every LIF population becomes a CubaLIF, every projection a Linear, in the chip's own units
(v in fixed-point units, so nothing is rescaled), with ``dt`` seconds per chip step:

    tau_syn = 4096 dt / (du + 1)     w_in = tau_syn / dt      (Lava's u keeps (4096 - du - 1) / 4096)
    tau_mem = 4096 dt / dv           r = tau_mem / dt         (v keeps (4096 - dv) / 4096)
    v_leak = bias * tau_mem / dt     bias = bias_mant << bias_exp
    v_threshold = vth << 6           v_reset = 0
    weight = W * 2^(6 + weight_exp)

so r * w_in * (dt / tau_syn) * (dt / tau_mem) = 1 and ``nir_import`` reads it back to the same
bundle. What NIR cannot say is recorded in the graph's metadata and returned as notes: the
chip's one-step delay on every projection, dv = 0 (no leak; written as a finite tau_mem of
``NO_LEAK_TAU`` steps), the 24-bit wrap of u and saturation of v, and integer truncation in
the decays (a NIR simulator integrates in floats).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuromotif.deploy.bundle import Bundle
from neuromotif.hw_models import formats
from neuromotif.hw_models.formats import DECAY_ONE, STATE_SHIFT
from neuromotif.hw_models.neurons import INPUT_KIND

NO_LEAK_TAU = 1e12  # steps: dv = DECAY_ONE / NO_LEAK_TAU rounds back to 0


@dataclass(frozen=True)
class Peer:
    """What a simulator needs of our NIR file to read it as we mean it (docs/interop.md)."""

    name: str
    dt: float | None  # the dt its readers require (None: any, default 1e-3)
    biases: str | None  # why it cannot take neuron biases (None: it can)


PEERS = {
    "generic": Peer("generic", None, None),
    # snnTorch 1.0's converters assert r = tau_mem / 1e-4 and refuse v_leak ("v_leak not supported")
    "snntorch": Peer("snntorch", 1e-4, "snnTorch's NIR import refuses v_leak ('v_leak not supported')"),
    # Norse 1.1's from_nir applies v_leak on the synapse too: the network it runs is another one
    "norse": Peer("norse", None, "Norse 1.1's from_nir also applies v_leak on the synapse (measured: 15 % agreement)"),
}
DEFAULT_DT = 1e-3


def peer_dt(bundle: Bundle, peer: str, dt: float | None) -> float:
    """The dt to write for ``peer``, refusing what it would misread: a dt its readers cannot take,
    and neuron biases where it applies them wrongly."""
    from neuromotif.core.errors import InputError

    if peer not in PEERS:
        raise InputError(f"--for {peer}: choose one of {', '.join(PEERS)}")
    p = PEERS[peer]
    if p.dt is not None and dt is not None and abs(dt - p.dt) > 1e-12:
        raise InputError(f"--for {peer} needs --dt {p.dt:g} (its readers assume it), not {dt:g}: drop --dt")
    biased = [q.name for q in bundle.neuron_populations if np.any(q.bias_mant != 0)]
    if p.biases and biased:
        raise InputError(
            f"--for {peer}: populations {', '.join(biased)} have biases and {p.biases}: train without "
            "biases, or export --for generic for a simulator that reads v_leak"
        )
    return dt if dt is not None else (p.dt or DEFAULT_DT)


def bundle_to_nir(bundle: Bundle, dt: float = 1e-3):
    """The bundle as a ``nir.NIRGraph`` and a list of notes on what NIR does not express."""
    import nir

    notes = [
        "every projection delays spikes by one chip step; NIR edges have no delay "
        "(metadata neuromotif.hop_delay_steps = 1)",
        f"u wraps at {bundle.numeric.u_bits} bits and v saturates at {bundle.numeric.v_bits} bits on the chip; "
        "NIR simulators do neither",
        "the chip truncates decays to integers; NIR simulators integrate in floating point",
    ]
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    inp = bundle.manifest["ports"]["input"]
    out = bundle.manifest["ports"]["output"]
    for pop in bundle.populations:
        if pop.kind == INPUT_KIND:
            nodes[pop.name] = nir.Input(input_type=np.array([pop.size]))
            continue
        du = pop.du.astype(np.float64)
        dv = pop.dv.astype(np.float64)
        if np.any(dv == 0):
            notes.append(
                f"{pop.name}: {int((dv == 0).sum())} neurons have dv = 0 (no leak), written as tau_mem = "
                f"{NO_LEAK_TAU:g} dt"
            )
        tau_syn = DECAY_ONE * dt / (du + 1)
        tau_mem = np.where(dv > 0, DECAY_ONE * dt / np.maximum(dv, 1e-300), NO_LEAK_TAU * dt)
        bias = pop.bias_mant.astype(np.float64) * 2.0 ** pop.bias_exp.astype(np.float64)
        nodes[pop.name] = nir.CubaLIF(
            tau_syn=tau_syn,
            tau_mem=tau_mem,
            r=tau_mem / dt,
            w_in=tau_syn / dt,
            v_leak=bias * tau_mem / dt,
            v_threshold=np.full(pop.size, formats.fixed_threshold(pop.vth)),
            v_reset=np.zeros(pop.size),
        )
    for j in bundle.projections:
        name = f"{j.pre}->{j.post}"
        w = j.weights.toarray().astype(np.float64) * 2.0 ** (STATE_SHIFT + j.weight_exp)
        nodes[name] = nir.Linear(weight=w)
        edges += [(j.pre, name), (name, j.post)]
    out_size = next(p.size for p in bundle.populations if p.name == out)
    nodes["output"] = nir.Output(output_type=np.array([out_size]))
    edges.append((out, "output"))
    nodes = {("input" if k == inp else k): v for k, v in nodes.items()}
    edges = [("input" if a == inp else a, "input" if b == inp else b) for a, b in edges]
    metadata = {
        "dt": dt,
        "neuromotif": {
            "hop_delay_steps": 1,
            "chip": bundle.manifest["chip"],
            "units": "fixed-point (v in chip units)",
            "prediction_rule": bundle.manifest.get("prediction_rule", ""),
        },
    }
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata), notes


def write_nir(bundle: Bundle, path: Path, dt: float = 1e-3) -> list[str]:
    """Write the bundle's NIR graph to ``path`` atomically; returns the notes."""
    import nir

    from neuromotif.core.io import atomic_path

    graph, notes = bundle_to_nir(bundle, dt)
    with atomic_path(Path(path)) as tmp:
        nir.write(str(tmp), graph)
    return notes
