"""BPTT training of an RSNN: AdamW, spike-count losses, per-epoch validation, best-model
selection, a checkpoint every epoch and ``resume`` that continues exactly where it stopped.

Determinism: one seeded generator draws each epoch's batch order and its state is saved in
the checkpoint with the model and optimizer, so an interrupted run resumed from its last
checkpoint produces the same weights as an uninterrupted one (same device and threads).
"""

from __future__ import annotations

import copy
import json
import pickle
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from neuromotif.core.errors import InputError
from neuromotif.core.io import atomic_path, atomic_write_text
from neuromotif.core.progress import note, track
from neuromotif.deploy.quantize import DEFAULT_MAX_PROFILES
from neuromotif.hw_models import formats
from neuromotif.hw_models.chip import ChipSpecError, NumericFormat, section_from_dict
from neuromotif.search import distributed
from neuromotif.search.data import DatasetSplits, SpikeSplit
from neuromotif.search.execution import apply_execution
from neuromotif.search.model import RSNN, predict
from neuromotif.search.objective import chip_cost_term, mean_parts
from neuromotif.search.settings import TrainConfig

if TYPE_CHECKING:
    from neuromotif.search.supernet import SuperNet

MODEL_FORMAT = "neuromotif-model"
MODEL_VERSION = 1
EVAL_BATCH = 256


def resolve_device(name: str) -> torch.device:
    """The torch device of ``train.device``; under torchrun ``cuda`` means this rank's GPU."""
    from neuromotif.search import distributed

    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"--device {name}: no CUDA device is available here; use --device cpu")
    try:
        return torch.device(distributed.device_for(name, distributed.current()))
    except RuntimeError:
        raise InputError(f"--device {name!r} is not a torch device (use cpu or cuda)") from None


def batches(split: SpikeSplit, size: int, order: np.ndarray | None = None):
    idx = np.arange(len(split)) if order is None else order
    for start in range(0, len(idx), size):
        take = np.sort(idx[start : start + size]) if order is None else idx[start : start + size]
        yield take, split.spikes(take), split.labels[take]


def micro_spikes(split: SpikeSplit, global_batches: list[np.ndarray], group, micro: int) -> list[list[torch.Tensor]]:
    """Per global batch, this rank's micro-batches of spikes (possibly empty ones: IP still joins
    the rate reduction)."""
    shape = (0, *split.spikes(np.arange(min(1, len(split)))).shape[1:])
    return [
        [
            torch.from_numpy(split.spikes(local)) if len(local) else torch.zeros(shape)
            for local in group.micro_batches(b, micro)
        ]
        for b in global_batches
    ]


def loss_fn(counts: torch.Tensor, labels: torch.Tensor, steps: int, cfg: TrainConfig) -> torch.Tensor:
    if cfg.loss == "ce":
        return F.cross_entropy(counts * (cfg.ce_scale / steps), labels)
    target = torch.full_like(counts, cfg.target_rate_false)
    target[torch.arange(len(labels)), labels] = cfg.target_rate_true
    return F.mse_loss(counts / steps, target)


def activity_term(trace: list[dict[str, torch.Tensor]], cfg: TrainConfig) -> torch.Tensor:
    """The activity regulariser: ``activity_weight`` x the mean over hidden populations of
    mean_{sample, step} (fraction of the population firing - ``activity_target``)^2. A step on
    which most of a layer fires (a synchronous burst) and a silent one both pay, so it steers
    toward asynchronous firing at the target rate, not only toward a mean rate."""
    terms = [((o["spikes"].mean(-1) - cfg.activity_target) ** 2).mean() for o in trace[:-1]]
    return cfg.activity_weight * torch.stack(terms).mean()


def network_loss(out: dict[str, Any], labels: torch.Tensor, steps: int, cfg: TrainConfig) -> torch.Tensor:
    """The task loss plus, when ``activity_weight`` > 0, the activity regulariser (needs ``out["trace"]``)."""
    loss = loss_fn(out["counts"], labels, steps, cfg)
    return loss + activity_term(out["trace"], cfg) if cfg.activity_weight else loss


@torch.no_grad()
def evaluate(
    model: RSNN | SuperNet, split: SpikeSplit, device: torch.device, precision: str = "float", rates: bool = False
) -> dict[str, Any]:
    """Accuracy, per-sample predictions and spike counts of ``split`` at ``precision``
    (and, with ``rates``, each population's mean firing rate in spikes per neuron-step)."""
    model.eval()
    before = model.populations()[0].precision
    model.set_precision(precision)
    preds, counts, totals = [], [], None
    for _, x, _ in batches(split, EVAL_BATCH):
        out = model(torch.from_numpy(x).to(device, torch.float32))
        counts.append(out["counts"].cpu().numpy())
        preds.append(predict(out["counts"]).cpu().numpy())
        batch_rates = np.array([float(r) * len(x) for r in out["rates"]])
        totals = batch_rates if totals is None else totals + batch_rates
    model.set_precision(before)
    pred = np.concatenate(preds) if preds else np.zeros(0, int)
    result = {
        "accuracy": float((pred == split.labels).mean()) if len(pred) else float("nan"),
        "predictions": pred,
        "counts": np.concatenate(counts) if counts else np.zeros((0, 0)),
    }
    if rates:
        result["rates"] = [] if totals is None else (totals / len(split)).tolist()
    return result


@torch.no_grad()
def record_state_ranges(model: RSNN, split: SpikeSplit, device: torch.device, samples: int = 512) -> dict[str, Any]:
    """Largest |u| (before the chip's wrap) and |v| (before its saturation) each population
    reaches in ``chip`` precision on the first ``samples`` of ``split``, in threshold units
    (float units of v), so the compiler can predict overflow for any chip's scale."""
    from neuromotif.search.export import population_names

    model.eval()
    before = model.populations()[0].precision
    layers = model.populations()
    for layer in layers:
        layer.range_stats = {}
    model.set_precision("chip")
    n = min(samples, len(split))
    try:
        for _, x, _ in batches(split.subset(np.arange(n)), EVAL_BATCH):
            model(torch.from_numpy(x).to(device, torch.float32))
        ranges = {}
        for name, layer in zip(population_names(model), layers, strict=True):
            to_threshold = 1.0 / formats.fixed_unit(layer.chip_parameters()["scale"])
            recorded = layer.range_stats or {}  # a dict since the loop above (an empty one: nothing ran)
            ranges[name] = {k: v * to_threshold for k, v in recorded.items()}
    finally:
        for layer in layers:
            layer.range_stats = None
        model.set_precision(before)
    return {"samples": n, "populations": ranges}


def restore_checkpoint(path: Path, device: torch.device, module: torch.nn.Module, key: str) -> dict | None:
    """Load a resumable checkpoint and ``module``'s weights from ``state[key]``; None if there is none.
    A checkpoint of another network or a damaged file is bad input (restart with --force)."""
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location=device, weights_only=False)
        module.load_state_dict(state[key])
    except (RuntimeError, KeyError, EOFError, OSError, TypeError, pickle.UnpicklingError) as exc:
        raise InputError(
            f"cannot resume from {path} ({type(exc).__name__}): it belongs to another network or is "
            "damaged; use --force to start over"
        ) from None
    return state


class Trainer:
    """Trains ``model`` on ``data``; checkpoints to ``out/train/checkpoint.pt`` every epoch."""

    def __init__(
        self,
        model: RSNN,
        data: DatasetSplits,
        cfg: TrainConfig,
        seed: int,
        out: Path,
        ip=None,
        ip_window: int = 0,
        cost=None,
    ):
        """``ip`` (a ``SpiKLIP``): run intrinsic plasticity on ``ip_window`` training batches after each
        epoch. ``cost``: the chip-cost proxy (``cost_proxy.rsnn_proxy``) when ``cfg.objective`` is on."""
        self.model, self.data, self.cfg, self.seed, self.out = model, data, cfg, seed, Path(out)
        self.ip, self.ip_window, self.cost = ip, ip_window, cost
        self.cost_parts: list[dict[str, float]] = []
        self.device = resolve_device(cfg.device)
        apply_execution(cfg.threads, cfg.deterministic)
        self.model.to(self.device)
        self.opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.order_gen = torch.Generator().manual_seed(seed)
        self.epoch = 0
        self.best_val, self.best_epoch = -1.0, -1
        self.best_state: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []
        # the effective count (under torchrun at least the world size): saved, and kept by a resume
        self.micro = distributed.micro_count(cfg.micro_batches, distributed.current())

    @property
    def checkpoint_path(self) -> Path:
        return self.out / "train" / "checkpoint.pt"

    def save_checkpoint(self) -> None:
        if not distributed.current().main:
            return
        state = {
            "model": self.model.state_dict(),
            "opt": self.opt.state_dict(),
            "epoch": self.epoch,
            "order_gen": self.order_gen.get_state(),
            "best_val": self.best_val,
            "best_epoch": self.best_epoch,
            "best_state": self.best_state,
            "history": self.history,
            "seed": self.seed,
            "micro_batches": self.micro,
        }
        with atomic_path(self.checkpoint_path) as tmp:
            torch.save(state, tmp)

    def load_checkpoint(self) -> bool:
        state = restore_checkpoint(self.checkpoint_path, self.device, self.model, "model")
        if state is None:
            return False
        self.opt.load_state_dict(state["opt"])
        self.order_gen.set_state(state["order_gen"])
        self.epoch, self.best_val, self.best_epoch = state["epoch"], state["best_val"], state["best_epoch"]
        self.best_state, self.history = state["best_state"], state["history"]
        self.micro = distributed.resumed_micro_count(
            state.get("micro_batches"), self.micro, distributed.current(), "the training"
        )
        return True

    def train_epoch(self) -> float:
        self.model.train()
        qat = self.epoch >= self.cfg.epochs - self.cfg.qat_epochs
        self.model.set_precision("chip" if qat else "float")
        train = self.data.train
        group = distributed.current()
        order = torch.randperm(len(train), generator=self.order_gen).numpy()
        bs = self.cfg.batch_size
        total = torch.zeros(2, dtype=torch.float64)
        n_batches = -(-len(train) // bs)
        micro = self.micro
        for b in track(range(n_batches), f"epoch {self.epoch + 1}/{self.cfg.epochs}", total=n_batches):
            batch = order[b * bs : (b + 1) * bs]

            def backward_passes(batch: np.ndarray):
                nonlocal total
                for local in group.micro_batches(batch, micro):  # this rank's (all, in one process)
                    if len(local):
                        xb = torch.from_numpy(train.spikes(local)).to(self.device, torch.float32)
                        yb = torch.from_numpy(train.labels[local]).to(self.device)
                        out = self.model(xb, record=self.cost is not None or self.cfg.activity_weight > 0)
                        loss = network_loss(out, yb, xb.shape[1], self.cfg)
                        if self.cost is not None:
                            term, parts = chip_cost_term(self.cfg.objective, self.cost, xb, out["trace"])
                            loss = loss + term
                            self.cost_parts.append(parts)
                        loss.backward()
                        total += torch.tensor([float(loss.detach()) * len(local), len(local)], dtype=torch.float64)
                    yield len(local) / len(batch)

            self.opt.zero_grad(set_to_none=True)
            group.accumulate(self.model.parameters(), backward_passes(batch))
            self.opt.step()
        if self.ip is not None and self.ip_window:
            from neuromotif.search.plasticity import run_ip

            window = [order[b * bs : (b + 1) * bs] for b in range(min(self.ip_window, n_batches))]
            run_ip(self.model, micro_spikes(train, window, group, micro), self.ip, self.device)
        self.model.set_precision("float")
        loss_sum, n = group.sum(total).tolist()
        return loss_sum / max(n, 1)

    def fit(self, resume: bool = True, stop_after: int | None = None) -> dict[str, Any]:
        """Train to ``cfg.epochs`` (``stop_after`` epochs at most in this call: for tests)."""
        if resume and self.load_checkpoint() and self.epoch:
            note(f"training: resumed at epoch {self.epoch}/{self.cfg.epochs} from {self.checkpoint_path}")
        done_now = 0
        while self.epoch < self.cfg.epochs and (stop_after is None or done_now < stop_after):
            t0 = time.perf_counter()
            train_loss = self.train_epoch()
            precision = "chip" if self.epoch >= self.cfg.epochs - self.cfg.qat_epochs else "float"
            val = evaluate(self.model, self.data.val, self.device, precision)["accuracy"]
            self.epoch += 1
            done_now += 1
            if val > self.best_val:
                self.best_val, self.best_epoch = val, self.epoch
                self.best_state = copy.deepcopy(self.model.state_dict())
            self.history.append(
                {
                    "epoch": self.epoch,
                    "train_loss": train_loss,
                    "val_accuracy": val,
                    "seconds": time.perf_counter() - t0,
                    **({"chip_cost": mean_parts(self.cost_parts)} if self.cost_parts else {}),
                }
            )
            self.cost_parts = []
            self.save_checkpoint()
            note(
                f"epoch {self.epoch}/{self.cfg.epochs}: loss {train_loss:.4f}, val {val:.4f} "
                f"({self.history[-1]['seconds']:.1f} s){' *best' if self.best_epoch == self.epoch else ''}"
            )
        return {"epochs_done": self.epoch, "best_val_accuracy": self.best_val, "best_epoch": self.best_epoch}

    def best_model(self) -> RSNN:
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        return self.model


def save_model(
    path: Path,
    model: RSNN,
    config_text: str,
    data: DatasetSplits,
    metrics: dict[str, Any],
    history: list[dict[str, Any]],
    state_ranges: dict[str, Any] | None = None,
) -> None:
    """``model.pt``: weights and neuron parameters (state dict), architecture, the compile target
    (numeric format, profiles), the run's config (``config_text``, YAML), data spec, and the u / v
    ranges seen on training data."""
    if not distributed.current().main:
        return
    payload = {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "state_dict": model.state_dict(),
        "arch": model.arch.to_dict(),
        "numeric": asdict(model.numeric),
        "max_profiles": model.max_profiles,
        "config": config_text,
        "data": asdict(data.info),
        "metrics": metrics,
        "history": history,
        "state_ranges": state_ranges,
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    atomic_write_text(Path(path).parent / "train" / "history.jsonl", "".join(json.dumps(h) + "\n" for h in history))


def load_model(path: Path, device: str = "cpu") -> tuple[RSNN, dict[str, Any]]:
    """Read ``model.pt`` back into an ``RSNN`` (refusing files that are not neuromotif models)."""
    from neuromotif.search.arch import ArchSpec

    if not Path(path).is_file():
        raise InputError(f"model file not found: {path}")
    try:
        payload = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input here
        raise InputError(f"{path}: not a readable model checkpoint ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise InputError(f"{path}: not a neuromotif model (expected format '{MODEL_FORMAT}')")
    if payload.get("version") != MODEL_VERSION:
        raise InputError(f"{path}: model version {payload.get('version')} is not {MODEL_VERSION}: retrain it")
    try:
        numeric = section_from_dict(NumericFormat, payload["numeric"], "numeric") if "numeric" in payload else None
    except (TypeError, ValueError, ChipSpecError) as exc:
        raise InputError(f"{path}: damaged numeric format ({exc}): retrain it") from None
    try:
        model = RSNN(
            ArchSpec.from_dict(payload["arch"], str(path)),
            numeric=numeric,
            max_profiles=int(payload.get("max_profiles", DEFAULT_MAX_PROFILES)),
        )
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, RuntimeError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: damaged model checkpoint ({first[:200]}): retrain it") from None
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise InputError(
                f"{path}: parameter {name} holds non-finite values (the training diverged): "
                "retrain with a smaller train.lr"
            )
    return model, payload
