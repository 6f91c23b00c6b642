"""A NIR graph (``nir`` 1.0.x) as the compiler's float network, with every lossy step measured.

NIR describes continuous-time neurons; the chip runs the Euler step of the chip's LIF dynamics (docs/design.md)
with time step ``dt``. Per neuron node (CubaLIF; LIF is CubaLIF without synaptic memory):

    tau_syn dI/dt = -I + w_in * input          ->  du = dt / tau_syn     (LIF: du = 1, u = input)
    tau_mem dv/dt = (v_leak - v) + r * I       ->  dv = dt / tau_mem,  bias = v_leak * dt / tau_mem
                                                   weights into it x r * w_in * (dt/tau_syn) * (dt/tau_mem)
    spike when v > v_threshold, v -> 0          ->  v in threshold units: weights, bias / v_threshold

so snnTorch's export (tau = dt / (1 - beta), r = tau_mem / dt, w_in = tau_syn / dt) maps to
du = 1 - alpha, dv = 1 - beta and unscaled weights. Linear, Affine, Scale and pass-through
nodes between neuron nodes compose into one projection; nested graphs (snnTorch's RLeaky /
RSynaptic) are flattened; recurrent cycles are allowed. What the chip cannot express exactly is
reported with its size (``ImportReport``): nonzero v_reset (the chip resets to 0), per-neuron
thresholds (one per population), Affine biases (folded into the neuron bias, exact in steady
state only), NIR Delay (the chip delays every hop by one step; other delays are refused), and
the one-step delay per feed-forward hop that NIR graphs do not have. The quantizer's own
rounding (decays, weights) is in the bundle's quantization report as for any network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from neuromotif.core.errors import InputError
from neuromotif.deploy.ir import INPUT_KIND, FloatNetwork, FloatPopulation, FloatProjection

NEURON_TYPES = ("CubaLIF", "LIF")
SNNTORCH_DT = 1e-4  # snnTorch's NIR converters assume this step
EDGE_TYPES = ("Linear", "Affine", "Scale", "Delay", "Input", "Output", "Identity")
REFUSED_HINT = {
    "LI": "the chip predicts from spike counts: replace the LI readout by a LIF",
    "CubaLI": "the chip predicts from spike counts: replace the CubaLI readout by a CubaLIF",
    "IF": "give it a membrane leak (a LIF with a long tau) or export it as a LIF",
    "I": "integrators need a neuron after them",
    "Conv1d": "flatten it into a Linear before exporting",
    "Conv2d": "flatten it into a Linear first",
    "Threshold": "fold it into a LIF's threshold",
}


@dataclass
class ImportReport:
    """Every approximation the import made, with its size; ``lines`` for the console."""

    dt: float
    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, node: str, what: str, size: str) -> None:
        self.items.append({"node": node, "what": what, "size": size})

    def lines(self) -> list[str]:
        return [f"{i['node']}: {i['what']} ({i['size']})" for i in self.items]


def read_nir_graph(path: Path):
    import nir

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such NIR file; give the .nir file written by nir.write")
    _check_size(path)
    try:
        try:
            graph = nir.read(str(path))
        except ValueError as exc:
            if "Type inference" not in str(exc):
                raise
            # Norse writes batch-of-one Input/Output types ([1, n]) that NIR's own type inference
            # rejects; the import sizes every layer from its weights and checks each shape itself
            graph = nir.read(str(path), type_check=False)
    except Exception as exc:  # h5py/nir raise many kinds on a damaged file
        raise InputError(
            f"{path} is not a readable NIR graph ({type(exc).__name__}: {exc}); write it with nir.write"
        ) from None
    _check_finite(graph, path)
    return graph


# importing broadcasts every neuron parameter to one float64 per neuron (~12 arrays) and keeps the weights
BYTES_PER_NEURON = 12 * 8


def _check_size(path: Path) -> None:
    """Refuse, before anything is read into memory, a file whose arrays (compressed on disk, or a
    neuron count declared by a shape) would not fit the memory this process has (cgroup included)."""
    import h5py

    from neuromotif.core.memory import available_memory

    need = 0.0
    try:
        with h5py.File(path, "r") as f:

            def visit(name, obj):
                nonlocal need
                if isinstance(obj, h5py.Dataset):
                    need += obj.size * obj.dtype.itemsize
                    if name.split("/")[-1] == "shape" and obj.dtype.kind in "iu" and obj.size <= 8:
                        need += float(np.prod(obj[()], dtype=np.float64)) * BYTES_PER_NEURON  # a declared size

            f.visititems(visit)
    except OSError as exc:
        raise InputError(f"{path} is not a readable NIR graph (OSError: {exc}); write it with nir.write") from None
    have = available_memory()
    if need > 0.8 * have:
        raise InputError(
            f"{path} would need about {need / 1e9:.1f} GB of memory to import and "
            f"{have / 1e9:.1f} GB are available: import a smaller network"
        )


def _check_finite(graph, path: Path) -> None:
    """Every array of every node (subgraphs included) must be finite: NaN or inf is named, not compiled."""
    import nir

    for name, node in graph.nodes.items():
        if isinstance(node, nir.NIRGraph):
            _check_finite(node, path)
            continue
        for key, value in vars(node).items():
            if isinstance(value, np.ndarray) and value.dtype.kind == "f" and not np.isfinite(value).all():
                raise InputError(f"{path}: NIR node {name!r} ({type(node).__name__}): {key} holds NaN or inf")


def _flatten(graph, prefix: str = "") -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Nested graphs -> one level; a subgraph's Input/Output nodes stay as pass-throughs."""
    import nir

    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    ports: dict[str, tuple[list[str], list[str]]] = {}
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            sub_nodes, sub_edges = _flatten(node, full + ".")
            nodes.update(sub_nodes)
            edges += sub_edges
            ins = [full + "." + n for n, v in node.nodes.items() if isinstance(v, nir.Input)]
            outs = [full + "." + n for n, v in node.nodes.items() if isinstance(v, nir.Output)]
            if not ins or not outs:
                raise InputError(f"NIR subgraph {full!r} has no Input or no Output node; give it both")
            ports[full] = (ins, outs)
        else:
            nodes[full] = node
    for src, dst in graph.edges:
        srcs = ports[prefix + src][1] if prefix + src in ports else [prefix + src]
        dsts = ports[prefix + dst][0] if prefix + dst in ports else [prefix + dst]
        edges += [(s, d) for s in srcs for d in dsts]
    return nodes, edges


def _size(node) -> int:
    for key in ("tau_mem", "tau", "v_threshold"):
        if hasattr(node, key):
            return int(np.asarray(getattr(node, key)).size)
    raise AssertionError(node)


def _shape_of(node) -> int:
    shape = node.input_type.get("input") if isinstance(node.input_type, dict) else None
    if shape is None or np.asarray(shape).size == 0:
        raise InputError("the NIR graph's Input node has no shape; write it as nir.Input(input_type=np.array([n]))")
    return int(np.prod(shape))


def _edge_map(name: str, node, report: ImportReport) -> tuple[Any, np.ndarray | None]:
    """(linear map as matrix / vector scale / None for identity, additive bias or None)."""
    kind = type(node).__name__
    if kind in ("Linear", "Affine"):
        w = np.asarray(node.weight, np.float64)
        if w.ndim != 2:
            raise InputError(f"NIR node {name!r} ({kind}): weight must be 2-D (out x in), got shape {w.shape}")
        bias = np.asarray(node.bias, np.float64) if kind == "Affine" else None
        return sp.csr_matrix(w), (bias if bias is not None and np.any(bias) else None)
    if kind == "Scale":
        return np.asarray(node.scale, np.float64), None
    if kind == "Delay":
        d = np.asarray(node.delay, np.float64)
        report.add(
            name, "NIR Delay dropped: the chip delays every hop by exactly one step", f"delays {np.unique(d).tolist()}"
        )
        if np.any(d > 1):
            raise InputError(
                f"NIR node {name!r} (Delay): delays {np.unique(d).tolist()} steps; the chip carries "
                "one step per hop: remove the Delay or fold it into the model"
            )
        return None, None
    return None, None  # Input / Output pass-through


def _compose(first, second):
    """Apply ``first`` then ``second`` (matrix, vector scale or None)."""
    if first is None:
        return second
    if second is None:
        return first
    if isinstance(second, np.ndarray) and second.ndim <= 1:
        return sp.diags(np.broadcast_to(second, (first.shape[0],))) @ first if sp.issparse(first) else first * second
    if isinstance(first, np.ndarray) and first.ndim <= 1:
        return second @ sp.diags(np.broadcast_to(first, (second.shape[1],)))
    return second @ first


def _neuron_size(name: str, node, nodes: dict[str, Any], edges: list[tuple[str, str]]) -> int:
    """Neurons in a node: its parameters' size, or, when they are scalars (Norse writes one tau
    for a whole layer), the rows of the weights feeding it or its declared output shape."""
    n = _size(node)
    if n > 1:
        return n
    for pre, post in edges:
        w = getattr(nodes.get(pre), "weight", None) if post == name else None
        if w is not None and np.ndim(w) == 2:
            return int(np.shape(w)[0])
    shape = node.output_type.get("output") if isinstance(getattr(node, "output_type", None), dict) else None
    return int(np.prod(shape)) if shape is not None and np.asarray(shape).size else n


def _population(name: str, node, dt: float, report: ImportReport, n: int) -> tuple[FloatPopulation, np.ndarray]:
    """The neuron node as a FloatPopulation of ``n`` neurons, and the per-neuron factor on every
    weight into it."""
    kind = type(node).__name__

    def arr(key: str) -> np.ndarray:
        return np.broadcast_to(np.asarray(getattr(node, key), np.float64).ravel(), (n,)).astype(np.float64)

    tau_mem = arr("tau_mem" if kind == "CubaLIF" else "tau")
    if np.any(tau_mem <= 0) or np.any(~np.isfinite(tau_mem)):
        raise InputError(f"NIR node {name!r}: tau_mem must be positive and finite")
    dv = dt / tau_mem
    if kind == "CubaLIF":
        tau_syn = arr("tau_syn")
        if np.any(tau_syn <= 0):
            raise InputError(f"NIR node {name!r}: tau_syn must be positive")
        du = dt / tau_syn
        gain = arr("r") * arr("w_in") * du * dv
    else:
        du = np.ones(n)
        gain = arr("r") * dv
    for key, value in (("du", du), ("dv", dv)):
        if np.any(value > 1):
            raise InputError(
                f"NIR node {name!r}: dt/tau = {value.max():.3g} > 1 for {key}: the Euler step is unstable;"
                f" use a smaller --dt (now {dt})"
            )
    bias = arr("v_leak") * dv
    vth_all = arr("v_threshold")
    if np.any(vth_all <= 0):
        raise InputError(f"NIR node {name!r}: v_threshold must be positive")
    vth = float(np.median(vth_all))
    if np.ptp(vth_all) > 1e-9 * vth:
        # per-neuron thresholds: scale each neuron's inputs and bias instead (v / vth is what matters)
        factor = vth / vth_all
        gain, bias = gain * factor, bias * factor
        report.add(
            name,
            "per-neuron thresholds folded into input weights and bias (one threshold per population); "
            "v is scaled per neuron",
            f"thresholds {vth_all.min():.4g}..{vth_all.max():.4g}",
        )
    v_reset = arr("v_reset")
    if np.any(v_reset != 0):
        report.add(
            name, "v_reset is not 0: the chip resets to 0", f"max |v_reset| / vth = {np.abs(v_reset).max() / vth:.3g}"
        )
    # the compiler's float units are threshold units (vth = 1): it picks the fixed-point scale itself
    pop = FloatPopulation(name, n, vth=1.0, du=du, dv=dv, bias=bias / vth)
    return pop, gain / vth


def _tau_mem(node) -> np.ndarray:
    return np.asarray(node.tau_mem if type(node).__name__ == "CubaLIF" else node.tau, np.float64).ravel()


def _implied_dt(nodes: dict[str, Any]) -> float | None:
    """The dt the neurons state: snnTorch (and our export) write r = tau_mem / dt; None when no
    neuron node says it (r = 1: a unit gain, as Norse writes) or the nodes disagree."""
    found = []
    for node in nodes.values():
        if type(node).__name__ not in NEURON_TYPES:
            continue
        r = np.asarray(node.r, np.float64).ravel()
        tau = np.broadcast_to(_tau_mem(node), r.shape)
        if np.allclose(r, 1.0) or np.any(r <= 0):
            return None
        ratio = tau / r
        if np.ptp(ratio) > 1e-6 * np.max(ratio):
            return None
        found.append(float(np.median(ratio)))
    if not found or max(found) - min(found) > 1e-6 * max(found):
        return None
    return found[0]


def resolve_dt(graph, implied: float | None, dt: float | None) -> tuple[float, str | None]:
    """Seconds per chip step: ``--dt``, checked against what the file states (its metadata dt,
    or ``implied``, the dt its neurons imply through r = tau_mem / dt: ``_implied_dt``); without
    ``--dt``, what the file states. A disagreement is refused with both numbers: a wrong dt
    silently changes every decay."""
    stated = (graph.metadata or {}).get("dt")
    stated = float(np.asarray(stated)) if stated is not None else None
    if dt is not None:
        dt = float(np.asarray(dt))
        if not (np.isfinite(dt) and dt > 0):
            raise InputError(f"--dt {dt}: must be a positive number of seconds")
        for what, value in (("its metadata dt", stated), ("r = tau_mem / dt in its neurons", implied)):
            if value is not None and abs(value - dt) > 1e-6 * value:
                raise InputError(
                    f"--dt {dt:g} disagrees with the file ({what}: {value:g} s): drop --dt or use {value:g}"
                )
        return dt, None
    if stated is not None:
        return stated, None
    if implied is not None:
        return implied, "dt read from the neurons (r = tau_mem / dt, as snnTorch writes); the metadata has none"
    raise InputError(
        "the NIR graph states no dt (no metadata dt, and r = 1 in its neurons): give the time step the "
        "network was trained with, --dt SECONDS (Norse's default is 1e-3)"
    )


def norse_tau_nodes(nodes: dict[str, Any], dt: float) -> set[str]:
    """Neuron nodes written by Norse 1.1's to_nir, which stores tau = dt / tau_inv = dt x tau. Its
    signature: every weight an Affine (Norse writes Linear layers so, zero bias included), r = 1
    and tau_mem < dt (an Euler step longer than the time constant), while tau / dt gives a stable
    step. Anything else with tau < dt is refused as unstable."""
    kinds = {type(node).__name__ for node in nodes.values()}
    if "Affine" not in kinds or "Linear" in kinds:
        return set()
    out = set()
    for name, node in nodes.items():
        if type(node).__name__ not in NEURON_TYPES:
            continue
        r, tau = np.asarray(node.r, np.float64).ravel(), _tau_mem(node)
        if np.allclose(r, 1.0) and np.all(tau < dt) and np.all(tau / dt >= dt):
            out.add(name)
    return out


def _divide_taus(node, dt: float):
    """``node`` with its time constants divided by ``dt`` (Norse's export, read as meant)."""
    import dataclasses

    if type(node).__name__ == "CubaLIF":
        return dataclasses.replace(node, tau_mem=np.asarray(node.tau_mem) / dt, tau_syn=np.asarray(node.tau_syn) / dt)
    return dataclasses.replace(node, tau=np.asarray(node.tau) / dt)


def nir_to_float_network(graph, dt: float | None = None, source: str = "nir") -> tuple[FloatNetwork, ImportReport]:
    """Flatten and translate ``graph``; ``dt`` (seconds per chip step): ``resolve_dt``."""
    import nir

    nodes, edges = _flatten(graph)
    for name, node in nodes.items():
        kind = type(node).__name__
        if kind not in NEURON_TYPES + EDGE_TYPES:
            hint = REFUSED_HINT.get(
                kind, "neuromotif imports Input, Output, Linear, Affine, Scale, Delay, LIF, CubaLIF"
            )
            raise InputError(f"NIR node {name!r} has type {kind}, which the chip cannot run: {hint}")
    implied = _implied_dt(nodes)
    dt, dt_note = resolve_dt(graph, implied, dt)
    report = ImportReport(dt)
    if dt_note:
        report.add("graph", dt_note, f"dt {dt:g} s")
    if implied is not None and abs(dt - SNNTORCH_DT) < 1e-12 and not (graph.metadata or {}).get("neuromotif"):
        report.add(
            "graph",
            "written by snnTorch (r = tau_mem / 1e-4): its neurons reset by subtracting the threshold by default, "
            "the chip resets v to 0; NIR cannot say which the file meant",
            "measured on the quickstart data: 97.5 % -> 96.1 % agreement with snnTorch",
        )
    norse = norse_tau_nodes(nodes, dt)
    top_inputs = [n for n, v in graph.nodes.items() if isinstance(v, nir.Input)]
    top_outputs = [n for n, v in graph.nodes.items() if isinstance(v, nir.Output)]
    if len(top_inputs) != 1 or len(top_outputs) != 1:
        raise InputError(
            f"the NIR graph has {len(top_inputs)} Input and {len(top_outputs)} Output nodes at its top "
            "level; neuromotif needs exactly one of each"
        )
    inp = top_inputs[0]
    pops: dict[str, FloatPopulation] = {inp: FloatPopulation("input", _shape_of(graph.nodes[inp]), INPUT_KIND)}
    gains: dict[str, np.ndarray] = {}
    for name, node in nodes.items():
        if type(node).__name__ in NEURON_TYPES:
            if name in norse:
                node = _divide_taus(node, dt)
                report.add(
                    name,
                    "Norse's to_nir writes tau = dt x tau (dt / tau_inv); taus divided by dt to read them as meant",
                    f"tau_mem {np.min(_tau_mem(nodes[name])):.3g} s -> {np.min(_tau_mem(node)):.3g} s",
                )
            pops[name], gains[name] = _population(name, node, dt, report, _neuron_size(name, node, nodes, edges))
    succ: dict[str, list[str]] = {}
    for s, d in edges:
        if s not in nodes or d not in nodes:
            raise InputError(f"NIR edge {s!r} -> {d!r} names a node that does not exist")
        succ.setdefault(s, []).append(d)
    maps = {name: _edge_map(name, node, report) for name, node in nodes.items() if name not in pops}
    weights: dict[tuple[str, str], Any] = {}
    biases: dict[str, np.ndarray] = {}
    outputs: list[str] = []

    def walk(origin: str, at: str, linear, bias, seen: tuple[str, ...]) -> None:
        for nxt in succ.get(at, []):
            if nxt in pops:
                if linear is None:
                    linear = sp.identity(pops[origin].size, format="csr")
                elif isinstance(linear, np.ndarray):
                    linear = sp.diags(np.broadcast_to(linear, (pops[origin].size,)))
                if linear.shape != (pops[nxt].size, pops[origin].size):
                    raise InputError(
                        f"NIR path {origin!r} -> {nxt!r}: weights are {linear.shape}, expected "
                        f"({pops[nxt].size}, {pops[origin].size}) (post x pre)"
                    )
                key = (origin, nxt)
                weights[key] = linear if key not in weights else weights[key] + linear
                if bias is not None:
                    biases[nxt] = biases.get(nxt, 0) + bias
            elif nxt in seen:
                raise InputError(
                    f"NIR graph has a cycle without a neuron node through {nxt!r}; every recurrent "
                    "loop must pass through a LIF or CubaLIF"
                )
            elif nxt == top_outputs[0]:
                outputs.append(origin)
            else:
                m, b = maps[nxt]
                new_bias = bias
                if new_bias is not None and m is not None:
                    new_bias = (m @ new_bias) if sp.issparse(m) else new_bias * m
                if b is not None:
                    new_bias = b if new_bias is None else new_bias + b
                walk(origin, nxt, _compose(linear, m), new_bias, seen + (nxt,))

    for origin in pops:
        walk(origin, origin, None, None, (origin,))
    if len(set(outputs)) != 1:
        raise InputError(
            f"the NIR Output must be fed by exactly one neuron node, found {sorted(set(outputs)) or 'none'}"
        )
    names = {key: ("input" if key == inp else key.replace(".", "_")) for key in pops}
    projections = []
    for (pre, post), w in weights.items():
        scaled = sp.diags(gains[post]) @ sp.csr_matrix(w)
        projections.append(FloatProjection(f"{names[pre]}->{names[post]}", names[pre], names[post], scaled))
    for post, b in biases.items():
        pop = pops[post]
        extra = np.asarray(b, np.float64) * gains[post] / pop.du
        pop.bias = pop.bias + extra
        report.add(
            post,
            "Affine bias folded into the neuron bias (exact in steady state, not in transients)",
            f"max |bias| {np.abs(extra).max():.4g} vth units",
        )
    population_list = []
    for key, pop in pops.items():
        pop.name = names[key]
        population_list.append(pop)
    hops = _hops(weights, inp, outputs[0])
    if hops:
        report.add(
            "graph",
            "every projection delays by one chip step (NIR has no such delay)",
            f"{hops} steps from input to output",
        )
    net = FloatNetwork(population_list, projections, "input", names[outputs[0]], source=source)
    return net, report


def _hops(weights: dict[tuple[str, str], Any], start: str, end: str) -> int:
    """Projections on the shortest path from ``start`` to ``end`` (0 if unreachable)."""
    frontier, seen, depth = {start}, {start}, 0
    while frontier:
        if end in frontier:
            return depth
        frontier = {post for (pre, post) in weights if pre in frontier and post not in seen}
        seen |= frontier
        depth += 1
    return 0
