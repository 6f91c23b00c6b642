"""The CPU backend against a memory-traffic model of this machine, and against its compute
ceiling, measured in one run. (It was called a roofline; it is not a bound: the model charges
every synaptic event a gathered 16-byte access, which the dense and motif kernels do not make.)

First the machine: attainable float32 GEMM throughput (numpy, 2048^3, best of 3) and memory
bandwidth (copying 256 MB arrays, best of 3). Then the backend on untrained SC-ML bundles
(200 inputs -> N neurons, m = 16 -> 10 readout; T = 100, batch 64) for N = 256 ... 16384 at
about 5, 10 and 30 % hidden activity (input gain set by bisection on N = 256), counting the
work it must do: synaptic events (every spike times its fan-out, input spikes included) and
neuron updates (samples x steps x neurons).

Model time for that work = max(2 flops per event / GEMM rate, bytes / bandwidth) with 16 bytes
per synaptic event (weight and index read, accumulator write) and 64 bytes per neuron update
(float64 u and v read and written, parameters). Reported: effective events per second
((events + updates) / time), the fraction of the model's time reached (model time / measured
time), the fraction of the compute ceiling alone (2 flops per event / GEMM rate / measured
time), and the per-sample cost as N grows at fixed activity.
Targets: within 5x of the model (fraction >= 0.2) at N >= 1024 and 10 % activity; per-sample
cost sublinear in N where the event-driven path applies (5 % activity, batch 1).
Run: python benchmarks/bench_memory_traffic.py [--quick]
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZES = [256, 1024, 4096, 16384]
ACTIVITIES = [0.05, 0.10, 0.30]
STEPS, INPUTS, BATCH = 100, 200, 64
BYTES_PER_EVENT, BYTES_PER_UPDATE = 16, 64


def machine_limits() -> dict:
    import numpy as np

    a = np.random.default_rng(0).random((2048, 2048), np.float32)
    a @ a
    gemm = []
    for _ in range(3):
        t0 = time.perf_counter()
        a @ a
        gemm.append(2 * 2048**3 / (time.perf_counter() - t0))
    src = np.ones(32 * 2**20)  # 256 MB of float64
    dst = np.empty_like(src)
    bw = []
    for _ in range(3):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        bw.append(2 * src.nbytes / (time.perf_counter() - t0))
    return {"gemm_flops": max(gemm), "bandwidth_bytes": max(bw)}


def work(bundle, result, x) -> tuple[float, float]:
    """Synaptic events and neuron updates of a run (from its rasters and the input)."""
    import numpy as np

    fanout = {j.pre: np.diff(j.weights.tocsc().indptr) for j in bundle.projections}
    events = float((x.sum(axis=(0, 1)) * fanout[bundle.input.name]).sum())
    for j in bundle.projections:
        if j.pre != bundle.input.name:
            events += float((result.spikes[j.pre].sum(axis=(0, 1)) * np.diff(j.weights.tocsc().indptr)).sum())
    updates = float(x.shape[0] * x.shape[1] * sum(p.size for p in bundle.neuron_populations))
    return events, updates


def gain_for(activity: float, tmp: Path) -> float:
    """Input gain giving about ``activity`` hidden spikes per neuron and step (bisection, N = 256)."""
    import numpy as np

    from benchmarks.bench_backends import bundle_for
    from neuromotif.deploy.backends.cpu import CPUBackend

    lo, hi = 0.02, 8.0
    x = (np.random.default_rng(1).random((4, STEPS, INPUTS)) < 0.1).astype(np.uint8)
    for i in range(9):
        mid = (lo * hi) ** 0.5
        b = bundle_for(256, tmp / f"g{activity}_{i}", input_gain=mid)
        rate = CPUBackend(b).run(x, record=("scml0",)).spikes["scml0"].mean()
        lo, hi = (mid, hi) if rate < activity else (lo, mid)
    return (lo * hi) ** 0.5


def main() -> None:
    import numpy as np

    from benchmarks.bench_backends import bundle_for
    from benchmarks.common import save, table
    from neuromotif.deploy.backends.cpu import CPUBackend

    quick = "--quick" in sys.argv
    sizes = SIZES[:2] if quick else SIZES
    limits = machine_limits()
    print(
        f"machine: float32 GEMM {limits['gemm_flops'] / 1e9:.1f} GFLOP/s, memory bandwidth "
        f"{limits['bandwidth_bytes'] / 1e9:.1f} GB/s",
        flush=True,
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        gains = {a: gain_for(a, Path(tmp)) for a in ACTIVITIES}
        for n in sizes:
            for activity in ACTIVITIES:
                bundle = bundle_for(n, Path(tmp) / f"b{n}_{activity}", input_gain=gains[activity])
                cpu = CPUBackend(bundle)
                x = (np.random.default_rng(n).random((BATCH, STEPS, INPUTS)) < 0.1).astype(np.uint8)
                cpu.run(x[:2])  # warm-up
                t0 = time.perf_counter()
                result = cpu.run(x, record=("scml0",))
                seconds = time.perf_counter() - t0
                t0 = time.perf_counter()
                cpu.run(x[:1])
                one = time.perf_counter() - t0
                events, updates = work(bundle, result, x)
                compute = 2 * events / limits["gemm_flops"]
                model = max(
                    compute, (BYTES_PER_EVENT * events + BYTES_PER_UPDATE * updates) / limits["bandwidth_bytes"]
                )
                row = {
                    "neurons": n,
                    "target_activity": activity,
                    "hidden_activity": float(result.spikes["scml0"].mean()),
                    "events_per_sample": events / BATCH,
                    "batch_s": seconds,
                    "per_sample_ms": 1e3 * seconds / BATCH,
                    "one_sample_ms": 1e3 * one,
                    "effective_events_per_s": (events + updates) / seconds,
                    "traffic_model_fraction": model / seconds,
                    "compute_ceiling_fraction": compute / seconds,
                }
                rows.append(row)
                print(
                    f"N={n} activity {row['hidden_activity']:.3f}: {row['per_sample_ms']:.2f} ms/sample batched, "
                    f"{row['one_sample_ms']:.1f} ms one sample, {row['effective_events_per_s'] / 1e6:.0f} M events/s, "
                    f"{100 * row['traffic_model_fraction']:.1f} % of the memory-traffic model, "
                    f"{100 * row['compute_ceiling_fraction']:.2f} % of the compute ceiling",
                    flush=True,
                )
    print(table(rows, list(rows[0])))
    at10 = [r for r in rows if r["target_activity"] == 0.10 and r["neurons"] >= 1024]
    low = sorted((r for r in rows if r["target_activity"] == 0.05), key=lambda r: r["neurons"])
    growth = [
        (b["one_sample_ms"] / a["one_sample_ms"]) / (b["neurons"] / a["neurons"]) for a, b in itertools.pairwise(low)
    ]
    targets = {
        "within_5x_of_the_model_at_10pct_N_ge_1024": all(r["traffic_model_fraction"] >= 0.2 for r in at10),
        "sublinear_per_sample_at_5pct": all(g < 1.0 for g in growth),
    }
    print("per-sample cost growth / N growth at 5 % (one sample):", [round(g, 2) for g in growth])
    print("targets:", targets)
    print(
        "saved",
        save(
            "bench_memory_traffic",
            {
                "machine": limits,
                "rows": rows,
                "gains": gains,
                "sublinear_growth_ratios": growth,
                "targets": targets,
                "quick": quick,
            },
        ),
    )


if __name__ == "__main__":
    main()
