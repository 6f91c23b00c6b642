"""Any compiler float network (``FloatNetwork``: an imported NIR graph, say) as a torch module,
in the float or the bit-exact ``chip`` precision, so its weights can be fine-tuned at the chip's
precision (``benchmarks/diagnose_interop_rounding.py`` does, for imported networks).

Every population steps the chip's LIF (``hw_models.neurons.lif.step``) with the torch ops of
``search/neuron.py``; in ``chip`` precision each population's weights and parameters are what the
compiler emits (``layers.chip_population``), so the module computes what the CPU backend runs on
the compiled bundle, bit for bit. Only the weights are parameters (one value per stored synapse:
the sparsity pattern is kept); decays, biases and thresholds stay as imported.

``hop_delay=False`` runs the float network as NIR executors without delays run a graph: a
projection from a population updated earlier in the step (the input, a previous layer) delivers
in the same step; a recurrence still delivers a step later.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from neuromotif.deploy.ir import INPUT_KIND, FloatNetwork, FloatPopulation, predict
from neuromotif.hw_models import formats
from neuromotif.hw_models.chip import NumericFormat
from neuromotif.hw_models.neurons import lif
from neuromotif.search.layers import PRECISIONS, chip_population
from neuromotif.search.neuron import ChipOps, FloatOps

# one population as the step loop needs it: (pre, weights) in, parameters, ops, may u leave int32
Stepped = tuple[list[tuple[str, torch.Tensor]], lif.LIFParams, Any, bool]


class NetworkModule(nn.Module):
    """``net``'s LIF populations (network order) and projections; ``forward`` gives output counts."""

    def __init__(self, net: FloatNetwork, fmt: NumericFormat, max_profiles: int):
        super().__init__()
        self.net, self.fmt, self.max_profiles = net, fmt, max_profiles
        self.lifs: list[FloatPopulation] = [p for p in net.populations if p.kind != INPUT_KIND]
        self.values = nn.ParameterList()
        self.index: list[tuple[torch.Tensor, torch.Tensor]] = []
        for j in net.projections:
            w = j.weights.tocoo()
            self.values.append(nn.Parameter(torch.from_numpy(w.data.copy())))
            self.index.append((torch.from_numpy(w.row.astype(np.int64)), torch.from_numpy(w.col.astype(np.int64))))
        self.precision = "float"

    def set_precision(self, precision: str) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.precision = precision

    def _dense(self, k: int, values: torch.Tensor) -> torch.Tensor:
        j = self.net.projections[k]
        dense = values.new_zeros(j.weights.shape)
        return dense.index_put(self.index[k], values)

    def _populations(self) -> dict[str, Stepped]:
        """Per LIF population: its incoming (pre, dense weights in the units its state is in), step
        parameters, the step's ops (``FloatOps``, or ``ChipOps`` in its fixed units), and whether u
        may leave int32."""
        out: dict[str, Stepped] = {}
        for pop in self.lifs:
            ks = [k for k, j in enumerate(self.net.projections) if j.post == pop.name]
            pres = [self.net.projections[k].pre for k in ks]
            if self.precision == "float":
                weights = [self._dense(k, self.values[k]) for k in ks]
                keep_u = torch.from_numpy(1 - pop.du)
                keep_v = torch.from_numpy(1 - pop.dv)
                bias = torch.from_numpy(pop.bias) if bool((pop.bias != 0).any()) else None
                params = lif.LIFParams(keep_u, keep_v, bias, pop.vth)
                out[pop.name] = (list(zip(pres, weights, strict=True)), params, FloatOps, False)
                continue
            scale, fixed, params = chip_population(pop, [self.values[k] for k in ks], self.fmt, self.max_profiles)
            unit = formats.fixed_unit(scale)
            weights = [self._dense(k, w) for k, w in zip(ks, fixed, strict=True) if w is not None]
            max_a = sum(float(w.detach().abs().sum(1).max()) for w in weights if w.numel())
            int32 = lif.int32_possible(max_a * unit, self.fmt)
            incoming = [(pre, w * unit) for pre, w in zip(pres, weights, strict=True)]
            out[pop.name] = (incoming, params, ChipOps(unit), int32)
        return out

    def forward(self, x: torch.Tensor, hop_delay: bool = True) -> torch.Tensor:
        """``x``: input spikes [B, T, inputs] -> output spike counts [B, classes]."""
        if not hop_delay and self.precision == "chip":
            raise ValueError("the chip delays every hop by one step: hop_delay=False is for the float precision only")
        dtype = torch.float64
        x = x.to(dtype)
        batch, steps, _ = x.shape
        pops = self._populations()
        spikes = {p.name: x.new_zeros(batch, p.size) for p in self.net.populations}
        state = {p.name: (x.new_zeros(batch, p.size), x.new_zeros(batch, p.size)) for p in self.lifs}
        counts = x.new_zeros(batch, self.net.population(self.net.output).size)
        for t in range(steps):
            new = {self.net.input: x[:, t]}
            for pop in self.lifs:
                incoming, params, ops, int32 = pops[pop.name]
                a = x.new_zeros(batch, pop.size)
                for pre, w in incoming:
                    source = spikes if hop_delay or pre not in new else new
                    a = a + source[pre] @ w.T
                u, v, s = lif.step(ops, *state[pop.name], a, params, int32)
                state[pop.name] = (u, v)
                new[pop.name] = s
            spikes = new
            counts = counts + spikes[self.net.output]
        return counts

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch: int = 256, hop_delay: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(output counts, predictions) on ``x``, in batches, without gradients."""
        counts = torch.cat([self(x[i : i + batch], hop_delay) for i in range(0, len(x), batch)]).numpy()
        return counts, predict(counts)

    def to_float_network(self) -> FloatNetwork:
        """The network with the module's weights (the same sparsity pattern; zeros kept out)."""
        out = copy.deepcopy(self.net)
        for k, j in enumerate(out.projections):
            rows, cols = (i.numpy() for i in self.index[k])
            w = sp.csr_matrix((self.values[k].detach().double().numpy(), (rows, cols)), shape=j.weights.shape)
            w.eliminate_zeros()
            j.weights = w
        return out
