"""Errors of the hardware models. All are ``ValueError``s caused by the user's input or network."""

from __future__ import annotations


class HardwareModelError(ValueError):
    """Base class: the CLI prints these as one line with exit code 2."""


class ChipSpecError(HardwareModelError):
    """A chip YAML file is missing, malformed, or has a bad field."""


class DesignRuleError(HardwareModelError):
    """The network cannot be mapped onto the chip. Says what, where, by how much, and what to change."""

    def __init__(self, rule: str, where: str, needed: float, allowed: float, fix: str, unit: str = "") -> None:
        self.rule, self.where, self.needed, self.allowed, self.fix, self.unit = rule, where, needed, allowed, fix, unit
        super().__init__(
            f"design rule '{rule}' violated: {where} needs {amount(needed, unit)}; "
            f"allowed {amount(allowed, unit)}: {fix}"
        )


def amount(value: float, unit: str) -> str:
    """``94.4 M bits``, ``1,300 compartments``: a number with its unit, large bit counts scaled."""
    if unit == "bits" and abs(value) >= 1e4:
        for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= scale:
                return f"{value / scale:.3g} {prefix} bits"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"
    return f"{text} {unit}".rstrip()
