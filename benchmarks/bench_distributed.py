"""Data-parallel training throughput: training samples per second with 1 and 2 processes
(torchrun, gloo, one thread each), and 1 process with 2 threads, on the quickstart network
(digits-saccade, 256 SC-ML neurons, batch 64 cut into 2 micro-batches in every case so the
three runs compute the same gradients). Saves benchmarks/results/bench_distributed.json.
Run: python benchmarks/bench_distributed.py [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]


def train(out: Path, processes: int, threads: int, epochs: int) -> dict:
    sets = [
        "data.name=digits-saccade",
        "search.enabled=false",
        f"train.epochs={epochs}",
        "train.micro_batches=2",
        "report.plots=false",
        f"train.threads={threads}",
    ]
    cmd = [
        "-m",
        "neuromotif",
        "train",
        str(ROOT / "configs" / "quickstart.yaml"),
        "--out",
        str(out),
        "-q",
        "--force",
        *[a for s in sets for a in ("--set", s)],
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    if processes == 1:
        subprocess.run([sys.executable, *cmd], check=True, env=env, cwd=ROOT)
    else:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "torch.distributed.run",
                f"--nproc_per_node={processes}",
                "--master_port",
                "29641",
                *cmd,
            ],
            check=True,
            env=env,
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
    history = [json.loads(line) for line in (out / "train" / "history.jsonl").read_text().splitlines()]
    seconds = [h["seconds"] for h in history[1:]] or [history[0]["seconds"]]  # the first epoch warms up
    return {"processes": processes, "threads": threads, "epoch_seconds": seconds}


def main() -> None:
    from benchmarks.common import save
    from neuromotif.config import load_config
    from neuromotif.search.data import dataset_info

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    n_train = 1222  # digits-saccade training split
    assert dataset_info(load_config(None, ["data.name=digits-saccade"]).data).channels == 200
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for processes, threads in ((1, 1), (1, 2), (2, 1)):
            row = train(Path(tmp) / f"p{processes}t{threads}", processes, threads, args.epochs)
            row["samples_per_s"] = n_train / (sum(row["epoch_seconds"]) / len(row["epoch_seconds"]))
            rows.append(row)
            print(
                f"{processes} process(es) x {threads} thread(s): {row['samples_per_s']:.0f} training samples/s",
                flush=True,
            )
    base = rows[0]["samples_per_s"]
    for row in rows:
        row["speedup_vs_1x1"] = row["samples_per_s"] / base
    save("bench_distributed", {"rows": rows, "cores": os.cpu_count()})


if __name__ == "__main__":
    main()
