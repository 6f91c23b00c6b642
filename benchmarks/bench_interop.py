"""Importing from snnTorch and Norse, measured: our import and our fixed point against the peer's predictions.

Three snnTorch topologies (`tests/deploy/nir_reference.snntorch_topology`): biases on every
Linear and on the recurrence (RLeaky all-to-all), two hidden layers (Synaptic, then RLeaky
all-to-all), one-to-one recurrence (RLeaky all_to_all=False); 64 hidden neurons, trained 6 epochs
on the whole digits-saccade training split with the chip's reset (to zero, in the spike's step),
exported by snnTorch's ``export_to_nir``, imported and compiled by ``neuromotif compile`` (loihi2);
and a Norse network (Linear -> LIFBoxCell -> Linear -> LIFBoxCell, the same training budget)
exported by Norse's ``to_nir`` and written with ``nir.write``. Per network, on the 359 test samples:

- the import: our float network under the chip's semantics against the peer's modules run with
  the chip's one-step hop delay (predictions and output spike counts);
- the fixed point (CPU backend, what the chip runs): against the peer's own zero-delay forward
  and against the same modules with the hop delay.

Three seeds per topology (mean ± sample sd). Writes ``benchmarks/results/bench_interop.json``.
Run: python benchmarks/bench_interop.py [--quick]   (needs ``make peers``)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from common import save

from neuromotif.config import load_config
from neuromotif.search.data import load_dataset
from tests.deploy.nir_reference import TOPOLOGIES, norse_import_agreement, snntorch_import_agreement

SEEDS = (0, 1, 2)
MEASURES = (
    "peer_accuracy",
    "fixed_point_accuracy",
    "import_agreement_hop_delay_modelled",
    "import_spike_count_difference",
    "fixed_point_agreement",
    "fixed_point_agreement_hop_delay_modelled",
    "fixed_point_spike_count_difference",
)


def main() -> None:
    quick = "--quick" in sys.argv
    seeds = SEEDS[:1] if quick else SEEDS
    data = load_dataset(load_config(None, ["data.name=digits-saccade"]).data, 0)
    rows, summary = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in (*TOPOLOGIES, "norse"):
            for seed in seeds:
                folder = Path(tmp) / f"{kind}-{seed}"
                folder.mkdir()
                train = dict(hidden=64, epochs=6, samples=len(data.train), seed=seed)
                if kind == "norse":
                    r = norse_import_agreement(data, folder, **train)
                else:
                    r = snntorch_import_agreement(data, kind, folder, **train)
                r["seed"] = seed
                rows.append(r)
                print(
                    f"{kind} seed {seed}: peer {r['peer_accuracy']:.4f}, fixed point "
                    f"{r['fixed_point_accuracy']:.4f}; import = peer with hop delay "
                    f"{r['import_agreement_hop_delay_modelled']:.4f}; fixed point = peer "
                    f"{r['fixed_point_agreement']:.4f} "
                    f"({r['fixed_point_agreement_hop_delay_modelled']:.4f} with hop delay)",
                    flush=True,
                )
            values = {m: [r[m] for r in rows if r["topology"] == kind] for m in MEASURES}
            summary[kind] = {
                m: {"mean": statistics.mean(v), "sd": statistics.stdev(v) if len(v) > 1 else 0.0, "min": min(v)}
                for m, v in values.items()
            }
    print("saved", save("bench_interop", {"seeds": list(seeds), "rows": rows, "summary": summary, "quick": quick}))


if __name__ == "__main__":
    main()
