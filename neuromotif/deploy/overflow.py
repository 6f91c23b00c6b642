"""Will the chip's fixed-width state overflow? Predicted from what the model did on training data.

Training records, in ``chip`` precision, the largest |u| (before the wrap) and |v| (before the
saturation) each population reaches, in threshold units (``search.train.record_state_ranges``).
Scaled by the compiled population's fixed units per threshold unit (64 x scale), they say
whether u passes the format's wrap point (the chip then flips its sign: the network computes
something else) or v its saturation (v is clipped). The compiler records the prediction in the
bundle (``manifest["overflow"]``) and the app layer prints each warning; the report repeats them.
"""

from __future__ import annotations

from typing import Any

from neuromotif.deploy.bundle import Population
from neuromotif.hw_models import formats
from neuromotif.hw_models.chip import NumericFormat
from neuromotif.hw_models.neurons import INPUT_KIND

U_FIX = (
    "raise model.neuron.du (a leakier synaptic current) or shrink the weights into the population "
    "(train.weight_decay, fewer inputs per neuron)"
)
V_FIX = "shrink the bias and weights into the population or raise model.neuron.dv (a leakier membrane)"


def predict_overflow(
    state_ranges: dict[str, Any] | None, populations: list[Population], fmt: NumericFormat
) -> dict[str, Any]:
    """Per LIF population: the recorded peaks in fixed units against the format's limits, and a
    one-line warning for each population whose u would wrap or v saturate."""
    if not state_ranges:
        return {
            "checked": False,
            "reason": "the model records no u / v ranges (retrain it to get them)",
            "populations": {},
            "warnings": [],
        }
    u_lim, v_lim = formats.u_limit(fmt), formats.v_limit(fmt)
    out: dict[str, Any] = {"checked": True, "samples": state_ranges.get("samples"), "populations": {}, "warnings": []}
    for pop in populations:
        seen = state_ranges.get("populations", {}).get(pop.name)
        if pop.kind == INPUT_KIND or seen is None:
            continue
        unit = formats.fixed_unit(pop.scale)
        u_peak, v_peak = seen.get("u_max_abs", 0.0) * unit, seen.get("v_max_abs", 0.0) * unit
        out["populations"][pop.name] = {"u_peak": u_peak, "u_limit": u_lim, "v_peak": v_peak, "v_limit": v_lim}
        if u_peak > u_lim:
            out["warnings"].append(
                f"population {pop.name}: u reaches {u_peak:.3g} on the training data, past the "
                f"{fmt.u_bits}-bit wrap at {u_lim:.3g} (the chip flips its sign): {U_FIX}"
            )
        if v_peak > v_lim:
            out["warnings"].append(
                f"population {pop.name}: v reaches {v_peak:.3g} on the training data, past the "
                f"{fmt.v_bits}-bit saturation at {v_lim:.3g} (the chip clips it): {V_FIX}"
            )
    return out
