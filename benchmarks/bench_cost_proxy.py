"""The differentiable chip-cost proxy (``search/cost_proxy.py``, what training and search see)
against the exact cost model of the compiled network on the CPU backend (the run's own
``report.json``): proxy / exact for energy per inference and latency per inference, and cores.

Takes finished run directories (model.pt, bundle/, simulation/, report.json); by default the
quickstart (runs/quickstart) and the letters-tts networks of the HRMAS ablation, seed 0, compiled
and simulated in place (`neuromotif compile RUN && neuromotif simulate RUN/bundle --out
RUN/simulation && neuromotif report RUN`). Target: within +-15 %. Missing runs are listed, not
fatal. Prints and saves benchmarks/results/bench_cost_proxy.json.
Run: python benchmarks/bench_cost_proxy.py [RUN_DIR ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT = [
    "runs/quickstart",
    "runs/quickstart-loihi1",
    "benchmarks/results/ablation/letters-tts/hrmas/seed0",
    "benchmarks/results/ablation/letters-tts/scml/seed0",
]


def measure(run: Path) -> dict:
    import torch

    from neuromotif.config import load_config
    from neuromotif.deploy.bundle import read_bundle
    from neuromotif.search.cost_proxy import rsnn_proxy
    from neuromotif.search.train import load_model
    from neuromotif.simulation import dataset_of

    report = json.loads((run / "report.json").read_text())
    config = load_config(run / "config.yaml")
    bundle = read_bundle(run / "bundle")
    model, _ = load_model(run / "model.pt")
    data, _ = dataset_of(bundle)
    _, cost = rsnn_proxy(
        model, bundle.manifest["chip"], config.train.objective.cost_table, config.compile.neurons_per_core
    )
    x = torch.from_numpy(data.test.spikes()).float()
    with torch.no_grad():
        c = cost(x, model(x, record=True)["trace"])
    exact_e, exact_t = report["energy"]["per_inference_J"] * 1e6, report["latency"]["per_inference_s"] * 1e3
    return {
        "run": str(run),
        "dataset": report["dataset"]["name"],
        "chip": report["chip"],
        "neurons": report["network"]["neurons"],
        "cores": report["resources"]["cores"],
        "proxy_cores": float(c["cores"]),
        "exact_energy_uJ": exact_e,
        "proxy_energy_uJ": float(c["energy_uJ"]),
        "energy_ratio": float(c["energy_uJ"]) / exact_e,
        "exact_latency_ms": exact_t,
        "proxy_latency_ms": float(c["latency_ms"]),
        "latency_ratio": float(c["latency_ms"]) / exact_t,
        "timing": report["latency"].get("model"),
    }


def main() -> None:
    from benchmarks.common import save, table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", type=Path, default=[Path(p) for p in DEFAULT])
    args = parser.parse_args()
    rows, missing = [], []
    for run in args.runs:
        if not (run / "report.json").exists():
            missing.append(str(run))
            continue
        rows.append(measure(run))
    print(
        table(
            rows,
            [
                "run",
                "dataset",
                "neurons",
                "cores",
                "exact_energy_uJ",
                "proxy_energy_uJ",
                "energy_ratio",
                "exact_latency_ms",
                "proxy_latency_ms",
                "latency_ratio",
            ],
        )
    )
    for m in missing:
        print(f"no report.json in {m}: compile, simulate and report it first (see this script's docstring)")
    save("bench_cost_proxy", {"rows": rows, "missing": missing})


if __name__ == "__main__":
    main()
