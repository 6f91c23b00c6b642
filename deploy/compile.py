"""The compiler row: model.pt -> quantize -> map (hw_models: partition, place, check) -> bundle.

A design-rule failure stops compilation with its message (exit code 2 in the CLI).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from deploy.bundle import Bundle, Population, Projection, read_bundle, sha256, write_bundle
from deploy.quantize import quantize_model
from hw_models import load_chip
from hw_models.mapper import Mapping, map_network
from hw_models.netlist import Netlist
from hw_models.netlist import Population as HwPopulation
from hw_models.netlist import Projection as HwProjection
from search.errors import InputError

PREDICTION_RULE = "argmax of output spike counts; ties go to the lowest class index"


def to_netlist(populations: list[Population], projections: list[Projection], rate: float = 0.05) -> Netlist:
    """The bundle's network as hw_models sees it (structure only)."""
    pops = tuple(HwPopulation(p.name, p.size, group_size=p.motif_size if p.kind == "lif" else 1,
                              is_input=p.kind == "input", rate=rate,
                              compartment_profile=p.profiles if p.kind == "lif" else None)
                 for p in populations)
    projs = tuple(HwProjection(j.name, j.pre, j.post, j.weights, weight_bits=8) for j in projections)
    return Netlist(pops, projs)


def bundle_netlist(bundle: Bundle) -> Netlist:
    return to_netlist(bundle.populations, bundle.projections)


def resolve_model_path(source: Path) -> Path:
    """``compile`` accepts a model.pt or a run directory holding one."""
    source = Path(source)
    path = source / "model.pt" if source.is_dir() else source
    if not path.is_file():
        raise InputError(f"no model to compile at {source}: give a model.pt or a run directory containing one "
                         "(train one with `neuromotif train`)")
    return path


def compile_model(model_path: Path, chip_name: str | None, out: Path, max_profiles: int = 4) -> tuple[Bundle, Mapping]:
    """``chip_name`` None: the chip of the model's config (``compile.chip``)."""
    import yaml

    from search.train import load_model

    model_path = resolve_model_path(model_path)
    t0 = time.perf_counter()
    model, payload = load_model(model_path)
    if chip_name is None:
        chip_name = (yaml.safe_load(payload.get("config") or "{}") or {}).get("compile", {}).get("chip", "loihi2")
    return compile_network(model, payload, chip_name, out, max_profiles,
                           {"checkpoint": str(model_path), "sha256": sha256(model_path)}, t0)


def compile_network(model, payload: dict[str, Any], chip_name: str, out: Path, max_profiles: int = 4,
                    source: dict[str, Any] | None = None, t0: float | None = None) -> tuple[Bundle, Mapping]:
    """Quantize, map and write an in-memory ``RSNN`` (``payload``: its model.pt metadata)."""
    t0 = time.perf_counter() if t0 is None else t0
    chip = load_chip(chip_name)
    q = quantize_model(model, max_profiles=max_profiles)
    net = to_netlist(q.populations, q.projections)
    mapping = map_network(net, chip)
    neuron_core = mapping.neuron_core(net)
    data = payload.get("data", {})
    manifest: dict[str, Any] = {
        "chip": chip.name,
        "source": {**(source or {"checkpoint": None, "sha256": None}), "arch_source": model.arch.source},
        "quantization": {"weight_bits": chip.numeric.weight_bits, "max_profiles": max_profiles, **q.report},
        "ports": q.report["ports"],
        "classes": model.arch.classes,
        "timesteps": data.get("timesteps"),
        "data": data,
        "config": payload.get("config"),
        "prediction_rule": PREDICTION_RULE,
        "placement": mapping.summary(net),
        "compile_seconds": time.perf_counter() - t0,
    }
    write_bundle(out, manifest, q.populations, q.projections, neuron_core)
    return read_bundle(out), mapping


def dataset_of(bundle: Bundle, data_root: Path | None = None, seed: int | None = None):
    """The dataset the bundle's model was trained on, as its saved config describes it."""
    import yaml

    from search.config import validate
    from search.data import load_dataset

    text = bundle.manifest.get("config")
    if not text:
        raise InputError("the bundle records no training config: pass the data explicitly")
    raw = yaml.safe_load(text)
    if data_root is not None:
        raw.setdefault("data", {})["root"] = str(data_root)
    cfg = validate(raw, "bundle config")
    return load_dataset(cfg.data, cfg.seed if seed is None else seed), cfg


def spike_mismatches(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> int:
    """Number of (sample, step, neuron) spike mismatches over the populations both recorded."""
    return int(sum((a[k] != b[k]).sum() for k in a.keys() & b.keys()))
