"""CPU backend vs Lava on the same bundles: wall time per sample, one sample and batched, with a
check that the spikes are identical; and compile time of a 10^6-neuron SC-ML network.

Bundles: untrained SC-ML networks (200 inputs -> N neurons, m = 16 -> 10 readout), T = 100,
random input spikes (10 %), input weights scaled for a trained network's activity (~10 %).
The 10^6-neuron network's readout listens to the last 1,024 neurons (a dense readout of 10^6
neurons breaks the fan-in design rule, as it would on the chip). "Batched" = 256 samples: the CPU
backend runs them as one vectorised batch; Lava runs them one after another in one runtime session (its fastest use), on
fewer samples at large N (its time per sample is constant after start-up: 16 / 8 / 2 samples at
N = 256 / 1024 / 4096), and the throughput ratio compares time per sample. The spikes of every
sample Lava ran are compared with the CPU backend's.
Lava cold vs steady state: every Lava call starts Lava's processes and compiles (the cold figures
include it, as a user of one call pays it); its steady state per sample is (time of k samples -
time of 1 sample) / (k - 1) from the same two calls, and its start-up is what is left of the
one-sample call. CPU times are medians of 5 runs (min and max saved beside them), not best-of-N.
Targets: CPU >= 100x Lava on one sample, >= 1000x in batched throughput.
Run: python benchmarks/bench_backends.py [--quick]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZES = [256, 1024, 4096]
LAVA_SAMPLES = {256: 16, 1024: 8, 4096: 2}
STEPS, INPUTS, BATCH = 100, 200, 256
QUICK_BATCH = 16
REPEATS = 5


INPUT_GAIN = 0.25  # with RECURRENT_GAIN, brings the untrained net's hidden spike rate to ~10 %
RECURRENT_GAIN = 0.2
READOUT_FAN_IN = 1024


def bundle_for(n: int, out: Path, inputs: int = INPUTS, motif: int = 16, input_gain: float = INPUT_GAIN):
    import torch

    from neuromotif.deploy.compile import compile_network
    from neuromotif.search.arch import NeuronParams, build_arch
    from neuromotif.search.export import to_float_network
    from neuromotif.search.model import RSNN

    model = RSNN(build_arch("scml", [n], motif, inputs, 10, NeuronParams()), seed=0)
    with torch.no_grad():
        model.layers[0].w_in.mul_(input_gain)
        model.layers[0].w_rec.mul_(RECURRENT_GAIN)
        model.readout.w_in[:, : max(n - READOUT_FAN_IN, 0)] = 0.0
    return compile_network(to_float_network(model), "loihi2", out)[0]


def main() -> None:
    import numpy as np
    import torch

    from benchmarks.common import save, table
    from neuromotif.core.progress import set_quiet
    from neuromotif.deploy.backends.cpu import CPUBackend
    from neuromotif.deploy.backends.lava import LavaBackend
    from neuromotif.deploy.divergence import spike_mismatches

    set_quiet(True)
    torch.set_num_threads(2)
    quick = "--quick" in sys.argv
    batch = QUICK_BATCH if quick else BATCH
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            bundle = bundle_for(n, Path(tmp) / f"b{n}")
            x = (np.random.default_rng(n).random((batch, STEPS, INPUTS)) < 0.1).astype(np.uint8)
            names = tuple(p.name for p in bundle.neuron_populations)
            cpu = CPUBackend(bundle)
            cpu.run(x[:1])  # warm-up
            one_times, batch_times = [], []
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                one_cpu = cpu.run(x[:1], record=names)
                one_times.append(time.perf_counter() - t0)
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                all_cpu = cpu.run(x, record=names)
                batch_times.append(time.perf_counter() - t0)
            cpu_one_s, cpu_batch_s = statistics.median(one_times), statistics.median(batch_times)
            lava = LavaBackend(bundle, timeout_s=3600)
            t0 = time.perf_counter()
            one_lava = lava.run(x[:1], record=names)
            lava_one_s = time.perf_counter() - t0  # includes Lava's compile + start-up, as a user pays it
            lava_n = min(batch, LAVA_SAMPLES[n])
            t0 = time.perf_counter()
            all_lava = lava.run(x[:lava_n], record=names)
            lava_batch_s = time.perf_counter() - t0
            # (lava_n > 1 at every size: the difference of the two calls is Lava's time for lava_n - 1 samples)
            steady = (lava_batch_s - lava_one_s) / (lava_n - 1)
            head = {k: v[:lava_n] for k, v in all_cpu.spikes.items()}
            mismatches = spike_mismatches(one_cpu.spikes, one_lava.spikes) + spike_mismatches(head, all_lava.spikes)
            row = {
                "neurons": n,
                "samples": batch,
                "lava_samples": lava_n,
                "steps": STEPS,
                "lava_processes": lava.process_count(),
                "cpu_one_sample_s": cpu_one_s,
                "lava_one_sample_s": lava_one_s,
                "one_sample_speedup": lava_one_s / cpu_one_s,
                "cpu_per_sample_batched_s": cpu_batch_s / batch,
                "lava_per_sample_batched_s": lava_batch_s / lava_n,
                "batched_throughput_speedup": (lava_batch_s / lava_n) / (cpu_batch_s / batch),
                "cpu_one_sample_range_s": [min(one_times), max(one_times)],
                "cpu_batched_range_s": [min(batch_times), max(batch_times)],
                "lava_startup_s": lava_one_s - steady,
                "lava_steady_per_sample_s": steady,
                "steady_throughput_speedup": steady / (cpu_batch_s / batch),
                "hidden_spike_rate": float(all_cpu.spikes[names[0]].mean()),
                "spike_mismatches": mismatches,
            }
            rows.append(row)
            print(
                f"N={n}: one sample CPU {cpu_one_s * 1e3:.1f} ms vs Lava {lava_one_s:.2f} s "
                f"({row['one_sample_speedup']:.0f}x); per sample in a batch: CPU {cpu_batch_s / batch * 1e3:.2f} ms "
                f"({batch}) vs Lava {lava_batch_s / lava_n:.2f} s ({lava_n}) "
                f"({row['batched_throughput_speedup']:.0f}x); mismatches {mismatches}",
                flush=True,
            )
        t0 = time.perf_counter()
        big = bundle_for(62_500 * 16, Path(tmp) / "big", inputs=16)
        compile_s = time.perf_counter() - t0
        print(
            f"compile 10^6-neuron SC-ML (16 inputs, m=16, loihi2): {compile_s:.1f} s, "
            f"{big.manifest['placement']['cores']} cores, {big.manifest['placement']['chips']} chips"
        )
    print(table(rows, list(rows[0])))
    targets = {
        "one_sample_100x": all(r["one_sample_speedup"] >= 100 for r in rows),
        "batched_1000x": all(r["batched_throughput_speedup"] >= 1000 for r in rows),
        "zero_mismatches": all(r["spike_mismatches"] == 0 for r in rows),
    }
    print("targets:", targets)
    print(
        "saved",
        save(
            "bench_backends",
            {
                "rows": rows,
                "compile_1e6_s": compile_s,
                "compile_1e6_cores": big.manifest["placement"]["cores"],
                "targets": targets,
                "quick": quick,
            },
        ),
    )


if __name__ == "__main__":
    main()
