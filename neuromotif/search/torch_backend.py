"""A bit-exact torch backend (``--backend torch``, CPU or CUDA): the CPU backend's integer dynamics
on torch tensors, for GPUs.

The neuron step is the one of ``hw_models.neurons`` run by ``ChipOps`` (float64 tensors holding
integers: exact below 2^53; no gradient is recorded, so the straight-through terms add exactly 0).
Weights are what Lava's Sparse keeps (``Projection.kept_weights``), times 2^(exponent + 6),
applied as dense float64 products (sparse CSR products past ``DENSE_MAX_ENTRIES``): every sum is
an exact integer, so spikes, v and u equal the CPU backend's and Lava's, bit for bit. It lives on
the torch side (``search/``) because it needs torch; the backend registry names it, and it is
imported only when asked.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from neuromotif.deploy.backends import SimResult
from neuromotif.hw_models import formats
from neuromotif.hw_models.neurons import neuron_model
from neuromotif.hw_models.neurons.lif import int32_possible
from neuromotif.search.neuron import ChipOps

DENSE_MAX_ENTRIES = 1 << 26


class TorchBackend:
    def __init__(self, bundle: Any, device: str = "cpu"):
        if device.startswith("cuda") and not torch.cuda.is_available():
            from neuromotif.core.errors import InputError

            raise InputError(f"--device {device}: no CUDA device is available here; use --device cpu")
        self.bundle, self.device = bundle, torch.device(device)
        fmt = bundle.numeric
        self.neurons = bundle.neuron_populations
        self.models = {p.name: neuron_model(p.kind) for p in self.neurons}
        self.params = {
            p.name: self.models[p.name]
            .params(p, fmt)
            .map(lambda a: torch.as_tensor(np.asarray(a, np.float64), device=self.device)[None, :])
            for p in self.neurons
        }
        self.incoming: dict[str, list[tuple[str, torch.Tensor]]] = {p.name: [] for p in self.neurons}
        max_current = {p.name: 0.0 for p in self.neurons}
        for j in bundle.projections:
            w = j.kept_weights(fmt.weight_bits)
            shift = 2.0 ** (j.weight_exp + formats.STATE_SHIFT)
            scaled = (w.astype(np.float64) * shift).T.tocsr()  # [pre, post]
            max_current[j.post] += float(np.asarray(abs(w).sum(1)).max(initial=0)) * shift
            if scaled.shape[0] * scaled.shape[1] <= DENSE_MAX_ENTRIES:
                mat = torch.as_tensor(scaled.toarray(), device=self.device)
            else:
                mat = torch.sparse_csr_tensor(
                    torch.as_tensor(scaled.indptr),
                    torch.as_tensor(scaled.indices),
                    torch.as_tensor(scaled.data),
                    scaled.shape,
                    device=self.device,
                )
            self.incoming[j.post].append((j.pre, mat))
        self.int32 = {name: int32_possible(m, fmt) for name, m in max_current.items()}
        self.ops = ChipOps(unit=1.0)

    @torch.no_grad()
    def run(
        self, x: np.ndarray, record: tuple[str, ...] = (), record_v: bool = False, activity: bool = False
    ) -> SimResult:
        t0 = time.perf_counter()
        b = self.bundle
        batch, steps, channels = x.shape
        if channels != b.input.size:
            raise ValueError(f"input has {channels} channels, the bundle expects {b.input.size}")
        xs = torch.as_tensor(np.asarray(x, np.float64), device=self.device)
        zeros = lambda n: torch.zeros(batch, n, dtype=torch.float64, device=self.device)  # noqa: E731
        state = {p.name: (zeros(p.size), zeros(p.size)) for p in self.neurons}
        prev = {p.name: zeros(p.size) for p in b.populations}
        offsets = np.cumsum([0] + [p.size for p in b.populations])[:-1]
        where = {p.name: int(o) for p, o in zip(b.populations, offsets, strict=True)}
        n_all = sum(p.size for p in b.populations)
        rec: dict[str, list[torch.Tensor]] = {n: [] for n in record}
        volts: dict[str, list[torch.Tensor]] = {n: [] for n in record if record_v}
        currents: dict[str, list[torch.Tensor]] = {n: [] for n in record if record_v}
        # per step and neuron: spikes, and active neurons (u, v or s nonzero), summed over samples
        acts = (
            [torch.zeros(steps, n_all, dtype=torch.float64, device=self.device) for _ in range(2)] if activity else None
        )
        counts = zeros(b.output.size)
        for t in range(steps):
            now = {b.input.name: xs[:, t]}
            for p in self.neurons:
                a = zeros(p.size)
                for pre, mat in self.incoming[p.name]:
                    s_pre = prev[pre]
                    a = a + (s_pre @ mat if mat.layout == torch.strided else (mat.t() @ s_pre.t()).t())
                u, v = state[p.name]
                u, v, s = self.models[p.name].step(self.ops, u, v, a, self.params[p.name], self.int32[p.name])
                state[p.name] = (u, v)
                now[p.name] = s
                if p.name in rec:
                    rec[p.name].append(s)
                    if record_v:
                        volts[p.name].append(v)
                        currents[p.name].append(u)
                if acts is not None:
                    o = where[p.name]
                    acts[0][t, o : o + p.size] = s.sum(0)
                    acts[1][t, o : o + p.size] = ((u != 0) | (v != 0) | (s != 0)).sum(0)
            if acts is not None:
                o = where[b.input.name]
                acts[0][t, o : o + b.input.size] = xs[:, t].sum(0)
            counts += now[b.output.name]
            prev = now
        out = lambda ts, dtype: torch.stack(ts, 1).cpu().numpy().astype(dtype)  # noqa: E731
        result = SimResult(
            counts.cpu().numpy().astype(np.int64),
            {n: out(r, np.uint8) for n, r in rec.items()},
            {n: state[n][1].cpu().numpy().astype(np.int64) for n in record if n in state},
            {n: state[n][0].cpu().numpy().astype(np.int64) for n in record if n in state},
            {n: out(r, np.int64) for n, r in volts.items()},
            {n: out(r, np.int64) for n, r in currents.items()},
            acts[0].cpu().numpy() if acts is not None else None,
            acts[1].cpu().numpy() if acts is not None else None,
            batch,
        )
        result.seconds = time.perf_counter() - t0
        return result
