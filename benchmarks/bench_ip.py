"""Does SpiKL-IP move the neurons? IP windows alone (weights frozen) on a trained quickstart model.

From the trained model's hidden layer, 15 windows of 4 training batches (64 samples) each; after
every window the hidden layer's mean rate and the KL of its per-sample rates to the target
(an exponential of mean ``search.ip.target_rate`` = 0.1) on the first 256 training samples.
Variants: the paper's closed-form step applied to R and tau (``linear``, what shipped before),
the same gradient taken in ln R and ln tau (``log``, the default), and ``log`` with the gain's
lower bound at 0.03 instead of 0.25 (is the bound what stops it?). Writes
``benchmarks/results/bench_ip.json`` (with provenance and the model's digest) and ``.md``.

The model should be one whose hidden layer is far from the target, e.g. one trained with the old
step (the committed result used the quickstart seed-0 model of the previous wave: rate 0.29); a
model trained with today's IP and activity regulariser already sits at the target.
Run: python benchmarks/bench_ip.py [--model runs/quickstart/model.pt] (trains the quickstart if missing)
"""

from __future__ import annotations

import argparse
import copy
import hashlib
from pathlib import Path

from common import RESULTS, ROOT, run_quickstart, save, table

VARIANTS = {
    "linear (paper's step in R)": {"step": "linear", "gain_floor": 0.25},
    "log (default)": {"step": "log", "gain_floor": 0.25},
    "log, gain floor 0.03": {"step": "log", "gain_floor": 0.03},
}
WINDOWS, BATCHES, BATCH = 15, 4, 64


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=ROOT / "runs" / "quickstart" / "model.pt")
    args = ap.parse_args()
    if not args.model.exists():
        run_quickstart("run", args.model.parent)

    import numpy as np
    import torch

    from neuromotif.config import load_config
    from neuromotif.search.data import load_dataset
    from neuromotif.search.plasticity import SpiKLIP, rate_kl, run_ip
    from neuromotif.search.train import load_model

    torch.set_num_threads(1)
    cfg = load_config(ROOT / "configs" / "quickstart.yaml")
    target = cfg.search.ip.target_rate
    train = load_dataset(cfg.data, cfg.seed).train
    model0, _ = load_model(args.model)
    probe = torch.as_tensor(train.spikes(np.arange(256)), dtype=torch.float32)

    def measure(model) -> tuple[float, float]:
        with torch.no_grad():
            rates = model(probe, record=True)["trace"][0]["spikes"].mean(1).flatten().numpy()
        return float(rates.mean()), rate_kl(rates, target)

    rows, series = [], {}
    for name, v in VARIANTS.items():
        rng = np.random.default_rng(0)  # the same batches for every variant
        model = copy.deepcopy(model0)
        ip = SpiKLIP(target_rate=target, eta=cfg.search.ip.eta, step=v["step"], gain_range=(v["gain_floor"], 4.0))
        points = [measure(model)]
        for _ in range(WINDOWS):
            batches = [train.spikes(rng.choice(len(train), BATCH, replace=False)) for _ in range(BATCHES)]
            run_ip(model, batches, ip, torch.device("cpu"))
            points.append(measure(model))
        layer = model.layers[0]
        gain = layer.gain.numpy()
        best = min(range(len(points)), key=lambda i: points[i][1])
        rows.append(
            {
                "variant": name,
                "rate_before": points[0][0],
                "rate_after": points[-1][0],
                "kl_before": points[0][1],
                "kl_after": points[-1][1],
                "kl_min": points[best][1],
                "kl_min_window": best,
                "gain_at_floor": float(np.mean(gain <= v["gain_floor"] * (1 + 1e-6))),
            }
        )
        series[name] = [{"window": i, "rate": r, "kl": k} for i, (r, k) in enumerate(points)]
        print(rows[-1], flush=True)
    digest = hashlib.sha256(args.model.read_bytes()).hexdigest()[:16]
    save(
        "bench_ip",
        {
            "model": str(args.model),
            "model_sha256_16": digest,
            "target_rate": target,
            "eta": cfg.search.ip.eta,
            "windows": WINDOWS,
            "batches_per_window": BATCHES,
            "rows": rows,
            "series": series,
        },
    )
    md = table(rows, list(rows[0]))
    (RESULTS / "bench_ip.md").write_text(f"IP alone on {args.model.name} ({digest}), target rate {target}.\n\n{md}\n")
    print(md)


if __name__ == "__main__":
    main()
