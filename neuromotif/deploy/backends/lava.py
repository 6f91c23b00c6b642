"""Run a bundle on Lava's bit-accurate Loihi 2 process models (``Loihi2SimCfg(select_tag="fixed_pt")``).

Processes, as few as Lava allows (it supports neither per-neuron decays inside one LIF nor
concatenated ports): one RingBuffer source for the input; per LIF population, one LIF per
profile group (neurons sharing du, dv); per projection, one Sparse per (pre group, post group)
pair that has synapses, in the projection's sign mode and the bundle's weight bits; one
RingBuffer sink per recorded group. The network is built once and runs sample after sample:
between samples every LIF's u, v and every Sparse's one-step buffer are reset, so nothing leaks
from one sample into the next.

The whole Lava session runs in a supervised child process session (``session.py``): a time-out,
an error, Ctrl-C, SIGTERM or the death of our process ends every Lava process and unlinks its
shared memory; nothing is ever left behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from neuromotif.core.progress import progress_bar
from neuromotif.deploy.backends import DEFAULT_TIMEOUT_S, SimResult, refuse_options
from neuromotif.deploy.backends.session import SessionTimeout, run_in_session
from neuromotif.deploy.bundle import Bundle
from neuromotif.deploy.lava_compat import import_lava

CHILD = "neuromotif.deploy.backends.lava_child"


class LavaTimeoutError(SessionTimeout):
    """The Lava run exceeded its time limit."""


class LavaBackend:
    def __init__(self, bundle: Bundle, timeout_s: float = DEFAULT_TIMEOUT_S):
        import_lava()
        self.bundle = bundle
        self.timeout_s = timeout_s
        self.groups = {p.name: p.profile_groups() for p in bundle.neuron_populations}

    def process_count(self) -> int:
        """Lava processes the network needs (plus Lava's own 3 service processes)."""
        n = 1 + sum(len(g) for g in self.groups.values())
        for j in self.bundle.projections:
            pre_groups = self.groups.get(j.pre, [np.arange(self.bundle.population(j.pre).size)])
            for post_idx in self.groups[j.post]:
                for pre_idx in pre_groups:
                    n += int(j.weights[post_idx][:, pre_idx].nnz > 0)
        return n

    def run(
        self, x: np.ndarray, record: tuple[str, ...] = (), record_v: bool = False, activity: bool = False
    ) -> SimResult:
        """Run every sample of ``x`` [B, T, channels] in a supervised Lava session; records the
        output and ``record`` populations (spikes, final u and v). Past ``timeout_s`` the session is
        ended (exit 2 in the CLI)."""
        refuse_options("lava", record_v, activity)
        t0 = time.perf_counter()
        what = (
            f"the Lava run ({len(x)} samples x {x.shape[1]} steps) exceeded the time limit of "
            f"{self.timeout_s:g} s: use fewer samples (--samples / simulate.lava_samples) or raise "
            "--timeout / simulate.timeout_s"
        )
        with progress_bar(len(x), "lava") as done:
            try:
                result = run_in_session(CHILD, (self.bundle, x, tuple(record)), self.timeout_s, what, done)
            except SessionTimeout as exc:
                raise LavaTimeoutError(str(exc)) from None
        result.seconds = time.perf_counter() - t0
        return result

    def run_here(
        self,
        x: np.ndarray,
        record: tuple[str, ...] = (),
        on_sample: Callable[[int], None] | None = None,
        deliver: Callable[[SimResult], None] | None = None,
    ) -> SimResult:
        """Run in this process (the session child calls this). ``on_sample(i)`` after each sample;
        ``deliver(result)`` as soon as the result exists, before Lava's ``stop()`` (which can hang)."""
        from lava.magma.core.run_conditions import RunSteps
        from lava.magma.core.run_configs import Loihi2SimCfg
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source
        from lava.proc.lif.process import LIF
        from lava.proc.sparse.process import Sparse
        from lava.utils.weightutils import SignMode

        sign_modes = {"mixed": SignMode.MIXED, "excitatory": SignMode.EXCITATORY, "inhibitory": SignMode.INHIBITORY}
        t0 = time.perf_counter()
        batch, steps, channels = x.shape
        b = self.bundle
        weight_bits = b.numeric.weight_bits
        if channels != b.input.size:
            raise ValueError(f"input has {channels} channels, the bundle expects {b.input.size}")
        recorded = tuple(dict.fromkeys((*record, b.output.name)))
        source = Source(data=x[0].T.astype(np.int64))
        lifs: dict[str, list] = {}
        for p in b.neuron_populations:
            lifs[p.name] = [
                LIF(
                    shape=(len(idx),),
                    du=int(p.du[idx[0]]),
                    dv=int(p.dv[idx[0]]),
                    vth=int(p.vth),
                    bias_mant=p.bias_mant[idx],
                    bias_exp=p.bias_exp[idx],
                    name=f"{p.name}.g{g}",
                )
                for g, idx in enumerate(self.groups[p.name])
            ]
        synapses = []
        for j in b.projections:
            if j.pre == b.input.name:
                pre_parts = [(source.s_out, np.arange(b.input.size))]
            else:
                pre_parts = [(lif.s_out, idx) for lif, idx in zip(lifs[j.pre], self.groups[j.pre], strict=True)]
            for post_lif, post_idx in zip(lifs[j.post], self.groups[j.post], strict=True):
                for out_port, pre_idx in pre_parts:
                    w = j.weights[post_idx][:, pre_idx].tocsr()
                    if w.nnz == 0:
                        continue
                    syn = Sparse(
                        weights=w,
                        weight_exp=j.weight_exp,
                        num_weight_bits=weight_bits,
                        sign_mode=sign_modes[j.sign_mode],
                    )
                    out_port.connect(syn.s_in)
                    syn.a_out.connect(post_lif.a_in)
                    synapses.append(syn)
        sinks: dict[str, list] = {name: [] for name in recorded}
        for name in recorded:
            for lif in lifs[name]:
                sink = Sink(shape=lif.s_out.shape, buffer=steps)
                lif.s_out.connect(sink.a_in)
                sinks[name].append(sink)
        spikes = {n: np.zeros((batch, steps, b.population(n).size), np.uint8) for n in recorded}
        final_v = {n: np.zeros((batch, b.population(n).size), np.int64) for n in recorded}
        final_u = {n: np.zeros((batch, b.population(n).size), np.int64) for n in recorded}
        anchor = next(iter(lifs.values()))[0]
        try:
            for i in range(batch):
                if i > 0:
                    source.data.set(x[i].T.astype(np.int64))
                anchor.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
                for name in recorded:  # read sinks and state before anything is reset or stopped
                    for lif, sink, idx in zip(lifs[name], sinks[name], self.groups[name], strict=True):
                        spikes[name][i][:, idx] = sink.data.get().T.astype(np.uint8)
                        final_v[name][i, idx] = lif.v.get()
                        final_u[name][i, idx] = lif.u.get()
                for group in lifs.values():  # reset state: no leakage into the next sample
                    for lif in group:
                        lif.u.set(np.zeros(lif.u.shape))
                        lif.v.set(np.zeros(lif.v.shape))
                for syn in synapses:
                    syn.a_buff.set(np.zeros(syn.a_buff.shape))
                if on_sample is not None:
                    on_sample(i + 1)
            counts = spikes[b.output.name].sum(1).astype(np.int64)
            result = SimResult(
                counts, spikes, final_v=final_v, final_u=final_u, samples=batch, seconds=time.perf_counter() - t0
            )
            if deliver is not None:
                deliver(result)
            return result
        finally:
            if anchor.runtime is not None:
                anchor.stop()


def child_job(request: Any, progress: Callable[[int], None], deliver: Callable[[Any], None]) -> None:
    """What the session child runs: ``request`` = (bundle, x, record)."""
    bundle, x, record = request
    LavaBackend(bundle).run_here(x, record, progress, deliver)
