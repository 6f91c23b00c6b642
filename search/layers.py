"""A population of LIF neurons with a dense input projection: the base of every layer.

Owns what every layer shares: input weights, per-neuron gain (intrinsic plasticity's R,
folded into all incoming weights), per-neuron voltage decay dv (IP's tau_m), current decay
du, threshold, bias, and the two precisions:

- ``float``: DESIGN.md's dynamics in float32, surrogate gradients for the spike.
- ``chip``: the same dynamics as the chip computes them, bit for bit: float64 state in fixed
  units (every value an integer below 2^53, so exact), the compiler's own quantization of the
  weights, decays (dv clustered into the same profiles), threshold and bias
  (``neuromotif.deploy.quantize``, for the model's ``numeric`` format and ``max_profiles``),
  Lava's truncation toward zero of the decays, the 24-bit wrap of u, the saturation of v,
  strict threshold and reset to zero. Gradients pass straight through every rounding and
  truncation (quantization-aware training trains in it). Agreement with the CPU backend is
  exact, not approximate (``tests/search/test_chip_precision.py``).

Subclasses add a recurrent current by overriding ``recurrent_weights`` and
``recurrent_current``, and name themselves with ``kind`` (the compiler's population names).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from neuromotif.deploy.ir import FloatPopulation
from neuromotif.deploy.quantize import quantize_population, quantize_weights
from neuromotif.hw_models import formats
from neuromotif.hw_models.chip import NumericFormat
from neuromotif.search.arch import NeuronParams
from neuromotif.search.neuron import lif_step, spike

PRECISIONS = ("float", "chip")
INT32 = 2**31


def straight_through(value: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Forward exactly ``value``; backward identity to ``like`` (``like - like.detach()`` is 0)."""
    return value + (like - like.detach())


def chip_trunc(x: torch.Tensor) -> torch.Tensor:
    """Truncation toward zero (Lava's ``sign(x) * (|x| >> 12)``), straight-through gradient."""
    return straight_through(torch.trunc(x.detach()), x)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


class LIFLayer(nn.Module):
    kind = "lif"
    motif_size = 1  # neurons per motif (SC-ML layers set their own)
    numeric: NumericFormat | None = None  # the target chip's number format, for ``chip`` (set by the RSNN)
    max_profiles: int = 4                 # decay profiles the compiler allows per population (set by the RSNN)

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

    def effective(self) -> dict[str, torch.Tensor]:
        """Everything the float dynamics use."""
        w_in, rec = self.folded_weights()
        return {"w_in": w_in, "rec": rec, "du": self.du, "dv": self.dv, "bias": self.bias}

    def chip_parameters(self) -> dict[str, Any]:
        """What the compiler emits for this population, as float64 tensors in fixed units.

        Weights are the stored integers x 2^exponent / scale (exactly representable) with a
        straight-through path to the float weights; ``keep_u`` / ``keep_v`` the exact decay
        factors (4096 - (du + 1)) / 4096 and (4096 - dv) / 4096 of the clustered profiles."""
        if self.numeric is None:
            raise ValueError("chip precision needs the target chip's numeric format: build the RSNN with numeric=")
        fmt = self.numeric
        w_in, rec = self.folded_weights()
        max_w = max(float(np.abs(_np(w_in)).max(initial=0.0)), float(np.abs(_np(rec)).max(initial=0.0))
                    if rec is not None else 0.0)
        scale = formats.population_scale(max_w, self.vth, fmt)

        def weights(w: torch.Tensor) -> torch.Tensor:
            stored, e, _ = quantize_weights(_np(w), scale, fmt)
            exact = torch.from_numpy(stored * (2.0**e / scale)).to(w.device)
            return straight_through(exact, w.double())

        pop, _ = quantize_population(FloatPopulation("chip", self.n, vth=self.vth, du=float(self.du),
                                                     dv=_np(self.dv), bias=_np(self.bias)),
                                     scale, fmt, self.max_profiles)
        dev = self.w_in.device
        one = 2.0**formats.LAVA_DECAY_BITS
        as_t = lambda a: torch.from_numpy(np.asarray(a, np.float64)).to(dev)  # noqa: E731
        return {"scale": float(scale), "w_in": weights(w_in), "rec": weights(rec) if rec is not None else None,
                "keep_u": as_t((one - (pop.du + 1)) / one), "keep_v": as_t((one - pop.dv) / one),
                "bias": as_t((pop.bias_mant << pop.bias_exp).astype(np.float64)),
                "vth": float(pop.vth << formats.STATE_SHIFT),
                "u_limit": float(formats.u_limit(fmt)), "v_limit": float(formats.v_limit(fmt))}

    def recurrent_current(self, s: torch.Tensor, rec: torch.Tensor | None) -> torch.Tensor | float:
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
        if self.precision == "chip":
            return self._forward_chip(x, record_v)
        p = self.effective()
        batch, steps, _ = x.shape
        shifted = torch.cat([x.new_zeros(batch, 1, self.n_in), x[:, :-1]], dim=1)
        # unbind once: indexing drive[t] per step would make backward zero-fill a full [T, ...] gradient per step
        drive = self.to_layout(shifted @ p["w_in"].T).unbind(0)
        shape = self.neuron_shape()
        keep_u = (1 - p["du"]).to(x.dtype)
        keep_v = (1 - p["dv"]).to(x.dtype).view(shape)
        bias = p["bias"].to(x.dtype).view(shape) if bool((p["bias"] != 0).any()) else None
        u = x.new_zeros(drive[0].shape)
        v = x.new_zeros(drive[0].shape)
        s = x.new_zeros(drive[0].shape)
        spikes, volts = [], []
        for t in range(steps):
            a = drive[t] + self.recurrent_current(s, p["rec"]) if p["rec"] is not None else drive[t]
            u, v, s = lif_step(u, v, a, keep_u, keep_v, self.vth, bias)
            spikes.append(s)
            if record_v:
                volts.append(v)
        out = {"spikes": self.from_layout(torch.stack(spikes))}
        if record_v:
            out["v"] = self.from_layout(torch.stack(volts))
        return out

    def _forward_chip(self, x: torch.Tensor, record_v: bool) -> dict[str, torch.Tensor]:
        """The chip's integer dynamics (see the module docstring); spikes are float64."""
        p = self.chip_parameters()
        x = x.double()
        batch, steps, _ = x.shape
        to_fixed = p["scale"] * 2**formats.STATE_SHIFT  # threshold units -> fixed units of u and v
        shifted = torch.cat([x.new_zeros(batch, 1, self.n_in), x[:, :-1]], dim=1)
        drive = self.to_layout((shifted @ p["w_in"].T) * to_fixed).unbind(0)
        shape = self.neuron_shape()
        keep_u, keep_v, bias = (p[k].view(shape) for k in ("keep_u", "keep_v", "bias"))
        vth, u_lim, v_lim = p["vth"], p["u_limit"], p["v_limit"]
        u = x.new_zeros(drive[0].shape)
        v = x.new_zeros(drive[0].shape)
        s = x.new_zeros(drive[0].shape)
        stats = self.range_stats
        # can u + a leave int32 (where Lava wraps)? Only for absurd weights: decided once, from the weights
        max_a = float(p["w_in"].detach().abs().sum(1).max()) + (
            float(p["rec"].detach().abs().sum(-1).max()) if p["rec"] is not None else 0.0)
        int32_possible = u_lim + max_a * to_fixed >= INT32
        spikes, volts = [], []
        for t in range(steps):
            a = drive[t] + self.recurrent_current(s, p["rec"]) * to_fixed if p["rec"] is not None else drive[t]
            u = chip_trunc(u * keep_u) + a
            if stats is not None:
                _record(stats, "u_max_abs", float(u.detach().abs().max()))
            if int32_possible and bool((u.detach().abs() >= INT32).any()):  # Lava adds into int32: wrap like it
                u = u - (2 * INT32) * torch.floor((u.detach() + INT32) / (2 * INT32))
            wrap = (u.detach() > u_lim).double() - (u.detach() <= -u_lim).double()
            u = u - (2 * u_lim) * wrap
            v = chip_trunc(v * keep_v) + u + bias
            if stats is not None:
                _record(stats, "v_max_abs", float(v.detach().abs().max()))
            v = torch.clamp(v, -v_lim, v_lim)
            s = spike((v - vth) / to_fixed)  # forward: v > vth exactly (division by a power of two)
            v = v.masked_fill(s.detach() > 0, 0.0)
            spikes.append(s)
            if record_v:
                volts.append(v / to_fixed)
        out = {"spikes": self.from_layout(torch.stack(spikes))}
        if record_v:
            out["v"] = self.from_layout(torch.stack(volts))
        return out


def _record(stats: dict[str, float], key: str, value: float) -> None:
    stats[key] = max(stats.get(key, 0.0), value)
