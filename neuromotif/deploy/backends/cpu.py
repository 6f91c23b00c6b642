"""Fast numpy backend, bit-identical to Lava's Loihi models (PyLifModelBitAcc, PySparseModelBitAcc).

Per step t (t = 1..T), for every sample in the batch at once: the input population emits
x[:, t-1] (a RingBuffer source sends data[:, t-1] at step t); every projection delivers what
its pre population emitted at step t-1 (one-step hop), ``a = (W @ s_pre) << e`` (e >= 0: the
bundle reader refuses negative exponents); every neuron population takes one step of its
model's integer dynamics, written once in ``hw_models.neurons`` (the LIF: ``neurons/lif.py``)
and run here by its in-place numpy ops. Weights pass Lava's storage rule first
(``formats.lava_kept_weights``); the compiler only emits weights that survive unchanged.

Speed without losing a bit: every state value is an integer below 2^36, so float64 arithmetic
on them is exact (the sign-magnitude shift is ``trunc(x * k)``, k = keep / 4096 exactly), and
a synaptic sum is computed in float32 whenever no row of |W| sums past 2^24 (where float32
stops being exact; a sparse product always runs in float64, exact to 2^53). Kernels: a dense
float32 BLAS product for batches on non-tiny densities, a sparse float64 product for single
samples and very sparse matrices. Input spikes are
known up front, so the input projection runs for all steps at once, as one product.
Populations of one neuron model are stepped together, as one state array (one call per
operation per step for all of them), and limits no input can reach are not checked
(``NeuronModel.bounded``): at small batches the number of array calls per step, not the
arithmetic, is the time. Activity for the cost model (``activity=True``): spikes per step and neuron, and active
updates (a neuron whose u or v is non-zero, or that spiked, in that step), summed over the batch.
"""

from __future__ import annotations

import functools
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from neuromotif.deploy.backends import SimResult
from neuromotif.deploy.bundle import Bundle, Population
from neuromotif.hw_models import formats, motifs
from neuromotif.hw_models.neurons import NeuronModel, neuron_model
from neuromotif.hw_models.neurons.lif import NumpyFixedOps, int32_possible

DENSE_MAX_ENTRIES = 1 << 23  # projections up to 8 M entries may run as dense float32 products
DRIVE_BUDGET = 1 << 28  # bytes for the precomputed input drive of one batch
MIN_THREAD_BATCH = 16  # below this many samples per thread, threads cost more than they give
FLOAT32_EXACT = 1 << 24


def motif_blocks(w: sp.csr_matrix, motif_size: int) -> np.ndarray | None:
    """A recurrent SC-ML projection as float32 blocks ``[K, 3m, m]`` (transposed for ``s @ W``),
    or None when it is not a ring of motifs (the general kernels take it)."""
    blocks = motifs.csr_to_blocks(w, motif_size, np.float32)
    return None if blocks is None else np.ascontiguousarray(blocks.transpose(0, 2, 1))


class _Synapses:
    """One projection: computes the integer input current it delivers, exactly, with the kernel
    that is cheapest for the batch and the spikes at hand:

    - ``motif32``: a recurrent SC-ML projection as one batched product over its K motifs'
      [3m, m] blocks (float32, exact while row sums stay below 2^24): work N * 3m per sample;
    - ``event64``: only the columns of neurons that spiked, gathered and summed (float64): work
      proportional to the synaptic events, for sparse activity;
    - ``dense32``: a dense float32 BLAS product for batches on non-tiny densities;
    - ``sparse64``: a sparse float64 product, always exact.
    """

    # cost model, ns: (fixed per call, per unit of work), measured on the 2-core dev machine on
    # benchmarks/bench_memory_traffic.py's bundles; only the ranking matters, every kernel is exact
    COSTS_NS = {"dense32": (10e3, 0.02), "motif32": (25e3, 0.08), "sparse64": (15e3, 0.38), "event64": (20e3, 20.0)}

    def __init__(self, w: sp.csr_matrix, exp: int, motif_size: int = 1, shift: int = formats.STATE_SHIFT):
        """``shift``: the currents come out as (W s << exp) << shift, the power of two folded into
        the weights (exact in float32 and float64 alike)."""
        self.exp = exp
        max_row_sum = float(np.asarray(abs(w).sum(1)).max(initial=0))
        self.exact_f32 = max_row_sum < FLOAT32_EXACT
        self.shape = w.shape
        size = w.shape[0] * w.shape[1]
        scaled = (w.astype(np.float64) * 2.0 ** (exp + shift)).tocsr()
        self.dense = scaled.toarray().astype(np.float32).T if self.exact_f32 and size <= DENSE_MAX_ENTRIES else None
        self.sparse = scaled  # [post, pre], always exact
        csc = scaled.tocsc()
        csc.sort_indices()
        self.col_ptr, self.col_rows, self.col_vals = csc.indptr, csc.indices, csc.data
        self.fanout = np.diff(self.col_ptr).astype(np.float32)  # synapses per presynaptic neuron
        self.blocks = motif_blocks(scaled, motif_size) if self.exact_f32 else None
        self.max_current = max_row_sum * 2.0**exp
        self._without_events: dict[int, str | None] = {}  # batch -> kernel chosen without counting events

    def _work(self, batch: int) -> dict[str, float]:
        """Units of work of each kernel that needs no event count, for ``batch`` samples."""
        n_post, n_pre = self.shape
        work: dict[str, float] = {"sparse64": batch * self.sparse.nnz}
        if self.dense is not None:
            work["dense32"] = batch * n_post * n_pre
        if self.blocks is not None:
            work["motif32"] = batch * n_post * self.blocks.shape[1]
        return work

    def _costs(self, batch: int, events: float | None) -> dict[str, float]:
        """Each kernel's cost (ns) for ``batch`` samples; the event kernel's only with ``events``."""
        work = self._work(batch)
        if events is not None:
            work["event64"] = events + batch * self.shape[0] / 14.0  # plus clearing the output
        return {k: self.COSTS_NS[k][0] + self.COSTS_NS[k][1] * n for k, n in work.items()}

    def kernel(self, batch: int, events: float | None = None) -> str:
        """The cheapest exact kernel for ``batch`` samples with ``events`` synaptic events (None: unknown)."""
        cost = self._costs(batch, events)
        return min(cost, key=cost.__getitem__)

    def _kernel_for(self, batch: int, s: np.ndarray) -> str:
        """``kernel`` for these spikes. The events are counted (three array operations per step)
        only where the event kernel could win: on small layers its cost with no events at all
        already exceeds the best other kernel's, which is then the choice whatever the spikes."""
        if batch not in self._without_events:
            best, costs = self.kernel(batch), self._costs(batch, events=0.0)
            self._without_events[batch] = best if costs.get(best, np.inf) <= costs["event64"] else None
        known = self._without_events[batch]
        return known if known is not None else self.kernel(batch, self.events(s))

    def events(self, s: np.ndarray) -> float:
        """Synaptic events the spikes ``s`` [B, n_pre] cause (one BLAS product: cheap)."""
        return float(s.astype(np.float32, copy=False).sum(0) @ self.fanout)

    def current(self, s_pre: np.ndarray, keep32: bool = False) -> np.ndarray:
        """``s_pre`` [B, n_pre] 0/1 -> (W s << e) << shift as integer-valued floats [B, n_post].

        ``keep32``: return a float32 kernel's result unconverted (exact: its integers times a
        power of two, the integer part below 2^24, which float32 represents exactly)."""
        s = s_pre
        batch = len(s)
        kernel = self._kernel_for(batch, s)
        if kernel == "dense32":
            assert self.dense is not None  # chosen only where it exists
            acc = s.astype(np.float32, copy=False) @ self.dense
            if not keep32:
                acc = acc.astype(np.float64)
        elif kernel == "motif32":
            acc = self._motif(s)
            if not keep32:
                acc = acc.astype(np.float64)
        elif kernel == "event64":
            acc = self._event(s)
        elif batch == 1:
            acc = (self.sparse @ s[0].astype(np.float64, copy=False))[None, :]
        else:
            acc = np.ascontiguousarray((self.sparse @ s.T.astype(np.float64, copy=False)).T)
        return acc

    def _motif(self, s: np.ndarray) -> np.ndarray:
        assert self.blocks is not None  # chosen only where it exists
        k, three_m, m = self.blocks.shape
        batch = len(s)
        s3 = s.reshape(batch, k, m).transpose(1, 0, 2)  # [K, B, m] view
        around = np.empty((k, batch, three_m), np.float32)  # [s[k-1] | s[k] | s[k+1]], filled once
        around[:, :, m : 2 * m] = s3
        around[1:, :, :m] = s3[:-1]
        around[0, :, :m] = s3[-1]
        around[:-1, :, 2 * m :] = s3[1:]
        around[-1, :, 2 * m :] = s3[0]
        return np.matmul(around, self.blocks).transpose(1, 0, 2).reshape(batch, k * m)

    def _event(self, s: np.ndarray) -> np.ndarray:
        batch, n_post = len(s), self.shape[0]
        b_idx, j_idx = np.nonzero(s)
        starts = self.col_ptr[j_idx]
        counts = self.col_ptr[j_idx + 1] - starts
        total = int(counts.sum())
        if total == 0:
            return np.zeros((batch, n_post))
        first = np.cumsum(counts) - counts  # where each spike's run starts in the gather
        pos = np.repeat(starts - first, counts) + np.arange(total)
        rows = self.col_rows[pos] + np.repeat(b_idx * n_post, counts)
        return np.bincount(rows, weights=self.col_vals[pos], minlength=batch * n_post).reshape(batch, n_post)


@dataclass
class _Group:
    """Populations of one neuron model stepped together: one state array, one call per operation
    per step for all of them (at small batches the calls, not the arithmetic, are the time)."""

    model: NeuronModel
    pops: list[Population]
    params: Any  # the model's parameters for the concatenated neurons, shaped [1, size]
    int32: bool  # can u leave int32 in any of them
    slices: dict[str, slice]  # population -> its columns in the group's state
    size: int
    columns: slice | np.ndarray  # its neurons' columns in the activity arrays (a slice where contiguous)

    @staticmethod
    def of(pops: list[Population], models: dict, params: dict, int32: dict, offsets: dict[str, int]) -> list[_Group]:
        """Populations grouped by model (each alone where the model cannot concatenate), in order;
        ``offsets``: each population's first column in the activity arrays."""
        by_kind: dict[str, list[Population]] = {}
        alone = []
        for p in pops:
            if models[p.name].concat is None:
                alone.append([p])
            else:
                by_kind.setdefault(p.kind, []).append(p)
        groups = []
        for members in [*by_kind.values(), *alone]:
            model, sizes = models[members[0].name], [p.size for p in members]
            ps = [params[p.name] for p in members]
            fused = model.concat(ps, sizes) if model.concat is not None else ps[0]
            starts = np.cumsum([0, *sizes])
            slices = {p.name: slice(int(a), int(b)) for p, a, b in zip(members, starts[:-1], starts[1:], strict=True)}
            cols = np.concatenate([np.arange(offsets[p.name], offsets[p.name] + p.size) for p in members])
            contiguous = bool((np.diff(cols) == 1).all())
            groups.append(
                _Group(
                    model,
                    members,
                    fused.map(lambda a: a[None, :]),
                    any(int32[p.name] for p in members),
                    slices,
                    int(starts[-1]),
                    slice(int(cols[0]), int(cols[-1]) + 1) if contiguous else cols,
                )
            )
        return groups


class CPUBackend:
    """Runs a bundle on batches of samples ``x`` [B, T, channels] (binary)."""

    def __init__(self, bundle: Bundle, threads: int | None = None):
        """``threads``: worker threads for large batches (default: every core)."""
        self.bundle = bundle
        self.threads = threads
        self.lifs = bundle.neuron_populations
        numeric = bundle.numeric
        self.weight_bits = numeric.weight_bits
        models = {p.name: neuron_model(p.kind) for p in self.lifs}
        self.incoming = {p.name: [(j.pre, self._synapses(j)) for j in bundle.inputs_to(p.name)] for p in self.lifs}
        # limits no input can reach are dropped: their checks cost more than the step at small batches
        params, int32 = {}, {}
        for p in self.lifs:
            max_current = sum(b.max_current for _, b in self.incoming[p.name]) * 2**formats.STATE_SHIFT
            params[p.name] = models[p.name].bounded(models[p.name].params(p, numeric), max_current)
            int32[p.name] = int32_possible(max_current, numeric)
        self.offsets, at = {}, 0
        for p in bundle.populations:
            self.offsets[p.name] = at
            at += p.size
        self.n_all = at
        self.groups = _Group.of(self.lifs, models, params, int32, self.offsets)

    def _synapses(self, proj) -> _Synapses:
        motif = self.bundle.population(proj.post).motif_size if proj.pre == proj.post else 1
        return _Synapses(proj.kept_weights(self.weight_bits), proj.weight_exp, motif)

    def run(
        self,
        x: np.ndarray,
        record: tuple[str, ...] = (),
        record_v: bool = False,
        activity: bool = False,
        batch_size: int = 256,
    ) -> SimResult:
        """Simulate (``Backend.run``); ``batch_size``: samples per vectorised batch."""
        t0 = time.perf_counter()
        widest = max(p.size for p in self.lifs)
        batch_size = max(1, min(batch_size, DRIVE_BUDGET // (8 * x.shape[1] * widest)))
        workers = self.threads or os.cpu_count() or 1
        if len(x) >= 2 * MIN_THREAD_BATCH and workers > 1:  # numpy / scipy release the GIL: use every core
            batch_size = min(batch_size, -(-len(x) // workers))
        chunks = [x[i : i + batch_size] for i in range(0, len(x), batch_size)]
        if len(chunks) > 1 and workers > 1:
            with ThreadPoolExecutor(min(workers, len(chunks))) as pool:
                parts = list(pool.map(lambda c: self._run_batch(c, record, record_v, activity), chunks))
        else:
            parts = [self._run_batch(c, record, record_v, activity) for c in chunks]
        out = SimResult(counts=np.concatenate([p.counts for p in parts]), samples=len(x))
        for key in ("spikes", "final_v", "final_u", "voltages", "currents"):
            for name in getattr(parts[0], key):
                getattr(out, key)[name] = np.concatenate([getattr(p, key)[name] for p in parts])
        if activity:  # summed over chunks (integer counts in float64: exact in any order)
            out.activity_spikes = functools.reduce(
                np.add, [p.activity_spikes for p in parts if p.activity_spikes is not None]
            )
            out.activity_active = functools.reduce(
                np.add, [p.activity_active for p in parts if p.activity_active is not None]
            )
        out.seconds = time.perf_counter() - t0
        return out

    def _run_batch(self, x: np.ndarray, record: tuple[str, ...], record_v: bool, activity: bool) -> SimResult:
        batch, steps, channels = x.shape
        inp = self.bundle.input
        if channels != inp.size:
            raise ValueError(f"input has {channels} channels, the bundle expects {inp.size}")
        xf = x.astype(np.float32)
        # input spikes are known: the input projection's current for every step in one product
        # (the current at step t comes from the input of step t-1)
        shifted = np.concatenate([np.zeros((batch, 1, channels), np.float32), xf[:, :-1]], 1).reshape(-1, channels)
        drives = {}
        for p in self.lifs:
            syns = [syn for pre, syn in self.incoming[p.name] if pre == inp.name]
            if syns:
                d = (
                    syns[0].current(shifted, keep32=True)
                    if len(syns) == 1
                    else functools.reduce(np.add, [syn.current(shifted) for syn in syns])
                )
                drives[p.name] = np.ascontiguousarray(d.reshape(batch, steps, p.size).transpose(1, 0, 2))
        recurrent = {p.name: [(pre, syn) for pre, syn in self.incoming[p.name] if pre != inp.name] for p in self.lifs}
        state = [(np.zeros((batch, g.size)), np.zeros((batch, g.size))) for g in self.groups]
        prev = {p.name: np.zeros((batch, p.size), np.float32) for p in self.bundle.populations}
        rasters = {n: np.zeros((batch, steps, self.bundle.population(n).size), np.uint8) for n in record}
        volts = {n: np.zeros((batch, steps, self.bundle.population(n).size), np.int64) for n in record if record_v}
        currents = {n: np.zeros((batch, steps, self.bundle.population(n).size), np.int64) for n in record if record_v}
        # per step and neuron: spikes, and active neurons (u, v or s nonzero), summed over samples
        acts = (np.zeros((steps, self.n_all)), np.zeros((steps, self.n_all))) if activity else None
        if acts is not None:  # the input's spikes are known: all steps at once
            off = self.offsets[inp.name]
            acts[0][:, off : off + inp.size] = x.sum(0)
        # what each group does per step, resolved once: (columns, drive, recurrent inputs) per
        # population, and the recorded populations (at small batches the loop's overhead is the time)
        plans = [
            (
                [(g.slices[p.name], drives.get(p.name), recurrent[p.name]) for p in g.pops],
                [n for n in record if n in g.slices],
            )
            for g in self.groups
        ]
        out_name = self.bundle.output.name
        counts = np.zeros((batch, self.bundle.output.size))  # float64: exact integer counts
        for t in range(steps):
            now = {}
            for g, (u, v), (inputs, recorded) in zip(self.groups, state, plans, strict=True):
                if len(inputs) == 1 and inputs[0][1] is not None:
                    a64 = inputs[0][1][t].astype(np.float64)
                else:
                    a64 = np.zeros((batch, g.size))
                    for cols, drive, _ in inputs:
                        if drive is not None:
                            a64[:, cols] = drive[t]
                for cols, _, rec in inputs:
                    for pre, syn in rec:
                        s_pre = prev[pre]
                        if s_pre.any():
                            a64[:, cols] += syn.current(s_pre, keep32=True)  # float32 adds into float64 exactly
                u, v, s = g.model.step(NumpyFixedOps, u, v, a64, g.params, g.int32)
                s32 = s.astype(np.float32)  # what the synaptic kernels read (exact 0 / 1)
                for name, cols in g.slices.items():
                    now[name] = s32[:, cols]
                if acts is not None:
                    acts[0][t, g.columns] = s.sum(0)
                    acts[1][t, g.columns] = ((u != 0) | (v != 0) | s).sum(0)
                for name in recorded:
                    cols = g.slices[name]
                    rasters[name][:, t] = s[:, cols]
                    if record_v:
                        volts[name][:, t] = v[:, cols]
                        currents[name][:, t] = u[:, cols]
            counts += now[out_name]
            prev = now
        counts = counts.astype(np.int64)
        where = {
            name: (u, v, g.slices[name]) for g, (u, v) in zip(self.groups, state, strict=True) for name in g.slices
        }
        final_u = {n: where[n][0][:, where[n][2]].astype(np.int64) for n in record if n in where}
        final_v = {n: where[n][1][:, where[n][2]].astype(np.int64) for n in record if n in where}
        return SimResult(
            counts,
            rasters,
            final_v,
            final_u,
            volts,
            currents,
            activity_spikes=acts[0] if acts is not None else None,
            activity_active=acts[1] if acts is not None else None,
            samples=batch,
        )
