"""A population of LIF neurons with a dense input projection: the base of every layer.

Owns what every layer shares: input weights, per-neuron gain (intrinsic plasticity's R,
folded into all incoming weights), per-neuron voltage decay dv (IP's tau_m), current decay
du, threshold, bias, and the ``quantized`` precision that rounds all of them exactly as the
compiler will for the target chip's ``numeric`` format (``hw_models.formats``; straight-through
gradients). Subclasses add a recurrent current by overriding ``recurrent_weights`` and
``recurrent_current``, and name themselves with ``kind`` (the compiler's population names).
"""
from __future__ import annotations

import torch
from torch import nn

from neuromotif.hw_models import formats
from neuromotif.hw_models.chip import NumericFormat
from neuromotif.search.arch import NeuronParams
from neuromotif.search.neuron import lif_step

PRECISIONS = ("float", "quantized")


def ste(w: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Forward ``q``, backward identity to ``w`` (straight-through estimator)."""
    return w + (q - w).detach()


class LIFLayer(nn.Module):
    kind = "lif"
    motif_size = 1  # neurons per motif (SC-ML layers set their own)
    numeric: NumericFormat | None = None  # the chip's number format, for ``quantized`` (set by the RSNN)

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
        """Everything the dynamics use, rounded to the chip in ``quantized`` precision."""
        w_in, rec = self.folded_weights()
        du, dv, bias = self.du, self.dv, self.bias
        if self.precision == "quantized":
            fmt = self.numeric
            if fmt is None:
                raise ValueError("quantized precision needs the chip's numeric format: set layer.numeric")
            max_w = max(float(w_in.detach().abs().max()), float(rec.detach().abs().max()) if rec is not None else 0.0)
            scale = formats.population_scale(max_w, self.vth, fmt)
            w_in = ste(w_in, formats.quantize_weight(w_in, scale, formats.choose_exponent(w_in.detach(), scale, fmt), fmt))
            if rec is not None:
                rec = ste(rec, formats.quantize_weight(rec, scale, formats.choose_exponent(rec.detach(), scale, fmt), fmt))
            du, dv = formats.quantize_du(du, fmt), formats.quantize_dv(dv, fmt)
            bias = formats.quantize_bias(bias, scale, fmt)
        return {"w_in": w_in, "rec": rec, "du": du, "dv": dv, "bias": bias}

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
        """``x``: [B, T, n_in] spikes of the layer below -> spikes [B, T, n] (and v if asked).

        The input arrives one step late (a[t] = W x[t-1] + W_rec s[t-1]), as on the chip.
        """
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
