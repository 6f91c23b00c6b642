"""Design-rule check: does every core, and the whole mapping, fit the chip?

Each rule that fails yields a ``DesignRuleError`` saying what, where, by how much, and what
to change. The partitioner uses the same rules to decide what fits, so a mapping it
produces passes this check by construction; ``check_mapping`` verifies any mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuromotif.hw_models.chip import ChipSpec
from neuromotif.hw_models.errors import DesignRuleError
from neuromotif.hw_models.netlist import Netlist
from neuromotif.hw_models.resources import CoreSlice, CoreUsage


@dataclass(frozen=True)
class Rule:
    name: str
    usage_field: str
    limit_field: str
    fix: str
    unit: str


CORE_RULES = (
    Rule(
        "compartments per core",
        "compartments",
        "max_compartments",
        "use motifs of at most {allowed:g} neurons, or a chip with larger cores",
        "compartments",
    ),
    Rule(
        "synapse memory per core",
        "synapse_bits",
        "synapse_memory_bits",
        "reduce the fan-in of '{pop}' (fewer or sparser inputs, e.g. data.downsample), fewer weight bits, "
        "or smaller motifs",
        "bits",
    ),
    Rule(
        "input axons per core",
        "input_axons",
        "max_input_axons",
        "reduce the fan-in of '{pop}': fewer presynaptic neurons (e.g. data.downsample) or a sparser projection",
        "input axons",
    ),
    Rule(
        "output axons per core",
        "output_axons",
        "max_output_axons",
        "reduce the fan-out of '{pop}': its neurons reach too many cores",
        "output axons",
    ),
    Rule(
        "compartment profiles per core",
        "compartment_profiles",
        "compartment_profiles",
        "cluster the neuron decays of '{pop}' into at most {allowed:g} profiles per core",
        "profiles",
    ),
    Rule(
        "threshold profiles per core",
        "threshold_profiles",
        "threshold_profiles",
        "use at most {allowed:g} distinct thresholds per core in '{pop}'",
        "profiles",
    ),
    Rule(
        "shared memory per core",
        "shared_bits",
        "shared_memory_bits",
        "reduce the fan-in of '{pop}' (fewer or sparser inputs), fewer weight bits, or smaller motifs",
        "bits",
    ),
)


def core_violations(
    usage: CoreUsage, chip: ChipSpec, core: CoreSlice, where: str | None = None
) -> list[DesignRuleError]:
    """Every core rule ``usage`` breaks (empty when the core fits)."""
    found = []
    for rule in CORE_RULES:
        allowed = getattr(chip.core, rule.limit_field)
        needed = getattr(usage, rule.usage_field)
        if allowed is not None and needed > allowed:
            place = where or f"core holding {core.population}[{core.start}:{core.stop}]"
            found.append(
                DesignRuleError(
                    rule.name, place, needed, allowed, rule.fix.format(pop=core.population, allowed=allowed), rule.unit
                )
            )
    return found


def check_netlist(net: Netlist, chip: ChipSpec) -> None:
    """Rules that need no partition: weight widths the chip can store."""
    for proj in net.projections:
        if proj.weight_bits is not None and proj.weight_bits > chip.numeric.weight_bits:
            raise DesignRuleError(
                "weight bits",
                f"projection {proj.name}",
                proj.weight_bits,
                chip.numeric.weight_bits,
                f"quantize to at most {chip.numeric.weight_bits}-bit weights",
                "bits per weight",
            )


def check_chips(n_cores: int, chip: ChipSpec) -> None:
    chips = -(-n_cores // chip.cores_per_chip)
    if chips > chip.max_chips:
        raise DesignRuleError(
            "chips per system",
            f"the network ({n_cores:,} cores)",
            chips,
            chip.max_chips,
            "use fewer or smaller layers, or sparser / fewer-bit projections",
            "chips",
        )


def check_mapping(net: Netlist, cores: list[CoreSlice], usage: list[CoreUsage], chip: ChipSpec) -> None:
    """Raise the first violation of any rule (with a count of the others) for a full mapping."""
    check_netlist(net, chip)
    check_chips(len(cores), chip)
    covered = {p.name: 0 for p in net.neuron_populations}
    errors = []
    for core, use in zip(cores, usage, strict=True):
        errors += core_violations(use, chip, core)
        covered[core.population] += core.size
    for pop in net.neuron_populations:
        if covered[pop.name] != pop.size:
            raise DesignRuleError(
                "every neuron placed once",
                f"population {pop.name}",
                covered[pop.name],
                pop.size,
                "this is a mapper bug: please report it",
                "neurons",
            )
    if errors:
        first = errors[0]
        if len(errors) > 1:
            first.args = (f"{first.args[0]} (and {len(errors) - 1} more violations)",)
        raise first
