"""SpiKL-IP intrinsic plasticity (Zhang & Li 2019), rescaled to our discrete LIF.

Each neuron adapts its membrane resistance R and time constant tau so that its firing-rate
distribution approaches an exponential of mean ``mu`` (maximum entropy at a fixed mean rate).
With the LIF rate transfer  y = 1 / (t_ref + tau * ln(1 + V_th / (R x - V_th)))  the per-sample
loss is  L = -ln(dy/dx) + y / mu  and the updates are its negative gradients, in closed form in
the measured rate y (X = R x - V_th = V_th / (exp((1/y - t_ref)/tau) - 1)):

    dR   = eta * (2 y tau V_th - X - V_th - tau V_th y^2 / mu) / (R X)
    dtau = eta * (2 t_ref y - 1 - (t_ref y^2 - y) / mu) / tau

Our neuron (docs/design.md) in these terms: tau = 1 / dv (steps), and since v integrates u without a
1/tau factor, the effective resistance is R = gain * tau; V_th = vth = 1; t_ref = 1 step (a
neuron spikes at most once per step). After an update, gain = R / tau and dv = 1 / tau, clipped
to ranges the chip holds. The gradient step is taken in ln R and ln tau (the same loss and fixed
point; the step no longer shrinks as 1 / R^2). Nearly silent neurons (y <= 0.01), where the
formula has no useful gradient, are revived: R up and tau down by ``revive``. Each update's
relative change is capped at ``max_step`` for stability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from neuromotif.search.settings import IPConfig

SILENT_RATE = 0.01
_DEFAULT = IPConfig()  # the rule's tunable defaults are the config's
KL_BINS = 20


@dataclass
class SpiKLIP:
    target_rate: float = _DEFAULT.target_rate  # mu, spikes per step
    eta: float = _DEFAULT.eta
    t_ref: float = 1.0
    vth: float = 1.0
    gain_range: tuple[float, float] = _DEFAULT.gain_range
    dv_range: tuple[float, float] = _DEFAULT.dv_range
    revive: float = 0.1
    max_step: float = 0.2
    step: str = "log"  # "linear": the closed form applied to R and tau themselves (kept for the benchmark)

    # ---- the rule --------------------------------------------------------------------------
    def transfer(self, x, r, tau):
        """Rate of a LIF neuron with input x (the model SpiKL-IP is derived on)."""
        return 1.0 / (self.t_ref + tau * np.log1p(self.vth / (r * x - self.vth)))

    def loss(self, x, r, tau, h: float = 1e-6):
        dydx = (self.transfer(x + h, r, tau) - self.transfer(x - h, r, tau)) / (2 * h)
        return -np.log(dydx) + self.transfer(x, r, tau) / self.target_rate

    def updates(self, y, r, tau):
        """Closed-form (dR, dtau) = -eta * grad L at the input that produces rate ``y``."""
        mu, vth, tref = self.target_rate, self.vth, self.t_ref
        big_x = vth / np.expm1((1.0 / y - tref) / tau)
        d_r = self.eta * (2 * y * tau * vth - big_x - vth - tau * vth * y**2 / mu) / (r * big_x)
        d_tau = self.eta * (2 * tref * y - 1 - (tref * y**2 - y) / mu) / tau
        return d_r, d_tau

    # ---- applied to a layer -------------------------------------------------------------------
    @torch.no_grad()
    def apply(self, gain: torch.Tensor, dv: torch.Tensor, rate: torch.Tensor) -> dict[str, float]:
        """Update ``gain`` and ``dv`` in place from each neuron's measured ``rate`` (spikes/step)."""
        y = rate.double().clamp(max=0.95 / self.t_ref).cpu().numpy()
        tau = 1.0 / dv.double().cpu().numpy()
        r = gain.double().cpu().numpy() * tau
        silent = y <= SILENT_RATE
        # the step is taken in log R and log tau: d(ln R) = R dR (dR = -eta dL/dR, the closed form),
        # so a neuron's relative change does not depend on its R (in R itself, dR / R ~ 1 / R^2:
        # at the gains our layers have, eta = 0.05 moved R by ~0.1 % per update, i.e. not at all)
        log_r, log_tau = np.zeros_like(r), np.zeros_like(tau)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            d_r, d_tau = self.updates(y[~silent], r[~silent], tau[~silent])
            if self.step == "linear":  # R + dR = R exp(ln(1 + dR / R))
                log_r[~silent], log_tau[~silent] = np.log1p(d_r / r[~silent]), np.log1p(d_tau / tau[~silent])
            else:
                log_r[~silent], log_tau[~silent] = r[~silent] * d_r, tau[~silent] * d_tau
        log_r[silent], log_tau[silent] = np.log1p(self.revive), np.log1p(-self.revive)
        cap = np.log1p(self.max_step)
        log_r = np.clip(np.nan_to_num(log_r), -cap, cap)
        log_tau = np.clip(np.nan_to_num(log_tau), -cap, cap)
        tau_new = np.clip(tau * np.exp(log_tau), 1.0 / self.dv_range[1], 1.0 / self.dv_range[0])
        gain_new = np.clip(r * np.exp(log_r) / tau_new, *self.gain_range)
        gain.copy_(torch.from_numpy(gain_new).to(gain))
        dv.copy_(torch.from_numpy(1.0 / tau_new).to(dv))
        return {"silent": int(silent.sum()), "mean_rate": float(y.mean())}


def from_config(ip_cfg) -> SpiKLIP:
    """The rule with a config's ``search.ip`` knobs."""
    return SpiKLIP(
        target_rate=ip_cfg.target_rate,
        eta=ip_cfg.eta,
        gain_range=tuple(ip_cfg.gain_range),
        dv_range=tuple(ip_cfg.dv_range),
    )


def rate_kl(rates: np.ndarray, mu: float, bins: int = KL_BINS) -> float:
    """KL(empirical || exponential of mean mu) of firing rates in [0, 1], on a fixed histogram."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    p = np.histogram(np.clip(rates, 0, 1), edges)[0].astype(float) + 1e-6
    p /= p.sum()
    q = np.exp(-edges[:-1] / mu) - np.exp(-edges[1:] / mu)
    q = q / q.sum() + 1e-12
    return float((p * np.log(p / q)).sum())


@torch.no_grad()
def run_ip(model, batches, ip: SpiKLIP, device: torch.device) -> dict[str, Any]:
    """HRMAS step 2: weights and architecture frozen, adapt every recurrent layer's neurons over a
    window of input batches (one update per batch, from each neuron's mean rate on it)."""
    from neuromotif.search import distributed

    group = distributed.current()
    model.eval()
    # the first hidden layer's rate and KL on the window's first and last batch; None until measured
    stats: dict[str, Any] = {"kl_before": None, "kl_after": None, "rate_before": None, "rate_after": None, "silent": 0}
    for k, batch in enumerate(batches):
        parts = batch if isinstance(batch, (list, tuple)) else [batch]
        traces = []
        for x in parts:  # micro-batches (see ``distributed``): run them all before any neuron changes
            x = torch.as_tensor(x, dtype=torch.float32, device=device)
            out = model(x, record=True) if len(x) else None
            traces.append(
                [
                    out["trace"][i]["spikes"].mean(1) if out is not None else x.new_zeros(0, layer.n)
                    for i, layer in enumerate(model.layers)
                ]
            )  # [B, n] per-sample rates per layer
        for i, layer in enumerate(model.layers):
            rates = torch.cat([t[i] for t in traces])
            # the mean rate over every rank's micro-batches, summed in micro-batch order
            summed = torch.cat([traces[0][i].sum(0), traces[0][i].new_tensor([len(traces[0][i])])])
            for t in traces[1:]:
                summed = summed + torch.cat([t[i].sum(0), t[i].new_tensor([len(t[i])])])
            summed = group.sum(summed)
            if summed[-1] == 0:
                continue
            if len(rates) and k == 0 and stats["kl_before"] is None:  # the first layer, first batch
                stats["kl_before"] = rate_kl(rates.flatten().cpu().numpy(), ip.target_rate)
                stats["rate_before"] = float(rates.mean())
            s = ip.apply(layer.gain, layer.dv, summed[:-1] / summed[-1])
            stats["silent"] += s["silent"]
            if len(rates) and i == 0:  # the first layer, last batch of the window
                stats["kl_after"] = rate_kl(rates.flatten().cpu().numpy(), ip.target_rate)
                stats["rate_after"] = float(rates.mean())
    return stats
