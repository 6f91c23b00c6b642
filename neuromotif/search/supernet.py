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

from typing import cast

import numpy as np
import torch
from torch import nn

from neuromotif.search.arch import ArchSpec, LayerSpec, NeuronParams
from neuromotif.search.baselines import FeedForwardLayer
from neuromotif.search.layers import LIFLayer
from neuromotif.search.model import INPUT_SCALE, READOUT_SCALE
from neuromotif.search.scml import MotifRecurrence

TYPE_CODES = np.array([1, -1, 0], np.int8)


class SuperSCMLLayer(LIFLayer):
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

    def arch_parameters(self) -> list[nn.Parameter]:
        return [*self.alpha, self.beta]

    def type_probabilities(self, i: int) -> torch.Tensor:
        """[m, 3m, 3] probabilities of (E, I, absent) at each position of size i's motif."""
        return torch.softmax(self.alpha[i] / self.temperature, dim=-1)

    def size_probabilities(self) -> torch.Tensor:
        return torch.softmax(self.beta / self.temperature, dim=0)

    def _sample(self, logits: torch.Tensor, dim: int) -> torch.Tensor:
        """Relaxed choice along ``dim``: the softmax, or (gumbel, training) a hard one-hot sample
        whose gradient is the softmax's (straight-through)."""
        if self.relaxation != "gumbel" or not self.training:
            return torch.softmax(logits / self.temperature, dim=dim)
        return nn.functional.gumbel_softmax(logits / self.temperature, tau=1.0, hard=True, dim=dim)

    def folded_weights(self):
        w_in = self.w_in * self.gain[:, None]
        recs = []
        for i, m in enumerate(self.sizes):
            p = self._sample(self.alpha[i], -1)
            sign = (p[..., 0] - p[..., 1]) * getattr(self, f"mask{m}")
            recs.append(sign * self.w[i].abs() * self.gain.view(self.n // m, m, 1))
        return w_in, recs

    def effective(self) -> dict[str, torch.Tensor]:
        if self.precision != "float":
            raise ValueError("the supernet runs in float precision only")
        w_in, recs = self.folded_weights()
        self._size_mix = self._sample(self.beta, 0)
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
        i = int(torch.argmax(self.beta)) if index is None else index
        m = self.sizes[i]
        if types is None:
            types = TYPE_CODES[self.type_probabilities(i).argmax(-1).cpu().numpy()]
        types = types * getattr(self, f"mask{m}").cpu().numpy().astype(np.int8)
        neuron = NeuronParams(float(self.du), float(self.dv.mean()), self.vth, float(self.bias.mean()))
        return LayerSpec("scml", self.n, m, types[:, m : 2 * m], types[:, :m], types[:, 2 * m :], neuron)

    def candidate_logits(self, index: int, types: np.ndarray, big: float = 1e3) -> list[torch.Tensor]:
        """Architecture logits that make the supernet run one discrete candidate: size
        ``sizes[index]`` with type codes ``types`` [m, 3m] (the one-shot evaluation of a candidate)."""
        beta = torch.full_like(self.beta, -big)
        beta[index] = big
        alphas = [a.detach().clone() for a in self.alpha]
        choice = torch.from_numpy(np.select([types == 1, types == -1], [0, 1], 2)).to(self.beta.device)
        alphas[index] = torch.nn.functional.one_hot(choice.long(), 3).to(self.beta) * 2 * big - big
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
    ):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        layers, n_in = [], inputs
        for n in hidden:
            layers.append(
                SuperSCMLLayer(n_in, n, sizes, neuron, gen, type_init_std=type_init_std, relaxation=relaxation)
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
