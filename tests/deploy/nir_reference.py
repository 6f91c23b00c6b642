"""Independent float references for the NIR tests: a plain numpy loop of the chip's LIF dynamics (docs/design.md)
over a ``FloatNetwork``, and an snnTorch network trained briefly and exported with snnTorch's
own ``export_to_nir``."""

from __future__ import annotations

import numpy as np


def run_float(net, x: np.ndarray) -> np.ndarray:
    """Output spike counts [B, classes] of ``net`` on spikes ``x`` [B, T, inputs], float64, with
    the chip's semantics: every projection delays by one step, v resets to 0 on a spike."""
    lifs = [p for p in net.populations if p.kind == "lif"]
    s = {p.name: np.zeros((x.shape[0], p.size)) for p in net.populations}
    u = {p.name: np.zeros((x.shape[0], p.size)) for p in lifs}
    v = {p.name: np.zeros((x.shape[0], p.size)) for p in lifs}
    counts = 0
    for t in range(x.shape[1]):
        new = {net.input: x[:, t].astype(np.float64)}
        for p in lifs:
            a = sum(j.weights.dot(s[j.pre].T).T for j in net.inputs_to(p.name))
            u[p.name] = u[p.name] * (1 - p.du) + a
            v[p.name] = v[p.name] * (1 - p.dv) + u[p.name] + p.bias
            spikes = v[p.name] > p.vth
            v[p.name][spikes] = 0
            new[p.name] = spikes.astype(np.float64)
        s = new
        counts = counts + s[net.output]
    return counts


def train_snntorch(data, hidden: int = 64, epochs: int = 3, seed: int = 0):
    """snnTorch: Linear -> RSynaptic(all_to_all) -> Linear -> Leaky, trained with BPTT on spike
    counts; returns (NIR graph from ``export_to_nir``, snnTorch's own float test accuracy).

    Peer bugs met (snnTorch 1.0.0): ``RSynaptic(reset_delay=False)`` crashes with ``init_hidden=True``
    and silently drops the reset without it, so training keeps the default reset_delay; a
    ``Leaky`` with a scalar beta or threshold exports a shapeless NIR node that fails type
    inference, so both are per-neuron tensors.
    """
    import snntorch as snn
    import torch
    from snntorch.export_nir import export_to_nir

    torch.manual_seed(seed)
    classes, inputs = data.info.classes, data.info.channels

    def network(init_hidden: bool):
        return torch.nn.Sequential(
            torch.nn.Linear(inputs, hidden, bias=False),
            snn.RSynaptic(
                alpha=0.8,
                beta=0.9,
                linear_features=hidden,
                all_to_all=True,
                reset_mechanism="zero",
                init_hidden=init_hidden,
            ),
            torch.nn.Linear(hidden, classes, bias=False),
            snn.Leaky(
                beta=torch.full((classes,), 0.9),
                threshold=torch.ones(classes),
                reset_mechanism="zero",
                init_hidden=init_hidden,
            ),
        )

    net = network(False)
    with torch.no_grad():
        net[0].weight.mul_(3)
        net[2].weight.mul_(3)

    def counts(x):
        spk, syn, mem = net[1].init_rsynaptic()
        mem_out = net[3].init_leaky()
        total = 0
        for t in range(x.shape[1]):
            spk, syn, mem = net[1](net[0](x[:, t]), spk, syn, mem)
            out, mem_out = net[3](net[2](spk), mem_out)
            total = total + out
        return total

    opt = torch.optim.Adam(net.parameters(), 3e-3)
    x_train = torch.from_numpy(data.train.spikes(np.arange(len(data.train)))).float()
    y_train = torch.from_numpy(data.train.labels).long()
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(y_train), generator=gen)
        for i in range(0, len(order), 64):
            idx = order[i : i + 64]
            loss = torch.nn.functional.cross_entropy(counts(x_train[idx]) * 0.2, y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        x_test = torch.from_numpy(data.test.spikes(np.arange(len(data.test)))).float()
        accuracy = float((counts(x_test).argmax(1).numpy() == data.test.labels).mean())
    twin = network(True)  # export_to_nir traces modules that keep their own state
    twin.load_state_dict(net.state_dict())
    return export_to_nir(twin, x_train[:1, 0], ignore_dims=[0]), accuracy


def run_snntorch_modules(graph, x: np.ndarray, hop_delay: bool) -> np.ndarray:
    """Our exported graph (input -> Linear -> CubaLIF with a recurrent Linear -> Linear -> CubaLIF)
    run by snnTorch's own node converters (``snntorch.import_nir._nir_to_snntorch_module``) in an
    explicit time loop; ``hop_delay``: delay every projection by one step as the chip does.
    (snnTorch's ``import_from_nir`` builds a nirtorch executor whose recurrent state is wrong with
    nirtorch 2.6: 15 % accuracy where these modules give the chip's.)"""
    import torch
    from snntorch.import_nir import _nir_to_snntorch_module

    hidden = next(k for k, v in graph.nodes.items() if type(v).__name__ == "CubaLIF" and f"{k}->{k}" in graph.nodes)
    readout = next(a for a, b in graph.edges if b == "output")
    mods = {
        k: _nir_to_snntorch_module(v, init_hidden=False)
        for k, v in graph.nodes.items()
        if type(v).__name__ in ("Linear", "CubaLIF")
    }
    w_in, w_rec, w_out = mods[f"input->{hidden}"], mods[f"{hidden}->{hidden}"], mods[f"{hidden}->{readout}"]
    xt = torch.from_numpy(x).float()
    syn_h, mem_h = mods[hidden].init_synaptic()
    syn_o, mem_o = mods[readout].init_synaptic()
    spk_h = torch.zeros(x.shape[0], w_rec.weight.shape[0])
    zero = torch.zeros_like(xt[:, 0])
    counts = 0
    with torch.no_grad():
        for t in range(x.shape[1]):
            x_now = (xt[:, t - 1] if t else zero) if hop_delay else xt[:, t]
            before = spk_h
            spk_h, syn_h, mem_h = mods[hidden](w_in(x_now) + w_rec(spk_h), syn_h, mem_h)
            out, syn_o, mem_o = mods[readout](w_out(before if hop_delay else spk_h), syn_o, mem_o)
            counts = counts + out
    return counts.numpy()
