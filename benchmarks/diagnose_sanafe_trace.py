"""What makes up SANA-FE 2.2.9's detailed step time at scale (issue 33), read from its own message
trace: a diagnosis beside ``bench_sanafe.py``'s grid (same synthetic SC-ML bundles, same
Loihi 1 placements, one case per fresh process).

Per step, the message processed last (SANA-FE's step time is that timestamp plus the barrier) is
split into: its send time (the generation delays of every message its source core sent before
it, plus the blocking delays that source accumulated: SANA-FE pushes all of a source's later
messages back by each block), its network delay (SANA-FE's congestion term: the messages in
flight along its route, a message counting as in flight until its destination starts it, times
their mean receive delay, over hops + 1), its wait in the destination's queue and its
processing. Also per step: the busiest core's generation time and whether the message's source is
the core SANA-FE's input neurons share (tile 0 has no free core once a placement fills it).

The placements are the mapper's, as they were before the cross-check moved a core off a full
tile 0 (``sanafe_crosscheck.with_host_core``): this file is the evidence for that move.

Also the mean receive time of a message (its destination's processing delay) from the input
neurons' core and from the others: an input spike reaches more synapses per core.

Medians over the 50 steps. Prints and saves ``results/diagnose_sanafe_trace.json``.
Run: python benchmarks/diagnose_sanafe_trace.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

CASES = [  # (neurons, per core, activity, readout): both readouts at 17 and 65 cores, and the whole chip
    (1024, 64, "~45 %", "one core"),
    (1024, 64, "~45 %", "high fan-in"),
    (4096, 64, "~45 %", "one core"),
    (4096, 64, "~45 %", "high fan-in"),
    (16384, 160, "~45 %", "one core"),
    (16384, 160, "~97 %", "one core"),
]
PARTS = ("step_us", "generation_us", "blocking_us", "network_us", "queue_wait_us", "processing_us")
PARTS += ("busiest_core_gen_us",)


def case(n: int, per_core: int, activity: str, readout: str) -> dict:
    from bench_sanafe import STEPS, grid_bundle

    from neuromotif.deploy.backends.sanafe import _sanafe_cores, require_sanafe, sanafe_network

    with tempfile.TemporaryDirectory() as tmp:
        b, mapping = grid_bundle(Path(tmp) / "b", n, per_core, activity, readout)
        placement = mapping.placement
        x = (np.random.default_rng(0).random((STEPS, 64)) < 0.1).astype(np.float32)
        sanafe = require_sanafe()
        arch, net = sanafe_network(b, placement, x)
        chip = sanafe.SpikingChip(arch)
        chip.load(net)
        res = chip.sim(STEPS, timing_model="detailed", message_trace=True)
    slots, input_slot = _sanafe_cores(placement, b.input.size)
    shared = input_slot in slots  # the input neurons share a core with ours
    per_step: dict[str, list[float]] = {k: [] for k in PARTS}
    critical_is_input_core, input_core_messages = [], []
    receive_ns: dict[str, list[float]] = {"input_core": [], "other_cores": []}  # per step: mean receive time
    for msgs in res["message_trace"]:
        real = [m for m in msgs if not m["placeholder"]]
        if not real:
            continue
        last = max(real, key=lambda m: m["processed_timestamp"])
        mine = [m for m in msgs if m["src_core_id"] == last["src_core_id"] and m["mid"] <= last["mid"]]
        gen: dict[int, float] = {}
        for m in msgs:
            gen[m["src_core_id"]] = gen.get(m["src_core_id"], 0.0) + m["generation_delay"]
        wait = last["received_timestamp"] - last["send_timestamp"] - last["network_delay"]
        values = (
            last["processed_timestamp"],
            sum(m["generation_delay"] for m in mine),
            sum(m["blocking_delay"] for m in mine),
            last["network_delay"],
            wait,
            last["processing_delay"],
            max(gen.values()),
        )
        for key, value in zip(PARTS, values, strict=True):
            per_step[key].append(1e6 * value)
        tile_core = (last["src_tile_id"], last["src_core_offset"])
        critical_is_input_core.append(tile_core == input_slot)
        from_input_core = [m for m in real if (m["src_tile_id"], m["src_core_offset"]) == input_slot]
        input_core_messages.append(len(from_input_core) / len(real))
        others = [m for m in real if (m["src_tile_id"], m["src_core_offset"]) != input_slot]
        for key, group in (("input_core", from_input_core), ("other_cores", others)):
            if group:
                receive_ns[key].append(1e9 * float(np.mean([m["processing_delay"] for m in group])))
    return {
        "neurons": n,
        "cores": len(placement.cores),
        "activity_target": activity,
        "readout": readout,
        "inputs_share_a_core": bool(shared),
        "sanafe_us": 1e6 * float(res["sim_time"]),
        "median_per_step": {k: float(np.median(v)) for k, v in per_step.items()},
        "steps_critical_from_input_core": float(np.mean(critical_is_input_core)),
        "input_core_share_of_messages": float(np.mean(input_core_messages)),
        # what one message costs its destination (SANA-FE's processing delay), medians over steps
        "median_receive_ns": {k: float(np.median(v)) if v else None for k, v in receive_ns.items()},
    }


def main() -> None:
    from common import run_isolated, save

    if len(sys.argv) > 1 and sys.argv[1] == "--case":
        print(json.dumps(case(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])))
        return
    rows = []
    for n, per_core, activity, readout in CASES:
        args = ("--case", str(n), str(per_core), activity, readout)
        rows.append(run_isolated("benchmarks.diagnose_sanafe_trace", *args))
        r, m = rows[-1], rows[-1]["median_per_step"]
        print(
            f"{r['cores']:3d} cores {activity} {readout:11s}: step {m['step_us']:.2f} us = send "
            f"(gen {m['generation_us']:.2f} + block {m['blocking_us']:.2f}) + net {m['network_us']:.2f} + wait "
            f"{m['queue_wait_us']:.2f} + proc {m['processing_us']:.2f}; "
            f"busiest core gen {m['busiest_core_gen_us']:.2f}; "
            f"receive per message from the input core {r['median_receive_ns']['input_core']:.0f} ns, "
            f"from the others {r['median_receive_ns']['other_cores']:.0f} ns; "
            f"critical from the input core {100 * r['steps_critical_from_input_core']:.0f} % of steps",
            flush=True,
        )
    save("diagnose_sanafe_trace", {"cases": rows})


if __name__ == "__main__":
    main()
