"""Independent float references for the NIR tests: a plain numpy loop of the chip's LIF dynamics (docs/design.md)
over a ``FloatNetwork``, and snnTorch networks trained briefly and exported with snnTorch's own
``export_to_nir`` (also read by ``benchmarks/bench_interop.py``)."""

from __future__ import annotations

import numpy as np


def run_float(net, x: np.ndarray, hop_delay: bool = True, record: dict | None = None) -> np.ndarray:
    """Output spike counts [B, classes] of ``net`` on spikes ``x`` [B, T, inputs], float64, with
    the chip's semantics: every projection delays by one step, v resets to 0 on a spike.
    ``hop_delay=False``: a projection from a population updated earlier in the step (the input,
    a previous layer) delivers in the same step, as NIR executors without delays run a file; a
    recurrence still delivers a step later. ``record``: filled with every population's spikes,
    [T * B, size] (steps major)."""
    lifs = [p for p in net.populations if p.kind == "lif"]
    s = {p.name: np.zeros((x.shape[0], p.size)) for p in net.populations}
    u = {p.name: np.zeros((x.shape[0], p.size)) for p in lifs}
    v = {p.name: np.zeros((x.shape[0], p.size)) for p in lifs}
    counts = 0
    for t in range(x.shape[1]):
        new = {net.input: x[:, t].astype(np.float64)}
        for p in lifs:
            a = sum(
                j.weights.dot((s if hop_delay or j.pre not in new else new)[j.pre].T).T for j in net.inputs_to(p.name)
            )
            u[p.name] = u[p.name] * (1 - p.du) + a
            v[p.name] = v[p.name] * (1 - p.dv) + u[p.name] + p.bias
            spikes = v[p.name] > p.vth
            v[p.name][spikes] = 0
            new[p.name] = spikes.astype(np.float64)
        s = new
        counts = counts + s[net.output]
        if record is not None:
            for name, spikes in s.items():
                record.setdefault(name, []).append(spikes)
    if record is not None:
        record.update({name: np.concatenate(steps) for name, steps in record.items()})
    return counts


def run_snntorch_modules(graph, x: np.ndarray, hop_delay: bool) -> np.ndarray:
    """Our exported graph (input, CubaLIF populations in a chain, each fed by Linear nodes named
    ``pre->post``, recurrent ones included) run by snnTorch's own node converters
    (``snntorch.import_nir._nir_to_snntorch_module``) in an explicit time loop; ``hop_delay``: every
    projection delivers a step later, as on the chip; without it a projection from the input or an
    earlier layer delivers in the same step and a recurrence a step later. (snnTorch's
    ``import_from_nir`` builds a nirtorch executor whose recurrent state is wrong with nirtorch 2.6:
    15 % accuracy where these modules give the chip's.)"""
    import torch
    from snntorch.import_nir import _nir_to_snntorch_module

    order, at = [], "input"  # populations along the chain from the input to the readout
    while True:
        nxt = [k.split("->")[1] for k in graph.nodes if k.startswith(f"{at}->") and k.split("->")[1] != at]
        if not nxt:
            break
        at = nxt[0]
        order.append(at)
    mods = {
        k: _nir_to_snntorch_module(v, init_hidden=False)
        for k, v in graph.nodes.items()
        if type(v).__name__ in ("Linear", "CubaLIF")
    }
    incoming = {p: [k.split("->")[0] for k in graph.nodes if k.endswith(f"->{p}")] for p in order}
    xt = torch.from_numpy(x).float()
    sizes = {p: mods[f"{incoming[p][0]}->{p}"].weight.shape[0] for p in order}
    state = {p: list(mods[p].init_synaptic()) for p in order}
    spikes = {"input": torch.zeros_like(xt[:, 0]), **{p: torch.zeros(x.shape[0], sizes[p]) for p in order}}
    counts = 0
    with torch.no_grad():
        for t in range(x.shape[1]):
            now = {"input": xt[:, t]}
            for p in order:
                current = sum(
                    mods[f"{pre}->{p}"](spikes[pre] if hop_delay or pre not in now else now[pre]) for pre in incoming[p]
                )
                spk, *state[p] = mods[p](current, *state[p])
                now[p] = spk
            spikes = now
            counts = counts + spikes[order[-1]]
    return counts.numpy()


def train_on_counts(params, forward, data, epochs: int, samples: int, seed: int, lr: float):
    """BPTT on the output spike counts ``forward(x)`` (cross-entropy of 0.2 x counts), batches of
    64 from the first ``samples`` training samples; returns those samples as a float tensor."""
    import torch

    opt = torch.optim.Adam(params, lr)
    n = min(samples, len(data.train))
    x_train = torch.from_numpy(data.train.spikes(np.arange(n))).float()
    y_train = torch.from_numpy(data.train.labels[:n]).long()
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        for i in range(0, n, 64):
            idx = order[i : i + 64]
            loss = torch.nn.functional.cross_entropy(forward(x_train[idx]) * 0.2, y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return x_train


TOPOLOGIES = ("biases", "two-hidden", "one-to-one")


def snntorch_topology(kind: str, inputs: int, classes: int, hidden: int, init_hidden: bool, seed: int = 0):
    """An snnTorch network with the chip's reset (to zero, in the step of the spike:
    ``reset_delay=False``, which NIR cannot state and snnTorch does not export), as a list of
    (Linear, neuron) pairs:

    - ``biases``: Linear(bias) -> RLeaky(all-to-all, its recurrence with a bias) -> Linear(bias) -> Leaky
    - ``two-hidden``: Linear -> Synaptic -> Linear -> RLeaky(all-to-all) -> Linear -> Leaky
    - ``one-to-one``: Linear -> RLeaky(all_to_all=False: each neuron feeds back to itself) -> Linear -> Leaky

    ``init_hidden`` builds the twin ``export_to_nir`` traces (modules that keep their own state);
    the trained network keeps its state outside; reset_delay is not exported, so the twin keeps
    the default. No RSynaptic: snnTorch 1.0.0's ``RSynaptic(reset_delay=False)`` resets a local
    variable it then discards, so it resets a step late like the default (twice the chip's spikes
    on an untrained network); its ``Synaptic``, ``Leaky`` and ``RLeaky`` reset as asked."""
    import snntorch as snn
    import torch

    torch.manual_seed(seed)
    delay = {} if init_hidden else {"reset_delay": False}
    common = dict(reset_mechanism="zero", init_hidden=init_hidden, **delay)

    def readout(n):
        return snn.Leaky(beta=torch.full((n,), 0.9), threshold=torch.ones(n), **common)

    lin = torch.nn.Linear
    if kind == "biases":
        rec = snn.RLeaky(beta=torch.full((hidden,), 0.9), linear_features=hidden, all_to_all=True, **common)
        return [(lin(inputs, hidden), rec), (lin(hidden, classes), readout(classes))]
    if kind == "two-hidden":
        h2 = hidden // 2
        syn = snn.Synaptic(
            alpha=torch.full((hidden,), 0.8), beta=torch.full((hidden,), 0.9), threshold=torch.ones(hidden), **common
        )
        rec = snn.RLeaky(beta=torch.full((h2,), 0.9), linear_features=h2, all_to_all=True, **common)
        return [
            (lin(inputs, hidden, bias=False), syn),
            (lin(hidden, h2, bias=False), rec),
            (lin(h2, classes, bias=False), readout(classes)),
        ]
    if kind == "one-to-one":
        rec = snn.RLeaky(beta=torch.full((hidden,), 0.9), V=torch.full((hidden,), 0.5), all_to_all=False, **common)
        return [(lin(inputs, hidden, bias=False), rec), (lin(hidden, classes, bias=False), readout(classes))]
    raise ValueError(kind)


def run_snntorch_layers(layers, x, hop_delay: bool):
    """Output spike counts of (Linear, neuron) ``layers`` on ``x`` [B, T, inputs] (a float tensor).
    ``hop_delay``: every Linear reads its source's spikes of the previous step, as on the chip
    (snnTorch's own forward reads them in the same step; its recurrences read the previous one)."""
    import snntorch as snn
    import torch

    states = []  # at zero: Leaky keeps (mem), Synaptic (syn, mem), RLeaky (spk, mem)
    for linear, neuron in layers:
        zeros = torch.zeros(x.shape[0], linear.out_features)
        states.append([zeros] * (1 if type(neuron) is snn.Leaky else 2))
    previous = [torch.zeros(x.shape[0], linear.in_features) for linear, _ in layers]
    counts = 0
    for t in range(x.shape[1]):
        source = x[:, t]
        for k, ((linear, neuron), state) in enumerate(zip(layers, states, strict=True)):
            current = linear(previous[k] if hop_delay else source)
            previous[k] = source
            out = neuron(current, *state)  # (spk, *state): a recurrent neuron's state starts with its spikes
            state[:] = out if isinstance(neuron, snn.RLeaky) else out[1:]
            source = out[0]
        counts = counts + source
    return counts


def train_snntorch_topology(data, kind: str, hidden: int = 32, epochs: int = 4, samples: int = 768, seed: int = 0):
    """Train ``kind`` (``snntorch_topology``) with BPTT on spike counts (its own zero-delay forward);
    returns (NIR graph from snnTorch's ``export_to_nir``, the trained layers)."""
    import torch
    from snntorch.export_nir import export_to_nir

    layers = snntorch_topology(kind, data.info.channels, data.info.classes, hidden, init_hidden=False, seed=seed)
    params = [p for pair in layers for m in pair for p in m.parameters()]
    with torch.no_grad():
        for linear, _ in layers:
            linear.weight.mul_(3)
    x_train = train_on_counts(
        params, lambda x: run_snntorch_layers(layers, x, False), data, epochs, samples, seed, 3e-3
    )
    twin = snntorch_topology(kind, data.info.channels, data.info.classes, hidden, init_hidden=True, seed=seed)
    sequential = torch.nn.Sequential(*[m for pair in twin for m in pair])
    sequential.load_state_dict(torch.nn.Sequential(*[m for pair in layers for m in pair]).state_dict())
    return export_to_nir(sequential, x_train[:1, 0], ignore_dims=[0]), layers


def snntorch_import_agreement(data, kind: str, folder, **train) -> dict:
    """Train an snnTorch ``kind`` network, export it with snnTorch and measure its import
    (``_measure_import``) against snnTorch's own modules."""
    graph, layers = train_snntorch_topology(data, kind, **train)
    return _measure_import(kind, graph, folder, data, lambda xt, delay: run_snntorch_layers(layers, xt, delay))


def _measure_import(name: str, graph, folder, data, peer, dt: float | None = None) -> dict:
    """Write ``graph`` with ``nir.write``, compile the file with ``neuromotif compile`` (``--dt``
    when given), and compare on the whole test split, with ``peer(x, hop_delay)`` (the peer's own
    modules: its zero-delay forward, and with the chip's one-step hop delay):

    - our importer's float network under the chip's semantics (``run_float``) on the file as
      compile read it: what the import reads;
    - our fixed point (CPU backend): what the chip runs, the compiler's quantization included."""
    import contextlib
    import io

    import nir
    import torch

    from neuromotif.cli import main
    from neuromotif.deploy.backends.cpu import CPUBackend
    from neuromotif.deploy.bundle import read_bundle
    from neuromotif.deploy.nir_import import nir_to_float_network, read_nir_graph

    path = folder / f"{name}.nir"
    nir.write(str(path), graph)
    said = io.StringIO()
    args = ["compile", str(path), *(["--dt", str(dt)] if dt else []), "--data", data.info.name]
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
        code = main([*args, "--out", str(folder / name)])
    assert code == 0, said.getvalue()
    x = data.test.spikes()
    fixed = CPUBackend(read_bundle(folder / name)).run(x).counts
    imported = run_float(nir_to_float_network(read_nir_graph(path), dt)[0], x)
    with torch.no_grad():
        xt = torch.from_numpy(x).float()
        plain, delayed = (peer(xt, delay).numpy() for delay in (False, True))
    return _agreement(name, data.test.labels, plain, delayed, imported, fixed, said.getvalue())


def _agreement(name, labels, plain, delayed, imported, fixed, said: str) -> dict:
    """Predictions and output spike counts: the peer's forward (``plain``), the peer with the hop
    delay (``delayed``), our import in float (``imported``) and our fixed point (``fixed``)."""

    def same(a, b):
        return float((a.argmax(1) == b.argmax(1)).mean())

    def moved(a):
        return float(np.abs(a - delayed).sum() / max(delayed.sum(), 1))

    return {
        "topology": name,
        "samples": len(labels),
        "peer_accuracy": float((plain.argmax(1) == labels).mean()),
        "fixed_point_accuracy": float((fixed.argmax(1) == labels).mean()),
        "import_agreement_hop_delay_modelled": same(imported, delayed),
        "import_spike_count_difference": moved(imported),
        "fixed_point_agreement": same(fixed, plain),
        "fixed_point_agreement_hop_delay_modelled": same(fixed, delayed),
        "fixed_point_spike_count_difference": moved(fixed),
        "import_notes": [line.strip() for line in said.splitlines() if "approximation" in line],
    }


def norse_layers(inputs: int, classes: int, hidden: int, seed: int = 0):
    """Norse: Linear -> LIFBoxCell -> Linear -> LIFBoxCell (reset to 0 in the spike's step, as the
    chip), as (Linear, cell) pairs; dt = 1 ms, tau_mem_inv = 100/s. Every parameter per neuron:
    Norse 1.1's ``to_nir`` writes a scalar parameter as a 0-d array, which ``nir.write`` cannot
    store ("Scalar datasets don't support chunk/filter options")."""
    import norse.torch as norse
    import torch

    torch.manual_seed(seed)

    def cell(n):
        p = norse.LIFBoxParameters(
            tau_mem_inv=torch.full((n,), 100.0),
            v_leak=torch.zeros(n),
            v_th=torch.ones(n),
            v_reset=torch.zeros(n),
            alpha=torch.tensor(5.0),  # a wider SuperSpike surrogate than the default 100: it trains in a few epochs
        )
        return norse.LIFBoxCell(p, dt=1e-3)

    return [(torch.nn.Linear(inputs, hidden), cell(hidden)), (torch.nn.Linear(hidden, classes), cell(classes))]


def run_norse_layers(layers, x, hop_delay: bool):
    """Output spike counts of Norse (Linear, cell) ``layers`` on ``x`` [B, T, inputs]; ``hop_delay``
    as in ``run_snntorch_layers`` (Norse's own forward reads every source in the same step)."""
    import torch

    states = [None] * len(layers)
    previous = [torch.zeros(x.shape[0], linear.in_features) for linear, _ in layers]
    counts = 0
    for t in range(x.shape[1]):
        source = x[:, t]
        for k, (linear, cell) in enumerate(layers):
            current = linear(previous[k] if hop_delay else source)
            previous[k] = source
            source, states[k] = cell(current, states[k])
        counts = counts + source
    return counts


def norse_import_agreement(data, folder, hidden: int = 64, epochs: int = 4, samples: int = 768, seed: int = 0):
    """``snntorch_import_agreement`` for a Norse network exported with Norse's ``to_nir`` (whose
    taus the import corrects: tau = dt x tau written for tau)."""
    import norse.torch as norse
    import torch

    layers = norse_layers(data.info.channels, data.info.classes, hidden, seed)
    with torch.no_grad():  # the box cell takes dt x tau_mem_inv = 0.1 of its input per step: start active
        for (linear, _), gain in zip(layers, (15, 40), strict=True):
            linear.weight.mul_(gain)
    params = [p for linear, _ in layers for p in linear.parameters()]
    # lr 10x snnTorch's: the weights start 15-40x
    x_train = train_on_counts(params, lambda x: run_norse_layers(layers, x, False), data, epochs, samples, seed, 3e-2)
    model = norse.SequentialState(*[m for pair in layers for m in pair])
    graph = norse.to_nir(model, x_train[:1, 0], dt=1e-3)
    return _measure_import("norse", graph, folder, data, lambda xt, delay: run_norse_layers(layers, xt, delay), 1e-3)
