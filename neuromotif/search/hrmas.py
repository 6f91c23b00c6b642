"""HRMAS: hybrid risk-mitigating architectural search (Zhang, Geng & Li 2024), our implementation.

Each iteration alternates the two steps of the method:
  step 1  first-order DARTS: for every batch of the weight split, one AdamW step on the weights,
          then one Adam step on the architecture logits (types and sizes) on a batch of the
          architecture split (a held-out part of the training set);
  step 2  SpiKL-IP (``plasticity.py``): weights and architecture frozen, every recurrent neuron
          adapts its gain and decay over a window of training batches: fast self-repair after
          the structural and weight changes of step 1.
The first ``search.warmup`` iterations train weights only (a DARTS warm-up: architecture
gradients of untrained weights are noise). With ``search.diagnostics`` every iteration also
records the risk the method is about: the validation accuracy before step 1, after it, with the
step-1 weights but the previous architecture (``architecture_drop``), the weights from before
step 1 under the old and the new architecture (``architecture_risk``: what the architecture
change alone costs the network it changes), and after the IP window (in a search without IP, on a
copy: what IP would have recovered), plus each layer's firing rate. ``benchmarks/hrmas_diagnosis.py`` plots them.
After the last iteration (or once the type entropy falls below ``search.stop_entropy``), the most
probable size and types give the architecture
(``architecture.yaml``), which is retrained from fresh weights (``neuromotif.stages.train_model``,
the `train` stage of `neuromotif run`).
Outputs in ``OUT/search/``: architecture.yaml, checkpoint.pt (resumable: an interrupted search
finishes with the same result as an uninterrupted one), history.jsonl, plots.
"""

from __future__ import annotations

import dataclasses
import json
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neuromotif.core.errors import InputError
from neuromotif.core.io import atomic_path, atomic_write_text
from neuromotif.core.progress import note, track
from neuromotif.search import distributed
from neuromotif.search.arch import ArchSpec
from neuromotif.search.data import DatasetSplits, SpikeSplit, load_dataset
from neuromotif.search.data.base import stratified_holdout
from neuromotif.search.execution import apply_execution
from neuromotif.search.model import predict
from neuromotif.search.objective import chip_cost_term, mean_parts
from neuromotif.search.plasticity import from_config, run_ip
from neuromotif.search.settings import SearchJob
from neuromotif.search.supernet import SuperNet, agreed_architecture, agreement_summary
from neuromotif.search.train import evaluate, micro_spikes, network_loss, resolve_device, restore_checkpoint


def build_supernet(config: SearchJob, info) -> SuperNet:
    sizes = config.search.motif_sizes if config.search.space == "motif" else list(config.model.hidden)
    if config.search.space == "motif":
        for h in config.model.hidden:
            if not any(h % m == 0 for m in sizes):
                raise InputError(f"search.motif_sizes {sizes}: none divides the layer size {h}; add a divisor")
    net = SuperNet(
        info.channels,
        list(config.model.hidden),
        info.classes,
        sizes,
        config.model.neuron.params(),
        seed=config.seed,
        type_init_std=config.search.type_init_std,
        relaxation=config.search.relaxation,
        decision=config.search.decision,
        default_size=config.search.default_motif_size,
    )
    if config.search.init_perturbation:
        perturb_weights(net.weight_parameters(), config.search.init_perturbation, config.seed)
    return net


@torch.no_grad()
def perturb_weights(params, relative: float, seed: int) -> None:
    """w <- w * (1 + relative * N(0, 1)), from its own generator (the search's draws are unchanged)."""
    gen = torch.Generator().manual_seed(10_007 + seed)
    for p in params:
        p.mul_(1 + relative * torch.randn(p.shape, generator=gen, dtype=p.dtype))


class Search:
    def __init__(self, config: SearchJob, data: DatasetSplits, out: Path):
        apply_execution(config.train.threads, config.train.deterministic)
        self.config, self.data, self.out = config, data, Path(out) / "search"
        self.device = resolve_device(config.train.device)
        self.net = build_supernet(config, data.info).to(self.device)
        self.w_opt = torch.optim.AdamW(
            self.net.weight_parameters(), lr=config.train.lr, weight_decay=config.train.weight_decay
        )
        self.a_opt = torch.optim.Adam(
            self.net.arch_parameters(),
            lr=config.search.arch_lr,
            betas=(0.5, 0.999),
            weight_decay=1e-3,
            eps=config.search.arch_eps,
        )
        keep, hold = stratified_holdout(
            data.train.labels, config.search.arch_fraction, np.random.default_rng(config.seed + 7)
        )
        self.w_split, self.a_split = data.train.subset(keep), data.train.subset(hold)
        self.gen = torch.Generator().manual_seed(config.seed)
        self.ip = from_config(config.search.ip) if config.search.ip.enabled else None
        self.ip_rule = from_config(config.search.ip)  # also for the counterfactual IP of a search without IP
        self.stopped = False
        self.micro = distributed.micro_count(config.train.micro_batches, distributed.current())
        self.cost = None
        self.cost_parts: list[dict[str, float]] = []
        if config.search.objective.active:  # the architecture step sees each candidate's chip cost
            from neuromotif.search.cost_proxy import supernet_proxy

            objective = config.search.objective
            self.cost = supernet_proxy(
                self.net,
                config.target.chip,
                objective.cost_table,
                config.target.neurons_per_core,
                objective.operation(data.info.dt_ms),
            )[1]
        self.iteration = 0
        self.history: list[dict[str, Any]] = []

    # ---- checkpoint ------------------------------------------------------------------------
    @property
    def checkpoint(self) -> Path:
        return self.out / "checkpoint.pt"

    def save(self) -> None:
        if not distributed.current().main:
            return
        state = {
            "net": self.net.state_dict(),
            "w_opt": self.w_opt.state_dict(),
            "a_opt": self.a_opt.state_dict(),
            "gen": self.gen.get_state(),
            "torch_rng": torch.get_rng_state(),
            "iteration": self.iteration,
            "history": self.history,
            "stopped": self.stopped,
            "micro_batches": self.micro,
        }
        with atomic_path(self.checkpoint) as tmp:
            torch.save(state, tmp)
        atomic_write_text(self.out / "history.jsonl", "".join(json.dumps(h) + "\n" for h in self.history))

    def load(self) -> bool:
        state = restore_checkpoint(self.checkpoint, self.device, self.net, "net")
        if state is None:
            return False
        self.w_opt.load_state_dict(state["w_opt"])
        self.a_opt.load_state_dict(state["a_opt"])
        self.gen.set_state(state["gen"])
        self.iteration, self.history = state["iteration"], state["history"]
        self.stopped = state.get("stopped", False)
        self.micro = distributed.resumed_micro_count(
            state.get("micro_batches"), self.micro, distributed.current(), "the search"
        )
        if "torch_rng" in state:
            torch.set_rng_state(state["torch_rng"])
        return True

    # ---- the two steps -----------------------------------------------------------------------
    def _step(self, opt, split: SpikeSplit, idx: np.ndarray) -> tuple[float, float]:
        """One optimiser step on a global batch (this rank's share of it under torchrun); returns
        the batch's loss and accuracy."""
        group = distributed.current()
        sums = torch.zeros(3, dtype=torch.float64)
        params = self.net.weight_parameters() if opt is self.w_opt else self.net.arch_parameters()
        # decision=evidence: an architecture step measures dL/dp of every choice and moves no logit
        measure = opt is self.a_opt and self.config.search.decision == "evidence"
        layers = self.net.search_layers() if measure else []
        for layer in layers:
            layer.begin_step()

        def backward_passes():
            nonlocal sums
            for local in group.micro_batches(idx, self.micro):
                self.w_opt.zero_grad(set_to_none=True)
                self.a_opt.zero_grad(set_to_none=True)
                if len(local):
                    x = torch.from_numpy(split.spikes(local)).to(self.device, torch.float32)
                    y = torch.from_numpy(split.labels[local]).to(self.device)
                    for layer in layers:
                        layer.collecting = True
                    try:
                        out = self.net(x, record=self.cost is not None or self.config.train.activity_weight > 0)
                    finally:
                        for layer in layers:
                            layer.collecting = False
                    counts = out["counts"]
                    loss = network_loss(out, y, x.shape[1], self.config.train)
                    if self.cost is not None:
                        term, parts = chip_cost_term(self.config.search.objective, self.cost, x, out["trace"])
                        loss = loss + term
                        self.cost_parts.append(parts)
                    loss.backward()
                    for layer in layers:
                        layer.absorb(len(local) / len(idx))
                    correct = float((predict(counts.detach()) == y).float().sum())
                    sums += torch.tensor([float(loss.detach()) * len(local), correct, len(local)], dtype=torch.float64)
                yield len(local) / len(idx)

        group.accumulate(params, backward_passes())
        if measure:
            for layer in layers:
                layer.end_step(group)
        else:
            opt.step()
        self.w_opt.zero_grad(set_to_none=True)
        self.a_opt.zero_grad(set_to_none=True)
        loss_sum, correct, n = group.sum(sums).tolist()
        return loss_sum / max(n, 1), correct / max(n, 1)

    def _val(self) -> tuple[float, list[float]]:
        """Validation accuracy and each population's mean firing rate (spikes per neuron-step)."""
        result = evaluate(self.net, self.data.val, self.device, rates=True)
        return result["accuracy"], result["rates"]

    @contextmanager
    def _architecture(self, logits: list[torch.Tensor]):
        """Evaluate with other architecture logits (the weights stay)."""
        params = self.net.arch_parameters()
        saved = [p.detach().clone() for p in params]
        with torch.no_grad():
            for p, v in zip(params, logits, strict=True):
                p.copy_(v)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, v in zip(params, saved, strict=True):
                    p.copy_(v)

    def _ip_window(self, order: np.ndarray) -> dict[str, Any]:
        bs = self.config.train.batch_size
        window = [
            order[start : start + bs] for start in range(0, min(len(order), self.config.search.ip.window * bs), bs)
        ]
        return run_ip(
            self.net, micro_spikes(self.w_split, window, distributed.current(), self.micro), self.ip_rule, self.device
        )

    def _counterfactual_ip(self, order: np.ndarray) -> float:
        """Validation accuracy had IP run now; the neurons are put back afterwards."""
        neurons = [(layer.gain.detach().clone(), layer.dv.detach().clone()) for layer in self.net.search_layers()]
        try:
            self._ip_window(order)
            return self._val()[0]
        finally:
            with torch.no_grad():
                for layer, (gain, dv) in zip(self.net.search_layers(), neurons, strict=True):
                    layer.gain.copy_(gain)
                    layer.dv.copy_(dv)

    def mean_type_entropy(self) -> float:
        values = [
            v for layer in self.net.search_layers() for k, v in layer.entropies().items() if k.startswith("types")
        ]
        return float(np.mean(values))

    def temperature(self, iteration: int) -> float:
        """Geometric annealing from the first to the last configured temperature."""
        first, last = self.config.search.temperature
        steps = max(self.config.search.epochs - 1, 1)
        return float(first * (last / first) ** (min(iteration, steps) / steps))

    def iterate(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        bs = self.config.train.batch_size
        self.net.set_temperature(self.temperature(self.iteration))
        self.net.train()
        w_order = torch.randperm(len(self.w_split), generator=self.gen).numpy()
        a_order = torch.randperm(len(self.a_split), generator=self.gen).numpy()
        n_batches = -(-len(w_order) // bs)
        search = self.config.search
        diagnose = search.diagnostics
        warm = self.iteration < search.warmup
        arch_before = [p.detach().clone() for p in self.net.arch_parameters()]
        weights_before = (
            {k: v.detach().clone() for k, v in self.net.state_dict().items()} if diagnose and not warm else None
        )
        w_losses, w_acc, a_losses = [], [], []
        for b in track(range(n_batches), f"search {self.iteration + 1}/{search.epochs}", total=n_batches):
            loss, acc = self._step(self.w_opt, self.w_split, w_order[b * bs : (b + 1) * bs])
            w_losses.append(loss)
            w_acc.append(acc)
            if not warm:
                a_idx = a_order[(b * bs) % len(a_order) :][:bs]
                a_losses.append(self._step(self.a_opt, self.a_split, a_idx)[0])
        if search.decision == "evidence" and not warm:
            for layer in self.net.search_layers():
                layer.commit(search.evidence_z)
        risk: dict[str, Any] = {}
        if diagnose:
            risk["val_after_step1"], risk["rates_after_step1"] = self._val()
            with self._architecture(arch_before):
                risk["val_previous_architecture"] = self._val()[0]
            risk["architecture_drop"] = risk["val_previous_architecture"] - risk["val_after_step1"]
            if weights_before is not None:
                # the paper's risk: the new architecture on the weights trained for the old one
                after = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
                arch_after = [p.detach().clone() for p in self.net.arch_parameters()]
                self.net.load_state_dict(weights_before)
                with self._architecture(arch_before):
                    risk["val_old_weights_old_architecture"] = self._val()[0]
                with self._architecture(arch_after):
                    risk["val_old_weights_new_architecture"] = self._val()[0]
                self.net.load_state_dict(after)
                risk["architecture_risk"] = (
                    risk["val_old_weights_old_architecture"] - risk["val_old_weights_new_architecture"]
                )
            if self.history:
                risk["val_before"] = self.history[-1]["val_accuracy"]
        ip_stats = {}
        if self.ip is not None:
            ip_stats = self._ip_window(w_order)
        elif diagnose:
            risk["val_if_ip"] = self._counterfactual_ip(w_order)
        val, rates = self._val()
        if diagnose:
            after_ip = val if self.ip is not None else risk["val_if_ip"]
            risk["ip_recovery"] = after_ip - risk["val_after_step1"]
        layer = self.net.search_layers()[0]
        sizes = layer.size_probabilities().detach().cpu().numpy()
        self.iteration += 1
        entropy = self.mean_type_entropy()
        record: dict[str, Any] = {
            "iteration": self.iteration,
            "temperature": self.temperature(self.iteration - 1),
            "warmup": warm,
            "weight_loss": float(np.mean(w_losses)),
            "train_accuracy": float(np.mean(w_acc)),
            "arch_loss": float(np.mean(a_losses)) if a_losses else None,
            "val_accuracy": val,
            "rates": rates,
            "entropy": layer.entropies(),
            "mean_type_entropy": entropy,
            "size_probabilities": {str(m): float(p) for m, p in zip(layer.sizes, sizes, strict=True)},
            "chosen_motif_size": layer.derive().motif_size,
            **({"decisions": layer.decision_summary()} if search.decision == "evidence" else {}),
            "ip": ip_stats,
            "risk": risk,
            **({"chip_cost": mean_parts(self.cost_parts)} if self.cost_parts else {}),
            "seconds": time.perf_counter() - t0,
        }
        self.history.append(record)
        self.cost_parts = []
        if search.stop_entropy is not None and not warm and entropy < search.stop_entropy:
            self.stopped = True
            note(f"search: type entropy {entropy:.3f} < {search.stop_entropy}: architecture settled")
        self.save()
        note(
            f"search {self.iteration}/{self.config.search.epochs}: val {val:.4f}, motif size "
            f"{record['chosen_motif_size']} (p={sizes.max():.2f}), loss {record['weight_loss']:.3f}"
        )
        return record

    def run(self, resume: bool = True, stop_after: int | None = None, save: bool = True) -> ArchSpec:
        """Search (resuming unless ``resume`` is False); ``save``: write ``architecture.yaml`` (not
        for a replicate, whose architecture is not the search's answer)."""
        if resume and self.load() and self.iteration:
            note(f"search: resumed at iteration {self.iteration}/{self.config.search.epochs} from {self.checkpoint}")
        done = 0
        while (
            self.iteration < self.config.search.epochs
            and not self.stopped
            and (stop_after is None or done < stop_after)
        ):
            self.iterate()
            done += 1
        self.net.set_temperature(self.temperature(self.config.search.epochs - 1))
        arch = self.net.derive(source=f"hrmas ({self.config.search.space}, ip {'on' if self.ip else 'off'})")
        if save and distributed.current().main:
            arch.save(self.out / "architecture.yaml")
        return arch


def run_search(config: SearchJob, out: Path, resume: bool = True) -> ArchSpec:
    """``neuromotif search``: search, derive and write ``OUT/search/architecture.yaml`` and plots.

    With ``decision=evidence`` and ``replicates`` R > 1: R searches from seeds seed .. seed+R-1
    (the first in ``OUT/search`` itself, the others in ``OUT/search/replicate<r>``, each resumable);
    the architecture keeps a choice only where every replicate committed the same one
    (``supernet.agreed_architecture``), else the default."""
    data = load_dataset(config.data, config.seed)
    replicates = config.search.replicates if config.search.decision == "evidence" else 1
    searches = []
    for r in range(replicates):
        job = dataclasses.replace(config, seed=config.seed + r)
        where = Path(out) if r == 0 else Path(out) / "search" / f"replicate{r}"
        if replicates > 1:
            note(f"search: replicate {r + 1}/{replicates} (seed {job.seed})")
        search = Search(job, data, where)
        arch = search.run(resume=resume, save=replicates == 1)
        searches.append(search)
    search = searches[0]
    if replicates > 1:
        arch = agreed_architecture([s.net for s in searches], source=f"hrmas (evidence, {replicates} replicates)")
        if distributed.current().main:
            arch.save(search.out / "architecture.yaml")
            summary = agreement_summary([s.net for s in searches])
            atomic_write_text(search.out / "replicates.json", json.dumps(summary, indent=2))
    if config.plots and distributed.current().main:
        from neuromotif.search.search_plots import plot_search

        plot_search(search.net, search.history, search.out)
    return arch
