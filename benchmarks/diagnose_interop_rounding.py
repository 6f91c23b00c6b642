"""Why an imported network's fixed point agrees with its peer on only ~97-98 % of predictions
(issue 27): which of the compiler's roundings moves the output spikes, and whether a different
weight rounding helps. A diagnosis, not the benchmark (``bench_interop.py`` is that).

The three snnTorch topologies of ``bench_interop.py`` (biases, two hidden layers, one-to-one
recurrence; 64 hidden neurons, 6 epochs, the chip's reset), imported from their NIR files. Every
variant runs in float64 with the chip's semantics and hop delay (``tests/deploy/nir_reference.
run_float``), changing one thing from the imported float network, and is compared with the
unchanged float network on the 359 test samples (predictions, and output spikes moved):

- ``weights 8 bit`` / ``decays 12 bit`` / ``threshold``: the compiler's rounding of that one quantity
  alone (Loihi 2 format, the population scale the compiler picks);
- ``all three``: what the chip computes, save the per-step truncation of u and v;
- ``weights 6 / 7 / 9 bit``: the same weights with fewer or more mantissa bits (9: the most
  Lava's Loihi models run);
- ``weights 8 bit, full mantissa``: a population scale that is not a power of two, so the largest
  weight uses the whole mantissa instead of as little as half of it;
- ``weights 8 bit, rounding for the current``: each weight rounded up or down (never further) to
  minimise each neuron's mean squared input-current error over 400 training samples' spikes
  (coordinate descent on the pre-synaptic Gram matrix, as post-training quantization methods do);
- ``chip, as compiled``: the compiler's fixed point, bit-exact (``search/network_module.py`` in
  ``chip`` precision: what the CPU backend runs, truncation of u and v included);
- ``chip, fine-tuned by distillation``: the same after fine-tuning the weights at the chip's
  precision (straight-through gradients, as QAT) to reproduce the float network's output spike
  counts on the training split (mean squared count error, Adam 3e-4, batches of 64,
  ``FINETUNE_EPOCHS`` epochs), keeping the epoch (0 included) that agrees best on the validation split.

Three seeds. Prints and saves ``results/diagnose_interop_rounding.json``.
Run: python benchmarks/diagnose_interop_rounding.py   (needs ``make peers``)
"""

from __future__ import annotations

import copy
import dataclasses
import math
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SEEDS = (0, 1, 2)
CALIBRATION = 400  # training samples whose spikes the current-error rounding minimises over
VARIANTS = (
    "weights 8 bit",
    "decays 12 bit",
    "threshold",
    "all three",
    "weights 6 bit",
    "weights 7 bit",
    "weights 9 bit",
    "weights 8 bit, full mantissa",
    "weights 8 bit, rounding for the current",
)
CHIP_VARIANTS = ("chip, as compiled", "chip, fine-tuned by distillation")
FINETUNE_EPOCHS = 8


def finetune(module, data, seed: int) -> dict:
    """Fine-tune ``module`` (a ``NetworkModule``) at the chip's precision toward its own float
    network's output counts; keeps the weights of the epoch that agrees best on validation.
    Returns the validation agreement per epoch (epoch 0: as compiled)."""
    import torch

    torch.manual_seed(seed)
    x_train = torch.from_numpy(data.train.spikes()).double()
    x_val = torch.from_numpy(data.val.spikes()).double()
    module.set_precision("float")
    target = torch.from_numpy(module.predict(x_train)[0])
    val_target = module.predict(x_val)[1]
    module.set_precision("chip")
    optimiser = torch.optim.Adam(module.parameters(), lr=3e-4)

    def val_agreement() -> float:
        return float((module.predict(x_val)[1] == val_target).mean())

    history = [val_agreement()]
    best = [v.detach().clone() for v in module.values]
    for _ in range(FINETUNE_EPOCHS):
        order = torch.randperm(len(x_train))
        for i in range(0, len(order), 64):
            batch = order[i : i + 64]
            loss = ((module(x_train[batch]) - target[batch]) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        history.append(val_agreement())
        if history[-1] > max(history[:-1]):
            best = [v.detach().clone() for v in module.values]
    with torch.no_grad():
        for value, kept in zip(module.values, best, strict=True):
            value.copy_(kept)
    return {"validation_agreement_per_epoch": history, "epoch_kept": int(np.argmax(history))}


def _full_mantissa_scale(max_w: float, vth: float, fmt) -> float:
    """The scale that puts the largest weight at the top of the mantissa (the compiler's power of
    two times up to 2), where the threshold still fits."""
    from neuromotif.hw_models import formats

    scale = float(formats.population_scale(max_w, vth, fmt))
    if max_w <= 0:
        return scale
    e = formats.weight_exponent(max_w, scale, fmt)
    fit = formats.max_stored_weight(fmt) * 2**e / max_w
    return fit if scale <= fit <= formats.vth_max(fmt) / vth else scale


def _rounded_for_current(w, q: float, lo: int, hi: int, gram: np.ndarray, passes: int = 4) -> np.ndarray:
    """Mantissas of dense ``w`` [post, pre] (step ``q``), each the nearest or the other neighbour,
    chosen by coordinate descent on d^T G d per row (d: the weight error, G: pre spikes' Gram)."""
    mask = w != 0
    m = np.clip(np.round(w / q), lo, hi)
    d = (m * q - w) * mask
    for _ in range(passes):
        flipped = 0
        for i in range(w.shape[1]):
            other = np.clip(np.where(m[:, i] * q > w[:, i], m[:, i] - 1, m[:, i] + 1), lo, hi)
            step = (other - m[:, i]) * q * mask[:, i]
            gain = 2 * step * (d @ gram[:, i]) + step * step * gram[i, i]
            take = (gain < -1e-15) & (np.abs(other * q - w[:, i]) < q)
            m[take, i] = other[take]
            d[take, i] += step[take]
            flipped += int(take.sum())
        if not flipped:
            break
    return m


def variant(net, name: str, fmt, spikes: dict[str, np.ndarray]):
    """``net`` with one rounding of the compiler applied in float (``VARIANTS``)."""
    from neuromotif.hw_models import formats

    out = copy.deepcopy(net)
    bits = int(name.split()[1]) if name.startswith("weights") else fmt.weight_bits
    wfmt = dataclasses.replace(fmt, weight_bits=bits)
    for pop in out.populations:
        if pop.kind != "lif":
            continue
        incoming = out.inputs_to(pop.name)
        max_w = max(float(abs(j.weights).max()) for j in incoming)
        if name.endswith("full mantissa"):
            scale = _full_mantissa_scale(max_w, pop.vth, wfmt)
        else:
            scale = float(formats.population_scale(max_w, pop.vth, wfmt))
        if name.startswith("weights") or name == "all three":
            for j in incoming:
                w = j.weights.tocoo()
                e = formats.choose_exponent(w.data, scale, wfmt)
                if name.endswith("for the current"):
                    q = 2 ** (e + formats.weight_shift(wfmt)) / scale
                    pre = spikes[j.pre]
                    m = _rounded_for_current(w.toarray(), q, *formats.mantissa_range(wfmt), pre.T @ pre / len(pre))
                    w.data = (m * q)[w.row, w.col]
                else:
                    w.data = formats.quantize_weight(w.data, scale, e, wfmt)
                j.weights = w.tocsr()
        if name in ("decays 12 bit", "all three"):
            levels = 2**fmt.decay_bits
            pop.du = np.round(np.asarray(pop.du) * levels) / levels
            pop.dv = np.round(np.asarray(pop.dv) * levels) / levels
        if name in ("threshold", "all three"):
            pop.vth = round(pop.vth * scale) / scale
    return out


def compared(kind: str, seed: int, name: str, counts: np.ndarray, base: np.ndarray) -> dict:
    """One result row: a variant's output counts against the unchanged float network's."""
    return {
        "topology": kind,
        "seed": seed,
        "variant": name,
        "agreement": float((counts.argmax(1) == base.argmax(1)).mean()),
        "spikes_moved": float(np.abs(counts - base).sum() / max(base.sum(), 1)),
    }


def main() -> None:
    import nir
    import torch
    from common import save

    from neuromotif.config import load_config
    from neuromotif.deploy.nir_import import nir_to_float_network, read_nir_graph
    from neuromotif.deploy.quantize import DEFAULT_MAX_PROFILES
    from neuromotif.hw_models import load_chip
    from neuromotif.search.data import load_dataset
    from neuromotif.search.network_module import NetworkModule
    from tests.deploy.nir_reference import TOPOLOGIES, run_float, train_snntorch_topology

    data = load_dataset(load_config(None, ["data.name=digits-saccade"]).data, 0)
    fmt = load_chip("loihi2").numeric
    x, calibration = data.test.spikes(), data.train.spikes(np.arange(CALIBRATION))
    rows = []
    for kind in TOPOLOGIES:
        for seed in SEEDS:
            graph, _ = train_snntorch_topology(data, kind, hidden=64, epochs=6, samples=len(data.train), seed=seed)
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "net.nir"
                nir.write(str(path), graph)
                net = nir_to_float_network(read_nir_graph(path), None)[0]
            spikes: dict[str, np.ndarray] = {}
            run_float(net, calibration, record=spikes)
            base = run_float(net, x)
            for name in VARIANTS:
                counts = run_float(variant(net, name, fmt, spikes), x)
                rows.append(compared(kind, seed, name, counts, base))
            module = NetworkModule(net, fmt, DEFAULT_MAX_PROFILES)
            for name in CHIP_VARIANTS:
                extra = finetune(module, data, seed) if name.endswith("distillation") else {}
                module.set_precision("chip")
                counts = module.predict(torch.from_numpy(x))[0]
                rows.append(compared(kind, seed, name, counts, base) | extra)
            shown = rows[-len(VARIANTS) - len(CHIP_VARIANTS) :]
            print(kind, seed, {r["variant"]: round(r["agreement"], 4) for r in shown}, flush=True)
    summary = {
        kind: {
            name: {
                key: {"mean": statistics.mean(vals), "sd": statistics.stdev(vals) if len(vals) > 1 else math.nan}
                for key in ("agreement", "spikes_moved")
                for vals in [[r[key] for r in rows if r["topology"] == kind and r["variant"] == name]]
            }
            for name in (*VARIANTS, *CHIP_VARIANTS)
        }
        for kind in TOPOLOGIES
    }
    for kind, by in summary.items():
        for name, m in by.items():
            print(
                f"{kind:12s} {name:42s} agreement {m['agreement']['mean']:.4f} ± {m['agreement']['sd']:.4f}  "
                f"spikes moved {m['spikes_moved']['mean']:.4f} ± {m['spikes_moved']['sd']:.4f}"
            )
    save("diagnose_interop_rounding", {"seeds": list(SEEDS), "rows": rows, "summary": summary})


if __name__ == "__main__":
    main()
