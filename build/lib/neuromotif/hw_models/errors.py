"""Errors of the hardware models. All are ``ValueError``s caused by the user's input or network."""
from __future__ import annotations


class HardwareModelError(ValueError):
    """Base class: the CLI prints these as one line with exit code 2."""


class ChipSpecError(HardwareModelError):
    """A chip YAML file is missing, malformed, or has a bad field."""


class DesignRuleError(HardwareModelError):
    """The network cannot be mapped onto the chip. Says what, where, by how much, and what to change."""

    def __init__(self, rule: str, where: str, needed: float, allowed: float, fix: str) -> None:
        self.rule, self.where, self.needed, self.allowed, self.fix = rule, where, needed, allowed, fix
        super().__init__(f"design rule '{rule}' violated: {where} needs {needed:g}; allowed {allowed:g}: {fix}")
