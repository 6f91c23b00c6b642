"""Partition, place and check SC-ML layers of 10^3 .. 10^6 neurons onto Loihi 2.

Network: 700 input channels (dense) -> one SC-ML layer (m = 16, ring neighbours). Each size
runs in a fresh process (peak memory = that process's max RSS). Also compares, on the same
network, total expected hop traffic (spikes x hops per step) of the motif-aware partitioner
with serpentine + traffic-swap placement against naive contiguous filling with row-major
placement. Targets: 10^6 neurons in < 60 s and < 4 GB, about linear growth.
Run: python benchmarks/bench_mapping.py [--quick]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZES = [1_024, 10_000, 100_000, 1_000_000]  # multiples of the motif size
QUICK_SIZES = [1_024, 10_000]


def measure(n: int) -> dict:
    from benchmarks.common import peak_rss_mb
    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.mapper import map_network
    from neuromotif.hw_models.partition import partition
    from neuromotif.hw_models.placement import place, total_hop_traffic
    from neuromotif.hw_models.synthetic_netlists import scml_net

    chip = load_chip("loihi2")
    t0 = time.perf_counter()
    net = scml_net(n, 16, inputs=700, outputs=0)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    mapping = map_network(net, chip)
    t_map = time.perf_counter() - t0
    smart = total_hop_traffic(net, mapping.placement)
    t0 = time.perf_counter()
    naive_cores = partition(net, chip, motif_aware=False)
    naive = total_hop_traffic(net, place(net, naive_cores, chip, order="row-major", swaps=False))
    t_naive = time.perf_counter() - t0
    motif_rowmajor = total_hop_traffic(net, place(net, mapping.cores, chip, order="row-major", swaps=False))
    return {
        "neurons": n,
        "synapses": int(net.csr(net.projections[1]).nnz) + 700 * n,
        "build_s": t_build,
        "map_s": t_map,
        "naive_map_s": t_naive,
        "peak_rss_mb": peak_rss_mb(),
        "cores": len(mapping.cores),
        "chips": mapping.placement.n_chips,
        "hop_traffic_motif_aware": smart,
        "hop_traffic_motif_rowmajor": motif_rowmajor,
        "hop_traffic_naive": naive,
        "naive_over_motif_aware": naive / smart if smart else float("nan"),
    }


def main() -> None:
    from benchmarks.common import run_isolated, save, table

    sizes = QUICK_SIZES if "--quick" in sys.argv else SIZES
    rows = []
    for n in sizes:
        row = run_isolated("benchmarks.bench_mapping", "--one", str(n))
        rows.append(row)
        print(
            f"N={n:>9,}: map {row['map_s']:.2f} s, peak {row['peak_rss_mb']:.0f} MB, {row['cores']} cores, "
            f"{row['chips']} chips, hop traffic naive/motif-aware = {row['naive_over_motif_aware']:.2f}x",
            flush=True,
        )
    cols = [
        "neurons",
        "synapses",
        "map_s",
        "peak_rss_mb",
        "cores",
        "chips",
        "hop_traffic_naive",
        "hop_traffic_motif_rowmajor",
        "hop_traffic_motif_aware",
        "naive_over_motif_aware",
    ]
    print(table(rows, cols))
    big = rows[-1]
    targets = {
        "1e6_under_60s": big["neurons"] >= 1_000_000 and big["map_s"] < 60,
        "1e6_under_4GB": big["neurons"] >= 1_000_000 and big["peak_rss_mb"] < 4096,
    }
    print("targets:", targets)
    print(
        "saved",
        save("bench_mapping", {"chip": "loihi2", "motif_size": 16, "inputs": 700, "rows": rows, "targets": targets}),
    )


if __name__ == "__main__":
    if "--one" in sys.argv:
        print(json.dumps(measure(int(sys.argv[sys.argv.index("--one") + 1]))))
    else:
        main()
