"""A population of LIF neurons with a dense input projection: the base of every layer.

Owns what every layer shares: input weights, per-neuron gain (intrinsic plasticity's R,
folded into all incoming weights), per-neuron voltage decay dv (IP's tau_m), current decay
du, threshold, bias, and the two precisions:

Both precisions run the one LIF step (``hw_models.neurons.lif.step``) with torch ops
(``search/neuron.py``):

- ``float``: the dynamics in float32, surrogate gradients for the spike.
- ``chip``: the same dynamics as the chip computes them, bit for bit (``ChipOps``), with the
  compiler's own quantization of the weights, decays (dv clustered into the same profiles),
  threshold and bias (``neuromotif.deploy.quantize``, for the model's ``numeric`` format and
  ``max_profiles``). Gradients pass straight through every rounding and truncation
  (quantization-aware training trains in it). Agreement with the CPU backend is exact, not
  approximate (``tests/search/test_chip_precision.py``).

Subclasses add a recurrent current by overriding ``recurrent_weights`` and
``recurrent_current``, and name themselves with ``kind`` (the compiler's population names).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from neuromotif.deploy.ir import FloatPopulation
from neuromotif.deploy.quantize import DEFAULT_MAX_PROFILES, quantize_population, quantize_weights
from neuromotif.hw_models import formats
from neuromotif.hw_models.chip import NumericFormat
from neuromotif.hw_models.neurons import lif
from neuromotif.search.arch import NeuronParams
from neuromotif.search.neuron import ChipOps, FloatOps, straight_through

PRECISIONS = ("float", "chip")


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def chip_population(
    pop: FloatPopulation, weights: list[torch.Tensor | None], fmt: NumericFormat, max_profiles: int
) -> tuple[float, list[torch.Tensor | None], lif.LIFParams]:
    """What the compiler emits for one population and all its incoming weights (any layout), as
    float64 tensors in fixed units: (scale, weights, the LIF step's parameters).

    The one place the torch side calls the compiler's quantizer (``quantize_weights``,
    ``quantize_population``), so ``chip`` precision computes what the CPU backend runs: weights
    are the stored integers x 2^exponent / scale (exactly representable) with a straight-through
    path to the float weights; the parameters are those of the clustered decay profiles
    (``lif.fixed_params``, as the CPU backend builds them)."""
    present = [w for w in weights if w is not None]
    max_w = max((float(np.abs(_np(w)).max(initial=0.0)) for w in present), default=0.0)
    scale = formats.population_scale(max_w, pop.vth, fmt)

    def fixed(w: torch.Tensor) -> torch.Tensor:
        stored, e, _ = quantize_weights(_np(w), scale, fmt)
        exact = torch.from_numpy(stored * (2.0**e / scale)).to(w.device)
        return straight_through(exact, w.double())

    quantized, _ = quantize_population(pop, scale, fmt, max_profiles)
    device = present[0].device if present else torch.device("cpu")
    params = lif.fixed_params(quantized.du, quantized.dv, quantized.bias_mant, quantized.bias_exp, quantized.vth, fmt)
    return (
        float(scale),
        [fixed(w) if w is not None else None for w in weights],
        params.map(lambda a: torch.from_numpy(np.asarray(a, np.float64)).to(device)),
    )


class LIFLayer(nn.Module):
    kind = lif.KIND
    motif_size = 1  # neurons per motif (SC-ML layers set their own)
    numeric: NumericFormat | None = None  # the target chip's number format, for ``chip`` (set by the RSNN)
    max_profiles: int = DEFAULT_MAX_PROFILES  # decay profiles the compiler allows per population (set by the RSNN)
    gain: torch.Tensor  # buffers (registered in __init__), declared for type checkers
    dv: torch.Tensor
    du: torch.Tensor
    bias: torch.Tensor

    def __init__(self, n_in: int, n: int, neuron: NeuronParams, generator: torch.Generator, in_scale: float = 1.0):
        super().__init__()
        self.n_in, self.n = n_in, n
        self.w_in = nn.Parameter(torch.randn(n, n_in, generator=generator) * (in_scale / n_in**0.5))
        self.register_buffer("gain", torch.ones(n))
        self.register_buffer("dv", torch.full((n,), float(neuron.dv)))
        self.register_buffer("du", torch.tensor(float(neuron.du)))
        self.register_buffer("bias", torch.full((n,), float(neuron.bias)))
        self.vth = float(neuron.vth)
        self.precision = "float"
        self.range_stats: dict[str, float] | None = None  # set to {} to record u / v ranges in ``chip``

    # ---- weights as the neurons see them ------------------------------------------------
    def recurrent_weights(self) -> torch.Tensor | None:
        """Signed recurrent weights in the layer's own layout (None: no recurrence)."""
        return None

    def folded_weights(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Input and recurrent weights with each neuron's gain folded into its incoming rows."""
        rec = self.recurrent_weights()
        w_in = self.w_in * self.gain[:, None]
        if rec is not None:
            rec = rec * self.gain.view(self._gain_shape(rec))
        return w_in, rec

    def _gain_shape(self, rec: torch.Tensor) -> tuple[int, ...]:
        return (self.n, 1)

    def effective(self) -> dict[str, Any]:
        """Everything the float dynamics use."""
        w_in, rec = self.folded_weights()
        return {"w_in": w_in, "rec": rec, "du": self.du, "dv": self.dv, "bias": self.bias}

    def chip_parameters(self) -> dict[str, Any]:
        """What the compiler emits for this population (``chip_population``), as a dict."""
        if self.numeric is None:
            raise ValueError("chip precision needs the target chip's numeric format: build the RSNN with numeric=")
        w_in, rec = self.folded_weights()
        pop = FloatPopulation(
            "chip", self.n, vth=self.vth, du=np.full(self.n, float(self.du)), dv=_np(self.dv), bias=_np(self.bias)
        )
        scale, (w_chip, rec_chip), params = chip_population(pop, [w_in, rec], self.numeric, self.max_profiles)
        return {"scale": scale, "w_in": w_chip, "rec": rec_chip, "params": params}

    def recurrent_current(self, s: torch.Tensor, rec: Any) -> torch.Tensor | float:
        """Recurrent input from the previous step's spikes ``s``; ``rec``: this layer's recurrent
        weights in its own layout (a tensor; the supernet's: one per motif size). Never None."""
        return 0.0

    # ---- state layout (SC-ML keeps its state motif-major) -----------------------------------
    def to_layout(self, drive: torch.Tensor) -> torch.Tensor:
        """[B, T, N] -> [T, *state] so that ``result[t]`` is one step's input in state layout."""
        return drive.transpose(0, 1).contiguous()

    def from_layout(self, stacked: torch.Tensor) -> torch.Tensor:
        """[T, *state] -> [B, T, N]."""
        return stacked.transpose(0, 1)

    def neuron_shape(self) -> tuple[int, ...]:
        """How per-neuron parameters broadcast against the state."""
        return (self.n,)

    # ---- dynamics ---------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, record_v: bool = False) -> dict[str, torch.Tensor]:
        """``x``: [B, T, n_in] spikes of the layer below -> spikes [B, T, n] (and v, in threshold
        units, if asked).

        The input arrives one step late (a[t] = W x[t-1] + W_rec s[t-1]), as on the chip.
        """
        shape = self.neuron_shape()
        if self.precision == "chip":
            p = self.chip_parameters()
            assert self.numeric is not None  # chip_parameters refuses a layer without one
            unit = formats.fixed_unit(p["scale"])  # threshold units -> fixed units of u and v
            params = p["params"].map(lambda a: a.view(shape))
            x = x.double()
            max_a = float(p["w_in"].detach().abs().sum(1).max()) + (
                float(p["rec"].detach().abs().sum(-1).max()) if p["rec"] is not None else 0.0
            )
            return self._run(
                x,
                p["w_in"],
                p["rec"],
                params,
                ChipOps(unit, self.range_stats),
                unit,
                lif.int32_possible(max_a * unit, self.numeric),
                record_v,
            )
        p = self.effective()
        bias = p["bias"].to(x.dtype).view(shape) if bool((p["bias"] != 0).any()) else None
        params = lif.LIFParams((1 - p["du"]).to(x.dtype), (1 - p["dv"]).to(x.dtype).view(shape), bias, self.vth)
        return self._run(x, p["w_in"], p["rec"], params, FloatOps, 1.0, False, record_v)

    def _run(
        self,
        x: torch.Tensor,
        w_in: torch.Tensor,
        rec: torch.Tensor | None,
        params: lif.LIFParams,
        ops: Any,
        unit: float,
        int32: bool,
        record_v: bool,
    ) -> dict[str, torch.Tensor]:
        """The step loop of both precisions; currents and v in units of ``unit`` per threshold unit."""
        batch, steps, _ = x.shape
        shifted = torch.cat([x.new_zeros(batch, 1, self.n_in), x[:, :-1]], dim=1)
        current = shifted @ w_in.T
        # unbind once: indexing drive[t] per step would make backward zero-fill a full [T, ...] gradient per step
        drive = self.to_layout(current * unit if unit != 1 else current).unbind(0)
        u = x.new_zeros(drive[0].shape)
        v = x.new_zeros(drive[0].shape)
        s = x.new_zeros(drive[0].shape)
        spikes, volts = [], []
        for t in range(steps):
            if rec is None:
                a = drive[t]
            else:
                r = self.recurrent_current(s, rec)
                a = drive[t] + (r * unit if unit != 1 else r)
            u, v, s = lif.step(ops, u, v, a, params, int32)
            spikes.append(s)
            if record_v:
                volts.append(v / unit if unit != 1 else v)
        out = {"spikes": self.from_layout(torch.stack(spikes))}
        if record_v:
            out["v"] = self.from_layout(torch.stack(volts))
        return out
