"""The HRMAS supernet: every candidate motif size and every connection type at once, relaxed.

For each candidate size m (dividing N): per-synapse magnitudes |w| [K_m, m, 3m] and logits over
{E, I, absent} for every intra- and inter-motif position [m, 3m, 3], shared by all motifs of
that size. A position's weight is (p_E - p_I) |w|; a softmax over sizes (``beta``) mixes the
sizes' recurrent currents. Each size runs like an SC-ML layer (batched motif products), so
cost grows with N * sum(m), never N^2. ``space="full"`` is the no-motif ablation: one motif of
N neurons, i.e. a type choice for every connection of the layer.

A temperature (``set_temperature``) divides every logit: annealed from 1 towards a small value
over the search, it sharpens the choices so that the relaxed network the weights are trained
in converges to the discrete one that derivation keeps (a smaller discretisation gap).
``relaxation="gumbel"`` replaces the mixture, in training, by one hard straight-through
Gumbel-softmax sample of every type and of the size per batch: the weights then train in
discrete networks, as the derived one will run. ``type_init_std`` sets the spread of the
initial type logits: near 0 every position starts at p_E = p_I, i.e. a zero weight.
"""

from __future__ import annotations

import functools
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from neuromotif.search.arch import ArchSpec, LayerSpec, NeuronParams, default_motif
from neuromotif.search.baselines import FeedForwardLayer
from neuromotif.search.evidence import UNDECIDED, PairwiseEvidence
from neuromotif.search.layers import LIFLayer
from neuromotif.search.model import INPUT_SCALE, READOUT_SCALE
from neuromotif.search.scml import MotifRecurrence

TYPE_CODES = np.array([1, -1, 0], np.int8)  # option index (E, I, absent) -> type code


def one_hot_logits(choice: torch.Tensor, options: int, like: torch.Tensor, big: float = 1e3) -> torch.Tensor:
    """Logits whose softmax is exactly one-hot at ``choice`` (at any temperature down to 0.1 in
    float32: exp(-2 big / T) underflows to 0)."""
    return torch.nn.functional.one_hot(choice.long(), options).to(like) * 2 * big - big


def default_options(m: int) -> torch.Tensor:
    """[m, 3m] option indices of the hand-designed motif (``arch.default_motif``) in the supernet's
    column order: inter-previous | intra | inter-next."""
    intra, prev, nxt = default_motif(m)
    codes = np.concatenate([prev, intra, nxt], axis=1)
    return torch.from_numpy(np.select([codes == 1, codes == -1], [0, 1], 2)).long()


class SuperSCMLLayer(LIFLayer):
    committed_size: torch.Tensor  # buffer: index of the committed motif size, or UNDECIDED

    def __init__(
        self,
        n_in: int,
        n: int,
        sizes: list[int],
        neuron: NeuronParams,
        generator: torch.Generator,
        rec_scale: float = 0.5,
        type_init_std: float = 1e-3,
        relaxation: str = "mixture",
        decision: str = "argmax",
        default_size: int | None = None,
    ):
        super().__init__(n_in, n, neuron, generator, INPUT_SCALE)
        self.sizes = [m for m in sizes if n % m == 0]
        if not self.sizes:
            raise ValueError(f"no candidate motif size divides the layer size {n}")
        self.w = nn.ParameterList()
        self.alpha = nn.ParameterList()
        for m in self.sizes:
            self.w.append(
                nn.Parameter(torch.rand(n // m, m, 3 * m, generator=generator) * (rec_scale / (3 * m) ** 0.5))
            )
            self.alpha.append(nn.Parameter(type_init_std * torch.randn(m, 3 * m, 3, generator=generator)))
            k = n // m
            mask = torch.ones(m, 3 * m)
            if k <= 1:
                mask[:, :m] = 0
            if k <= 2:
                mask[:, 2 * m :] = 0
            self.register_buffer(f"mask{m}", mask)
        self.beta = nn.Parameter(1e-3 * torch.randn(len(self.sizes), generator=generator))
        self.temperature = 1.0
        self.relaxation = relaxation
        self._size_mix: torch.Tensor | None = None  # the size weights of the current forward pass
        self._type_probs: list[torch.Tensor] | None = None  # and the type probabilities
        # decision "evidence" (search/evidence.py): every position holds the hand-designed default
        # motif's type (one-hot) until the evidence commits it to an option; the sizes mix evenly
        # until one is committed
        self.decision = decision
        self.default_size = default_size if default_size in self.sizes else max(self.sizes)
        for m in self.sizes:
            self._evidence_buffers(f"types{m}", (m, 3 * m), 3)
            self.register_buffer(f"committed{m}", torch.full((m, 3 * m), UNDECIDED, dtype=torch.int64))
            self.register_buffer(
                f"default{m}",
                default_options(m) * getattr(self, f"mask{m}").long() + 2 * (1 - getattr(self, f"mask{m}").long()),
            )
        self._evidence_buffers("size", (), len(self.sizes))
        self.register_buffer("committed_size", torch.tensor(UNDECIDED, dtype=torch.int64))
        self.collecting = False  # capture dL/dp in the forward passes (architecture steps)
        self._captured: dict[str, torch.Tensor] = {}
        self._step_grads: dict[str, torch.Tensor] = {}
        if decision == "evidence":
            with torch.no_grad():
                self.beta.zero_()
            self.apply_commitments()

    # ---- evidence-based decisions ---------------------------------------------------------------
    def _evidence_buffers(self, key: str, shape: tuple[int, ...], options: int) -> None:
        for name, t in zip(("sums", "squares", "count"), PairwiseEvidence.buffers(shape, options), strict=True):
            self.register_buffer(f"ev_{key}_{name}", t)

    def evidence(self, key: str) -> PairwiseEvidence:
        options = len(self.sizes) if key == "size" else 3
        sums, squares, count = (getattr(self, f"ev_{key}_{n}") for n in ("sums", "squares", "count"))
        return PairwiseEvidence(sums, squares, count, options)

    def _evidence_keys(self) -> list[str]:
        return [*(f"types{m}" for m in self.sizes), "size"]

    def _capture(self, key: str, grad: torch.Tensor) -> None:
        self._captured[key] = grad.detach()

    def begin_step(self) -> None:
        """Start an architecture step: zero dL/dp for every decision (every rank sums every key)."""
        self._step_grads = {f"types{m}": torch.zeros_like(a) for m, a in zip(self.sizes, self.alpha, strict=True)}
        self._step_grads["size"] = torch.zeros_like(self.beta)
        self._captured = {}

    def absorb(self, weight: float) -> None:
        """After one micro-batch's backward: add its dL/dp, weighted as its gradient is (n_j / n)."""
        for key, grad in self._captured.items():
            self._step_grads[key] = self._step_grads[key] + grad * weight
        self._captured = {}

    def end_step(self, group) -> None:
        """The step's dL/dp of the whole global batch (summed over ranks) is one measurement."""
        for key in self._evidence_keys():
            self.evidence(key).add(group.sum(self._step_grads[key]))
        self._step_grads = {}

    @torch.no_grad()
    def commit(self, z: float) -> None:
        """Commit every undecided choice whose evidence now clears ``z``; committed ones stay."""
        for m in self.sizes:
            committed = getattr(self, f"committed{m}")
            new = self.evidence(f"types{m}").decide(z).to(committed.device)
            mask = getattr(self, f"mask{m}").bool()
            committed.copy_(torch.where((committed == UNDECIDED) & mask, new, committed))
        if int(self.committed_size) == UNDECIDED:
            self.committed_size.fill_(int(self.evidence("size").decide(z)))
        self.apply_commitments()

    def choices(self, m: int) -> torch.Tensor:
        """[m, 3m] option per position of size ``m`` (0 E, 1 I, 2 absent): committed, else the default."""
        committed = getattr(self, f"committed{m}")
        return torch.where(committed != UNDECIDED, committed, getattr(self, f"default{m}"))

    @torch.no_grad()
    def apply_commitments(self, big: float = 1e3) -> None:
        """Type logits one-hot at each position's choice (exact 0 / 1 probabilities at any temperature)."""
        for i, m in enumerate(self.sizes):
            self.alpha[i].copy_(one_hot_logits(self.choices(m), 3, self.alpha[i], big))
        if int(self.committed_size) != UNDECIDED:
            self.beta.copy_(one_hot_logits(self.committed_size, len(self.sizes), self.beta, big))

    def decision_summary(self) -> dict[str, Any]:
        """What is decided so far (for history.jsonl): committed positions per size, the size."""
        out: dict[str, Any] = {}
        for m in self.sizes:
            mask = getattr(self, f"mask{m}").bool()
            committed = getattr(self, f"committed{m}")[mask]
            out[f"committed_m{m}"] = int((committed != UNDECIDED).sum())
            out[f"positions_m{m}"] = int(mask.sum())
        size = int(self.committed_size)
        out["committed_size"] = self.sizes[size] if size != UNDECIDED else None
        out["size_margin"] = float(self.evidence("size").margin())
        return out

    def arch_parameters(self) -> list[nn.Parameter]:
        return [*self.alpha, self.beta]

    def type_probabilities(self, i: int) -> torch.Tensor:
        """[m, 3m, 3] probabilities of (E, I, absent) at each position of size i's motif."""
        return torch.softmax(self.alpha[i] / self.temperature, dim=-1)

    def size_probabilities(self) -> torch.Tensor:
        return torch.softmax(self.beta / self.temperature, dim=0)

    def used_type_probabilities(self, i: int) -> torch.Tensor:
        """The type probabilities of size ``i`` the last forward pass used (a cost computed on them
        reaches the measured dL/dp of decision=evidence); the softmax before any forward pass or
        with the gumbel relaxation (whose forward uses hard samples)."""
        if self.relaxation == "mixture" and self._type_probs is not None:
            return self._type_probs[i]
        return self.type_probabilities(i)

    def used_size_probabilities(self) -> torch.Tensor:
        """The size weights the last forward pass used (see ``used_type_probabilities``)."""
        if self.relaxation == "mixture" and self._size_mix is not None:
            return self._size_mix
        return self.size_probabilities()

    def _sample(self, logits: torch.Tensor, dim: int) -> torch.Tensor:
        """Relaxed choice along ``dim``: the softmax, or (gumbel, training) a hard one-hot sample
        whose gradient is the softmax's (straight-through)."""
        if self.relaxation != "gumbel" or not self.training:
            return torch.softmax(logits / self.temperature, dim=dim)
        return nn.functional.gumbel_softmax(logits / self.temperature, tau=1.0, hard=True, dim=dim)

    def folded_weights(self):
        w_in = self.w_in * self.gain[:, None]
        recs = []
        self._type_probs = []
        for i, m in enumerate(self.sizes):
            p = self._sample(self.alpha[i], -1)
            self._type_probs.append(p)
            if self.collecting and p.requires_grad:
                p.register_hook(functools.partial(self._capture, f"types{m}"))
            sign = (p[..., 0] - p[..., 1]) * getattr(self, f"mask{m}")
            recs.append(sign * self.w[i].abs() * self.gain.view(self.n // m, m, 1))
        return w_in, recs

    def effective(self) -> dict[str, torch.Tensor]:
        if self.precision != "float":
            raise ValueError("the supernet runs in float precision only")
        w_in, recs = self.folded_weights()
        self._size_mix = self._sample(self.beta, 0)
        if self.collecting and self._size_mix.requires_grad:
            self._size_mix.register_hook(functools.partial(self._capture, "size"))
        return {"w_in": w_in, "rec": recs, "du": self.du, "dv": self.dv, "bias": self.bias}

    def recurrent_current(self, s: torch.Tensor, rec: list[torch.Tensor]) -> torch.Tensor:
        mix = self._size_mix if self._size_mix is not None else self.size_probabilities()
        batch = s.shape[0]
        total = s.new_zeros(batch, self.n)
        for i, (m, w) in enumerate(zip(self.sizes, rec, strict=True)):
            k = self.n // m
            motifs = s.view(batch, k, m).transpose(0, 1).contiguous()  # [K, B, m]
            cur = MotifRecurrence.apply(motifs, w.transpose(1, 2))  # [K, B, m]
            total = total + mix[i] * cur.transpose(0, 1).reshape(batch, self.n)
        return total

    def derive(self, index: int | None = None, types: np.ndarray | None = None) -> LayerSpec:
        """Discretise: the most probable size, and the most probable type at every position
        (or the candidate of size ``sizes[index]`` with type codes ``types`` [m, 3m])."""
        if index is not None:
            i = index
        elif self.decision == "evidence":  # the committed size, else the stated default
            size = int(self.committed_size)
            i = size if size != UNDECIDED else self.sizes.index(self.default_size)
        else:
            i = int(torch.argmax(self.beta))
        m = self.sizes[i]
        if types is None and self.decision == "evidence":  # committed types, else the default motif's
            types = TYPE_CODES[self.choices(m).cpu().numpy()]
        elif types is None:
            types = TYPE_CODES[self.type_probabilities(i).argmax(-1).cpu().numpy()]
        types = types * getattr(self, f"mask{m}").cpu().numpy().astype(np.int8)
        neuron = NeuronParams(float(self.du), float(self.dv.mean()), self.vth, float(self.bias.mean()))
        return LayerSpec("scml", self.n, m, types[:, m : 2 * m], types[:, :m], types[:, 2 * m :], neuron)

    def candidate_logits(self, index: int, types: np.ndarray, big: float = 1e3) -> list[torch.Tensor]:
        """Architecture logits that make the supernet run one discrete candidate: size
        ``sizes[index]`` with type codes ``types`` [m, 3m] (the one-shot evaluation of a candidate)."""
        beta = one_hot_logits(torch.tensor(index, device=self.beta.device), len(self.sizes), self.beta, big)
        alphas = [a.detach().clone() for a in self.alpha]
        choice = torch.from_numpy(np.select([types == 1, types == -1], [0, 1], 2)).to(self.beta.device)
        alphas[index] = one_hot_logits(choice, 3, self.beta, big)
        return [*alphas, beta]

    @torch.no_grad()
    def entropies(self) -> dict[str, float]:
        """Mean entropy (nats) of the type choice per size, and of the size choice."""
        out = {}
        for i, m in enumerate(self.sizes):
            p = self.type_probabilities(i)
            out[f"types_m{m}"] = float(-(p * p.clamp_min(1e-12).log()).sum(-1).mean())
        q = self.size_probabilities()
        out["size"] = float(-(q * q.clamp_min(1e-12).log()).sum())
        return out


class SuperNet(nn.Module):
    """Input -> supernet recurrent layer(s) -> LIF readout; same interface as ``RSNN``."""

    def __init__(
        self,
        inputs: int,
        hidden: list[int],
        classes: int,
        sizes: list[int],
        neuron: NeuronParams,
        seed: int = 0,
        type_init_std: float = 1e-3,
        relaxation: str = "mixture",
        decision: str = "argmax",
        default_size: int | None = None,
    ):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        layers, n_in = [], inputs
        for n in hidden:
            layers.append(
                SuperSCMLLayer(
                    n_in,
                    n,
                    sizes,
                    neuron,
                    gen,
                    type_init_std=type_init_std,
                    relaxation=relaxation,
                    decision=decision,
                    default_size=default_size,
                )
            )
            n_in = n
        self.layers = nn.ModuleList(layers)
        self.readout = FeedForwardLayer(n_in, classes, neuron, gen, READOUT_SCALE)
        self.inputs, self.classes, self.neuron = inputs, classes, neuron

    def populations(self) -> list[LIFLayer]:
        return [*self.search_layers(), self.readout]

    def search_layers(self) -> list[SuperSCMLLayer]:
        """The searched layers (``self.layers`` holds them as a ModuleList, which type checkers see
        as plain modules)."""
        return cast("list[SuperSCMLLayer]", list(self.layers))

    def set_precision(self, precision: str) -> None:
        if precision != "float":
            raise ValueError("the supernet runs in float precision only")

    def arch_parameters(self) -> list[nn.Parameter]:
        return [p for layer in self.search_layers() for p in layer.arch_parameters()]

    def set_temperature(self, temperature: float) -> None:
        for layer in self.search_layers():
            layer.temperature = temperature

    def weight_parameters(self) -> list[nn.Parameter]:
        arch = {id(p) for p in self.arch_parameters()}
        return [p for p in self.parameters() if id(p) not in arch]

    def forward(self, x: torch.Tensor, record: bool = False):
        trace, h = [], x
        for layer in self.populations():
            out = layer(h, record_v=record)
            h = out["spikes"]
            trace.append(out)
        result = {"counts": h.sum(1), "rates": [o["spikes"].mean() for o in trace]}
        if record:
            result["trace"] = trace
        return result

    def derive(self, source: str = "hrmas") -> ArchSpec:
        return ArchSpec(
            self.inputs,
            self.classes,
            [layer.derive() for layer in self.search_layers()],
            NeuronParams(**vars(self.neuron)),
            source=source,
        )


def _committed(searched, m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Replicates' committed options of size ``m`` stacked [R, m, 3m], and where all of them
    committed the same one."""
    committed = torch.stack([getattr(layer, f"committed{m}") for layer in searched])
    return committed, (committed == committed[0]).all(0) & (committed[0] != UNDECIDED)


def agreed_architecture(nets: list[SuperNet], source: str) -> ArchSpec:
    """The architecture on which independent evidence searches agree: per layer the size every
    one committed (else the default size), and per position the option every one committed (else
    the hand-designed motif's type)."""
    layers = []
    for searched in zip(*(net.search_layers() for net in nets), strict=True):
        first = searched[0]
        sizes = {int(layer.committed_size) for layer in searched}
        size = sizes.pop() if len(sizes) == 1 and UNDECIDED not in sizes else first.sizes.index(first.default_size)
        m = first.sizes[size]
        committed, agreed = _committed(searched, m)
        choice = torch.where(agreed, committed[0], getattr(first, f"default{m}"))
        layers.append(first.derive(index=size, types=TYPE_CODES[choice.cpu().numpy()]))
    net = nets[0]
    return ArchSpec(net.inputs, net.classes, layers, NeuronParams(**vars(net.neuron)), source=source)


def agreement_summary(nets: list[SuperNet]) -> dict[str, Any]:
    """What each replicate committed and what they agree on (``search/replicates.json``)."""
    out: dict[str, Any] = {"replicates": len(nets), "layers": []}
    for searched in zip(*(net.search_layers() for net in nets), strict=True):
        first = searched[0]
        layer: dict[str, Any] = {
            "committed_size": [
                first.sizes[int(x.committed_size)] if int(x.committed_size) != UNDECIDED else None for x in searched
            ]
        }
        for m in first.sizes:
            committed, agreed = _committed(searched, m)
            changed = (committed != UNDECIDED) & (committed != getattr(first, f"default{m}"))
            layer[f"m{m}"] = {
                "changed_from_default_per_replicate": [int(c.sum()) for c in changed],
                "agreed_changes": int((agreed & changed[0]).sum()),
            }
        out["layers"].append(layer)
    return out
