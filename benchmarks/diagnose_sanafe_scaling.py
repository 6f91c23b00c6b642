"""Where our pipeline timing departs from SANA-FE 2.2.9's detailed model at scale (issue 33): a
diagnosis, not the benchmark (``bench_sanafe.py`` is that).

Grid: synthetic SC-ML layers (m = 16, 64 inputs at 10 % per step, 50 steps) of 256 / 1,024 / 4,096
neurons at 64 per core (5 / 17 / 65 cores on Loihi 1) and 16,384 at 160 per core (113 cores: one
chip, as SANA-FE's Loihi model has; 500+ cores cannot be placed in it), hidden activity from ~4 % to ~97 % (the
threshold and the recurrent weights' sign), with a high-fan-in readout (10 outputs, each from 30 %
of the hidden neurons) and with a low-fan-in one (from one core only). Each case runs SANA-FE and
two timing models on SANA-FE's own spikes (so every event count is equal):

- ``pipeline``: today's model (per step: slowest core's longer pipeline + network + barrier);
- ``queue``: a fluid FIFO per destination core: each source core emits its messages evenly over its
  neuron pipeline's time (the host, its input messages one ``message_out`` apart), they arrive a
  route's hop time later, and the destination serves them in arrival order at its mean cost per
  message; the step ends when the last core finishes generating or serving, then the barrier.
  The network term is not added: its time overlaps the queues (as in SANA-FE's scheduler, which
  orders every message by its send time and serves each destination first-come first-served).

- ``burst``: the queue model, with each source's messages entering the mesh no faster than SANA-FE's
  congestion heuristic lets a burst through: SANA-FE delays a message by the messages in flight
  along its route (each counted 1 / (hops + 2) per link it uses) times their mean receive delay,
  over hops + 1. A burst of M messages one generation delay g apart from one source, whose
  routes share on average S links (the sum of squared link shares, its own output link
  included), then arrives one message per a = c * S / ((h + 2)(h + 1)) (c: the mean receive
  delay, h: the mean hops of its messages) once a > g: in flight grows as (1 - g / a) per message,
  and each waits a per message in flight. So a source's messages span max(its generation, M a).

Both sides run the crosscheck's placement: where a placement fills tile 0, one core moves so
SANA-FE's input neurons have a core of their own (``sanafe_crosscheck.with_host_core``).

Prints and saves ``results/diagnose_sanafe_scaling.json``: ours / SANA-FE per case (total, and the
per-step 5th / 95th percentiles). Run: python benchmarks/diagnose_sanafe_scaling.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SIZES = [(256, 64), (1024, 64), (4096, 64), (16384, 160)]  # 16,384: 113 cores, all of one Loihi 1 chip
ACTIVITY = {"~4 %": (10000, -64), "~15 %": (3000, -64), "~45 %": (150, -64), "~97 %": (30, 0)}  # (vth, rec low)
READOUT = {"high fan-in": 0.3, "one core": 0.0}
MAX_AXONS = 4000  # a readout neuron's inputs must fit Loihi 1's 4,096 input axons per core
STEPS = 50

from neuromotif.hw_models.timing import core_pipelines_ns  # noqa: E402
from neuromotif.hw_models.timing import pipeline_timing as PIPELINE  # noqa: E402  (before any patching)


def burst_timing(placement, table, counts, routes, spikes, samples, mesh):
    """The queue model with each source's burst paced by SANA-FE's congestion (module docstring)."""
    return queue_timing(placement, table, counts, routes, spikes, samples, mesh, burst=True)


def queue_timing(placement, table, counts, routes, spikes, samples, mesh, burst: bool = False):
    """The fluid-FIFO step time (see the module docstring); the rest of the result is the
    pipeline model's, so the cost model runs unchanged."""
    from neuromotif.hw_models.placement import HOST
    from neuromotif.hw_models.timing import link_incidence

    res = PIPELINE(placement, table, counts, routes, spikes, samples, mesh)
    per = 1.0 / samples
    syn, gen = core_pipelines_ns(table, counts, samples)
    steps, n_cores = syn.shape
    g, dst = routes.destinations[:, 0], routes.destinations[:, 1]
    src = np.where(counts.neuron_core[g] < 0, n_cores, counts.neuron_core[g])  # n_cores: the host
    pairs, pid = np.unique(src * n_cores + dst, return_inverse=True)
    ps, pd = pairs // n_cores, pairs % n_cores
    to_pair = sp.csr_matrix((np.ones(len(g)), (np.arange(len(g)), pid)), shape=(len(g), len(pairs)))
    m = per * (sp.csr_matrix(np.asarray(spikes, np.float64)[:, g]) @ to_pair).toarray()  # [T, pairs]
    psrc = np.where(ps == n_cores, HOST, ps)
    ew, ns, chips = placement.hops(psrc, pd)
    hop = ew * table.hop_ew.time_ns + ns * table.hop_ns.time_ns + chips * table.chip_hop.time_ns
    host = m[:, ps == n_cores].sum(1) * table.message_out.time_ns
    gen_all = np.concatenate([gen, host[:, None]], 1)
    barrier = table.barrier_ns(placement.n_tiles, placement.n_chips, table=True)
    if burst:  # fixed by the placement: each pair's hops and links, and its source lane
        hops = ew + ns + chips
        inc = link_incidence(placement, psrc, pd, mesh.tiles_x, mesh.tiles_y)[0]  # [pairs, links]
        src_of = sp.csr_matrix((np.ones(len(ps)), (ps, np.arange(len(ps)))), shape=(n_cores + 1, len(ps)))
    out = np.zeros(steps)
    for t in range(steps):
        arriving = np.bincount(pd, weights=m[t], minlength=n_cores)
        cost_d = np.where(arriving > 0, syn[t] / np.maximum(arriving, 1e-12), 0.0)
        span_src = gen_all[t]
        if burst:
            sent = src_of @ m[t]
            mean_cost = (src_of @ (m[t] * cost_d[pd])) / np.maximum(sent, 1e-12)
            mean_hops = (src_of @ (m[t] * hops)) / np.maximum(sent, 1e-12)
            pair_share = m[t] / np.maximum(sent[ps], 1e-12)  # each pair's share of its source's messages
            on_links = (src_of.multiply(pair_share[None, :]) @ inc).toarray()
            shared = 1.0 + (on_links**2).sum(1) + src_of.multiply((pair_share**2)[None, :]).sum(1).A1
            per_message = mean_cost * shared / ((mean_hops + 2) * (mean_hops + 1))
            span_src = np.maximum(span_src, sent * per_message)
        finish = float(span_src[:n_cores].max()) if n_cores else 0.0
        for d in np.flatnonzero(arriving > 0):
            sel = (pd == d) & (m[t] > 0)
            h, span, k = hop[sel], span_src[ps[sel]], m[t, sel]
            cost = cost_d[d]
            starts = np.concatenate([h, h + span])  # the arrival curve's breakpoints
            share = np.clip((starts[:, None] - h[None, :]) / np.maximum(span[None, :], 1e-12), 0, 1)
            share = np.where(span[None, :] <= 0, (starts[:, None] > h[None, :]).astype(float), share)
            finish = max(finish, float((starts + cost * (arriving[d] - share @ k)).max()))
        out[t] = finish + barrier
    return {**res, "per_step_ns": out.tolist()}


def bundle(path: Path, n: int, vth: int, rec_low: int, p_out: float, seed: int = 0):
    from neuromotif.deploy.synthetic_bundles import lif, make_bundle
    from neuromotif.hw_models.synthetic_netlists import scml_structure

    rng = np.random.default_rng(seed)

    def weights(mask, lo, hi):
        w = sp.csr_matrix(mask).astype(np.int64)
        w.data = 2 * rng.integers(lo, hi, w.nnz)
        w.eliminate_zeros()
        return w

    rec = weights(scml_structure(n, 16, seed=seed), rec_low, 48)
    w_in = weights(sp.random(n, 64, 0.2, random_state=seed, format="csr"), -16, 64)
    if p_out > 0:
        w_out = weights(sp.random(10, n, p_out, random_state=seed + 1, format="csr"), -64, 64)
    else:
        mask = sp.lil_matrix((10, n))
        mask[:, :16] = 1
        w_out = weights(mask, -64, 64)
    h, o = lif("h", n, 1024, 256, vth=vth, motif=16), lif("out", 10, 1024, 256, vth=vth)
    return make_bundle(path, 64, [h, o], [("input", "h", w_in, 2), ("h", "h", rec, 1), ("h", "out", w_out, 1)])


def case(n: int, per_core: int, activity: str, readout: str) -> dict:
    import neuromotif.hw_models.timing as timing
    from neuromotif.deploy.compile import bundle_netlist
    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.chip import with_core_limit
    from neuromotif.hw_models.mapper import map_network
    from neuromotif.sanafe_crosscheck import crosscheck

    vth, rec_low = ACTIVITY[activity]
    row: dict = {"neurons": n, "per_core": per_core, "activity_target": activity, "readout": readout}
    row["readout_fan_in"] = min(READOUT[readout], MAX_AXONS / n)
    original = timing.pipeline_timing
    with tempfile.TemporaryDirectory() as tmp:
        p_out = min(READOUT[readout], MAX_AXONS / n)
        b = bundle(Path(tmp) / "b", n, vth, rec_low, p_out)
        placement = map_network(bundle_netlist(b), with_core_limit(load_chip("loihi1"), per_core)).placement
        x = (np.random.default_rng(0).random((STEPS, 64)) < 0.1).astype(np.float32)
        try:
            for model, fn in (("pipeline", original), ("queue", queue_timing), ("burst", burst_timing)):
                timing.pipeline_timing = fn
                r = crosscheck(b, placement, x)
                ours, theirs = np.asarray(r["per_step_s"]["ours_pipeline"]), np.asarray(r["per_step_s"]["sanafe"])
                row[model] = float(ours.sum() / theirs.sum())
                row[f"{model}_per_step_p5_p95"] = np.percentile(ours / theirs, [5, 95]).tolist()
        finally:
            timing.pipeline_timing = original
    spikes = r["dynamics"]["sanafe_spikes"]
    return row | {
        "cores": r["cores"],
        "moved_for_host": r["moved_for_host"],
        "tiles": r["tiles"],
        "hidden_activity": spikes / (STEPS * (n + 10)),
        "events_equal": r["events_equal"],
        "sanafe_us": float(theirs.sum() * 1e6),
    }


def main() -> None:
    from common import run_isolated, save

    if len(sys.argv) > 1 and sys.argv[1] == "--case":  # the child: one case in a fresh process
        n, per_core, activity, readout = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
        print(json.dumps(case(n, per_core, activity, readout)))
        return
    rows = []
    for n, per_core in SIZES:
        for activity in ACTIVITY:
            for readout in READOUT:
                rows.append(
                    run_isolated(
                        "benchmarks.diagnose_sanafe_scaling", "--case", str(n), str(per_core), activity, readout
                    )
                )
                r = rows[-1]
                print(
                    f"{r['cores']:3d} cores, {100 * r['hidden_activity']:4.1f} % active, readout {readout:11s}: "
                    f"pipeline x{r['pipeline']:.3f}, queue x{r['queue']:.3f}, burst x{r['burst']:.3f}",
                    flush=True,
                )
    save("diagnose_sanafe_scaling", {"steps": STEPS, "rows": rows})


if __name__ == "__main__":
    main()
