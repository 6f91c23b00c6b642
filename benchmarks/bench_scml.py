"""Forward + backward time and peak memory per batch (batch 32, T = 100): SC-ML (m = 8, 16)
against dense recurrent LIF layers of the same N: our fully connected baseline and, when they
are installed, snnTorch's ``RLeaky`` and ``RSynaptic`` (all-to-all recurrence) and Norse's
``LIFRecurrent``. N = 512 .. 8192, 100 input channels, 2 CPU threads, the same CPU torch 2.13.

Each configuration runs in a fresh process, so peak memory (max RSS) is its own; the ratio
columns compare each peer with SC-ML (m = 8) measured in this one run. Targets: SC-ML >= 5x
faster than every dense peer at N = 4096; SC-ML memory growing linearly with N.
Peers install without pulling another torch: ``pip install --no-deps snntorch==1.0.0 nir
nirtorch`` and Norse 1.1.0 from its sdist with ``--no-deps --no-build-isolation``.
Run: python benchmarks/bench_scml.py [--quick]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZES = [512, 1024, 2048, 4096, 8192]
QUICK_SIZES = [512, 1024]
BATCH, STEPS, INPUTS = 32, 100, 100


def measure(kind: str, n: int, m: int) -> dict:
    import torch

    from benchmarks.common import peak_rss_mb

    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(BATCH, STEPS, INPUTS, generator=gen) < 0.1).float()
    if kind in ("snntorch", "snntorch-rsynaptic"):
        import snntorch as snn

        fc = torch.nn.Linear(INPUTS, n)
        if kind == "snntorch":
            lif = snn.RLeaky(beta=0.9, linear_features=n, all_to_all=True)
        else:
            lif = snn.RSynaptic(alpha=0.75, beta=0.9, linear_features=n, all_to_all=True)

        def step():
            state = lif.init_rleaky() if kind == "snntorch" else lif.init_rsynaptic()
            out = []
            cur = fc(x)
            for t in range(STEPS):
                spk, *state = lif(cur[:, t], *state)
                out.append(spk)
            return torch.stack(out, 1)

        params = list(fc.parameters()) + list(lif.parameters())
    elif kind == "norse":
        from norse.torch import LIFRecurrent

        lif = LIFRecurrent(INPUTS, n)
        xt = x.transpose(0, 1).contiguous()  # Norse is time-first

        def step():
            return lif(xt)[0]

        params = list(lif.parameters())
    else:
        from neuromotif.search.arch import NeuronParams, build_arch
        from neuromotif.search.model import make_layer

        spec = build_arch("scml" if kind == "scml" else "dense", [n], m, INPUTS, 2, NeuronParams()).layers[0]
        layer = make_layer(INPUTS, spec, gen)

        def step():
            return layer(x)["spikes"]

        params = list(layer.parameters())
    base = peak_rss_mb()
    times = []
    for _ in range(3 if n <= 4096 or kind == "scml" else 2):
        for p in params:
            p.grad = None
        t0 = time.perf_counter()
        out = step()
        out.sum().backward()
        times.append(time.perf_counter() - t0)
    return {
        "kind": kind,
        "neurons": n,
        "motif": m if kind == "scml" else None,
        "seconds_per_batch": statistics.median(times[1:]),
        "peak_rss_mb": peak_rss_mb(),
        "rss_over_start_mb": peak_rss_mb() - base,
        "recurrent_params": sum(p.numel() for p in params) - n * INPUTS,
    }


def main() -> None:
    from benchmarks.common import run_isolated, save, table

    sizes = QUICK_SIZES if "--quick" in sys.argv else SIZES
    kinds = [("scml", 8), ("scml", 16), ("dense", 0)]
    import importlib.util

    for module, peers in (("snntorch", ("snntorch", "snntorch-rsynaptic")), ("norse", ("norse",))):
        if importlib.util.find_spec(module) is None:
            print(f"{module} not installed: skipping {', '.join(peers)} (see the module docstring to install it)")
        else:
            kinds += [(peer, 0) for peer in peers]
    rows = []
    for n in sizes:
        per = {}
        for kind, m in kinds:
            r = run_isolated("benchmarks.bench_scml", "--one", kind, str(n), str(m), timeout=1800)
            per[(kind, m)] = r
            rows.append(r)
            print(
                f"N={n:>5} {kind:<8} m={m or '-':<3} {r['seconds_per_batch']:.3f} s/batch, "
                f"+{r['rss_over_start_mb']:.0f} MB",
                flush=True,
            )
        dense = per[("dense", 0)]
        scml = per[("scml", 8)]
        for r in per.values():
            r["dense_over_this_time"] = dense["seconds_per_batch"] / r["seconds_per_batch"]
            r["dense_over_this_memory"] = dense["rss_over_start_mb"] / max(r["rss_over_start_mb"], 1e-9)
            r["this_over_scml8_time"] = r["seconds_per_batch"] / scml["seconds_per_batch"]
    print(
        table(
            rows,
            [
                "kind",
                "neurons",
                "motif",
                "seconds_per_batch",
                "rss_over_start_mb",
                "recurrent_params",
                "dense_over_this_time",
                "this_over_scml8_time",
            ],
        )
    )
    at = {(r["kind"], r["motif"], r["neurons"]): r for r in rows}
    peers = [k for k, _ in kinds if k != "scml"]
    targets = {
        f"scml_m{m}_5x_faster_than_{peer}_at_4096": at.get((peer, None, 4096), {}).get("seconds_per_batch", 0)
        >= 5 * at.get(("scml", m, 4096), {}).get("seconds_per_batch", float("inf"))
        for m in (8, 16)
        for peer in peers
    }
    print("targets:", targets)
    print(
        "saved",
        save(
            "bench_scml",
            {"batch": BATCH, "steps": STEPS, "inputs": INPUTS, "threads": 2, "rows": rows, "targets": targets},
        ),
    )


if __name__ == "__main__":
    if "--one" in sys.argv:
        i = sys.argv.index("--one")
        print(json.dumps(measure(sys.argv[i + 1], int(sys.argv[i + 2]), int(sys.argv[i + 3]))))
    else:
        main()
