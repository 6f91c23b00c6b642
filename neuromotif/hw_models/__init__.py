"""Hardware models: chip specs, resource accounting, partitioning, placement, design rules, cost.

Pure numpy / scipy (and PyYAML for the chip files); imports nothing else of neuromotif, so the
compiler, the backends and outside tools can all use it.
"""

from neuromotif.hw_models.chip import ChipSpec, list_chips, load_chip
from neuromotif.hw_models.errors import ChipSpecError, DesignRuleError, HardwareModelError

__all__ = ["ChipSpec", "load_chip", "list_chips", "ChipSpecError", "DesignRuleError", "HardwareModelError"]
