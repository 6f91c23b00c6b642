"""The torch backend against the numpy CPU backend on this machine's CPU, side by side in one run:
SC-ML bundles of N = 256, 1024, 4096 neurons, 128 samples x 100 steps at 10 % input activity; time
per sample, median of 3 runs each, spikes checked identical. On a GPU machine add ``--device cuda``.
Saves benchmarks/results/bench_torch_backend.json (with provenance).

Run: python benchmarks/bench_torch_backend.py [--device cuda]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from common import save, table

SIZES = [256, 1024, 4096]


def main() -> None:
    import torch

    from neuromotif.deploy.backends import make_backend
    from neuromotif.deploy.synthetic_bundles import scml_bundle

    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--samples", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(2)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            bundle = scml_bundle(Path(tmp) / f"b{n}", n, motif_size=16, inputs=64)
            x = (np.random.default_rng(0).random((args.samples, 100, 64)) < 0.1).astype(np.uint8)
            backends = {
                "numpy": make_backend("cpu", bundle),
                "torch": make_backend("torch", bundle, device=args.device),
            }
            times, spikes = {}, {}
            for name, backend in backends.items():
                runs = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    r = backend.run(x, record=("h",))
                    runs.append(time.perf_counter() - t0)
                times[name], spikes[name] = statistics.median(runs), r.spikes["h"]
            assert np.array_equal(spikes["numpy"], spikes["torch"]), f"N = {n}: spikes differ"
            rows.append(
                {
                    "neurons": n,
                    "numpy_ms_per_sample": 1e3 * times["numpy"] / args.samples,
                    "torch_ms_per_sample": 1e3 * times["torch"] / args.samples,
                    "torch_over_numpy": times["torch"] / times["numpy"],
                    "identical_spikes": True,
                    "hidden_rate": float(spikes["numpy"].mean()),
                }
            )
    print(table(rows, list(rows[0])))
    print(
        "saved",
        save("bench_torch_backend", {"device": args.device, "samples": args.samples, "steps": 100, "rows": rows}),
    )


if __name__ == "__main__":
    main()
