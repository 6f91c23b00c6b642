"""The compiler row: float network -> quantize -> map (hw_models: partition, place, check) -> bundle.

Takes a ``FloatNetwork`` (from a trained model via ``neuromotif.search.export``, or from an
imported graph), so this package needs no torch. The chip's numeric format drives
quantization and is recorded in the bundle, which both backends read. A design-rule failure
stops compilation with its message (exit code 2 in the CLI).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neuromotif.deploy.bundle import Bundle, Population, Projection, read_bundle, write_bundle
from neuromotif.deploy.ir import PREDICTION_RULE, FloatNetwork
from neuromotif.deploy.overflow import predict_overflow
from neuromotif.deploy.quantize import DEFAULT_MAX_PROFILES, quantize_network
from neuromotif.hw_models import load_chip
from neuromotif.hw_models.chip import numeric_for_target, with_core_limit
from neuromotif.hw_models.mapper import Mapping, map_network
from neuromotif.hw_models.netlist import Netlist, NetPopulation, NetProjection
from neuromotif.hw_models.neurons import INPUT_KIND

PlacementPass = Callable[[Netlist, Mapping], tuple[Mapping, dict[str, Any]]]  # a mapping -> a better one, its record


def to_netlist(
    populations: list[Population], projections: list[Projection], weight_bits: int, rate: float = 0.05
) -> Netlist:
    """The bundle's network as hw_models sees it (structure only)."""
    pops = tuple(
        NetPopulation(
            p.name,
            p.size,
            motif_size=p.motif_size if p.kind != INPUT_KIND else 1,
            is_input=p.kind == INPUT_KIND,
            rate=rate,
            compartment_profile=p.profiles if p.kind != INPUT_KIND else None,
        )
        for p in populations
    )
    projs = tuple(NetProjection(j.name, j.pre, j.post, j.weights, weight_bits=weight_bits) for j in projections)
    return Netlist(pops, projs)


def bundle_netlist(bundle: Bundle) -> Netlist:
    return to_netlist(bundle.populations, bundle.projections, bundle.numeric.weight_bits)


def compile_network(
    net: FloatNetwork,
    chip_name: str,
    out: Path,
    max_profiles: int = DEFAULT_MAX_PROFILES,
    metadata: dict[str, Any] | None = None,
    neurons_per_core: int | None = None,
    target: str = "loihi",
    placement_pass: PlacementPass | None = None,
) -> tuple[Bundle, Mapping]:
    """Quantize ``net`` for ``chip_name``, map and check it, write the bundle to ``out``.

    ``metadata``: what the bundle records about where the network came from (``source``,
    ``data``, ``config``, ``timesteps``), copied into the manifest as given; ``state_ranges``
    (the u / v peaks training saw) turns into the overflow prediction ``manifest["overflow"]``.
    ``neurons_per_core``: spread populations over more cores than the chip's limits require.
    ``target``: ``netx`` restricts weight exponents to 0 so ``neuromotif export --format netx``
    can carry the bundle exactly. ``placement_pass``: changes the mapping after the mapper (e.g.
    ``hw_models.bottleneck.split_bottlenecks``); its record goes into the manifest (``placement_pass``).
    """
    t0 = time.perf_counter()
    chip = load_chip(chip_name)
    chip = dataclasses.replace(chip, numeric=numeric_for_target(chip.numeric, target))
    mapped_chip = with_core_limit(chip, neurons_per_core)
    q = quantize_network(net, chip.numeric, max_profiles=max_profiles)
    netlist = to_netlist(q.populations, q.projections, chip.numeric.weight_bits)
    mapping = map_network(netlist, mapped_chip)
    pass_record = None
    if placement_pass is not None:
        mapping, pass_record = placement_pass(netlist, mapping)
    metadata = dict(metadata or {})
    overflow = predict_overflow(metadata.pop("state_ranges", None), q.populations, chip.numeric)
    manifest: dict[str, Any] = {
        "chip": chip.name,
        "chip_spec": dataclasses.asdict(chip),  # the whole spec: a chip given as a YAML file is honoured later
        "numeric": dataclasses.asdict(chip.numeric),
        **metadata,
        "source": {"checkpoint": None, "sha256": None, **metadata.get("source", {}), "arch_source": net.source},
        "quantization": {"weight_bits": chip.numeric.weight_bits, "max_profiles": max_profiles, **q.report},
        "neurons_per_core": neurons_per_core,
        "target": target,
        "ports": q.report["ports"],
        "classes": net.population(net.output).size,
        "prediction_rule": PREDICTION_RULE,
        "overflow": overflow,
        "placement": mapping.summary(netlist),
        "placement_pass": pass_record,
        "compile_seconds": time.perf_counter() - t0,
    }
    write_bundle(out, manifest, q.populations, q.projections, mapping.neuron_core(netlist))
    return read_bundle(out), mapping
