"""Chip specs load, and a malformed chip file gets a one-line error naming the field."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from neuromotif.hw_models import ChipSpecError, list_chips, load_chip
from tests.hw_models.chips import chip_dict


def test_shipped_chips_load_with_their_key_numbers():
    l1, l2 = load_chip("loihi1"), load_chip("loihi2")
    assert l1.cores_per_chip == 128 and l1.core.max_compartments == 1024
    assert l1.core.synapse_memory_bits == 128 * 1024 * 8 and l1.core.max_input_axons == 4096
    assert l1.cost_table("davies2018").synop.energy_pj == 23.6 and l1.cost_table().synop.energy_pj == 33.6
    assert l2.core.shared_memory_bits == 192 * 1024 * 8 and l2.core.max_compartments == 8192
    assert "DERIVED" in l2.cost_table().source and "No public per-operation table" in l2.cost_table().assumption


def test_loihi2_table_is_loihi1_calibrated_scaled_within_the_hala_point_bound():
    """Every Loihi 2 figure is SANA-FE's Loihi 1 figure x 0.1 (energy) and x 0.5 (time), and even
    the top of its energy range keeps a synaptic op under Hala Point's 2600 W / 380e12 ops/s."""
    l1, l2 = load_chip("loihi1").cost_table("sana_fe"), load_chip("loihi2").cost_table()
    for op in ("synop", "neuron_active", "neuron_inactive", "spike_out", "message_out", "hop_ew", "hop_ns"):
        a, b = getattr(l1, op), getattr(l2, op)
        assert b.energy_pj == pytest.approx(a.energy_pj * 0.1) and b.time_ns == pytest.approx(a.time_ns * 0.5), op
    assert l2.barrier_table_ns == {k: v * 0.5 for k, v in l1.barrier_table_ns.items()}
    assert l2.synop.energy_pj * l2.uncertainty.energy[1] <= 2600 / 380e12 * 1e12  # 6.84 pJ
    assert l2.static_w_per_chip == 0.029 * 0.5 and l1.static_w_per_chip == 0.029  # Blouw 2019 measured idle
    assert {"loihi1", "loihi2"} <= set(list_chips())


def test_barrier_interpolates_over_tiles():
    table = load_chip("loihi1").cost_table("davies2018")
    assert table.barrier_ns(1, 1) == 113.0 and table.barrier_ns(32, 1) == 465.0 and table.barrier_ns(64, 1) == 465.0
    assert table.barrier_ns(32, 3) == 465.0 + 2 * table.chip_barrier_ns


def test_user_chip_from_a_yaml_file(tmp_path, monkeypatch):
    d = chip_dict("loihi1")
    d["name"] = "mychip"
    d["core"]["max_compartments"] = 512
    (tmp_path / "mychip.yaml").write_text(yaml.safe_dump(d))
    assert load_chip(tmp_path / "mychip.yaml").core.max_compartments == 512
    monkeypatch.setenv("NEUROMOTIF_CHIPS", str(tmp_path))
    assert load_chip("mychip").name == "mychip" and "mychip" in list_chips()


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda d: d["core"].pop("max_compartments"), "missing field 'core.max_compartments'"),
        (lambda d: d["core"].update(max_compartmnets=3), "unknown field 'core.max_compartmnets'"),
        (lambda d: d["core"].update(max_compartments="many"), "field 'core.max_compartments' must be an integer"),
        (
            lambda d: d["cost_tables"]["davies2018"]["synop"].update(energy_pj="x"),
            "field 'cost_tables.davies2018.synop.energy_pj' must be a finite number",
        ),
        (
            lambda d: d["cost_tables"]["davies2018"].update(static_w_per_chip=float("inf")),
            "field 'cost_tables.davies2018.static_w_per_chip' must be a finite number",
        ),
        (
            lambda d: d["synapses"].update(list_max_synapses=0),
            "synapses: list_max_synapses = 0 is outside 1..1.04858e+06",
        ),
        (
            lambda d: d["core"].update(synapse_memory_bits=-5),
            "core: synapse_memory_bits = -5 is outside 1..1.09951e+12",
        ),
        (lambda d: d["core"].update(max_input_axons=0), "core: max_input_axons = 0 is outside 1.."),
        (lambda d: d["cost_tables"]["davies2018"].update(barrier_ns_min=-1.0), "barrier_ns_min = -1.0 is outside 0.."),
        (lambda d: d.update(default_cost_table="nope"), "default_cost_table 'nope' is not one of"),
        (lambda d: d["mesh"].update(tiles_x=0), "tiles_x, tiles_y and cores_per_tile must be >= 1"),
        (lambda d: d["mesh"].update(link_buffer_messages=0), "link_buffer_messages must be >= 1"),
        (lambda d: d["numeric"].update(weight_exp_min=9), "numeric: weight_exp_min = 9 is outside -8..0"),
        (lambda d: d["numeric"].update(weight_bits=12), "numeric: weight_bits = 12 is outside 1..9"),
        (lambda d: d["numeric"].update(u_bits=32), "numeric: u_bits = 32 is outside 24..24"),
        (
            lambda d: d["cost_tables"]["sana_fe"].pop("sources"),
            "missing field 'cost_tables.sana_fe.sources'",
        ),
        (
            lambda d: d["cost_tables"]["sana_fe"]["sources"].pop("synop"),
            "sources names no source for synop: give each one of measured, calibrated",
        ),
        (
            lambda d: d["cost_tables"]["sana_fe"]["sources"].update(synop="vibes"),
            "sources {'synop': 'vibes'} unknown",
        ),
        (
            lambda d: d["cost_tables"]["sana_fe"]["uncertainty"].update(energy=[1.1, 1.2]),
            "uncertainty.energy = [1.1, 1.2] must hold 1",
        ),
        (
            lambda d: d["cost_tables"]["sana_fe"]["uncertainty"].update(static_w_per_chip=[0.03, 0.1]),
            "static_w_per_chip = 0.029 lies outside its uncertainty range [0.03, 0.1]",
        ),
    ],
)
def test_malformed_chip_names_the_field(tmp_path, mutate, expected):
    d = chip_dict("loihi1")
    mutate(d)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d))
    with pytest.raises(ChipSpecError) as err:
        load_chip(path)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_unknown_chip_and_bad_yaml(tmp_path):
    with pytest.raises(ChipSpecError, match="unknown chip 'loihi9': choose one of .*loihi1"):
        load_chip("loihi9")
    (tmp_path / "x.yaml").write_text("a: [1,")
    with pytest.raises(ChipSpecError, match="not valid YAML"):
        load_chip(tmp_path / "x.yaml")
    with pytest.raises(ChipSpecError, match="no cost table 'nope'"):
        load_chip("loihi1").cost_table("nope")


def test_a_numeric_section_read_alone_is_refused_in_one_line():
    """A bundle manifest's or checkpoint's ``numeric`` goes through the same schema as the chip YAML."""
    from neuromotif.hw_models.chip import NumericFormat, section_from_dict

    good = dataclasses.asdict(load_chip("loihi2").numeric)
    assert section_from_dict(NumericFormat, good, "manifest numeric") == load_chip("loihi2").numeric
    for edit, why in (
        ({"weight_bits": 12}, "weight_bits = 12 is outside 1..9"),
        ({"u_bits": "24"}, "field 'NumericFormat.u_bits' must be an integer"),
        ({"extra": 1}, "unknown field 'NumericFormat.extra' (valid: weight_bits"),
    ):
        with pytest.raises(ChipSpecError) as err:
            section_from_dict(NumericFormat, {**good, **edit}, "manifest numeric")
        assert why in str(err.value) and "\n" not in str(err.value) and str(err.value).startswith("manifest numeric")


def test_a_chip_file_is_parsed_once_per_content(tmp_path):
    """load_chip caches the parsed spec on the file's bytes: the same file gives the same (frozen)
    object, and an edit, even one of the same size made within the clock's resolution, is read."""
    path = tmp_path / "mine.yaml"
    data = chip_dict()
    path.write_text(yaml.safe_dump(data))
    first = load_chip(path)
    assert load_chip(path) is first
    data["max_chips"] = data["max_chips"] + 1
    path.write_text(yaml.safe_dump(data))
    assert load_chip(path).max_chips == first.max_chips + 1
