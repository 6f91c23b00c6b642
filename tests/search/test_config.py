"""Config: defaults, overrides, round trip through the saved YAML, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from neuromotif.config import Config, load_config, save_config, validate
from neuromotif.core.errors import InputError

CONFIGS = sorted((Path(__file__).parents[2] / "configs").glob("*.yaml"))


def test_empty_config_is_the_quickstart_default():
    cfg = validate({})
    assert cfg.data.name == "digits-saccade" and cfg.model.kind == "scml" and cfg.seed == 0


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_are_valid(path):
    load_config(path)


def test_saved_config_round_trips(tmp_path):
    cfg = load_config(None, ["train.epochs=3", "model.hidden=[64, 32]", "model.motif_size=4", "seed=7"])
    save_config(cfg, tmp_path / "config.yaml")
    again = load_config(tmp_path / "config.yaml")
    assert again == cfg and again.model.hidden == [64, 32] and again.seed == 7
    saved = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert saved["train"]["batch_size"] == cfg.train.batch_size  # defaults are written out


def test_override_wins_over_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  epochs: 9\n")
    assert load_config(path, ["train.epochs=2"]).train.epochs == 2


@pytest.mark.parametrize(
    "raw,expected",
    [
        ({"data": {"nmae": "shd"}}, "unknown key 'data.nmae': did you mean 'data.name'?"),
        ({"trian": {}}, "unknown key 'trian': did you mean 'train'?"),
        ({"search": {"ip": {"targte_rate": 0.1}}}, "did you mean 'search.ip.target_rate'?"),
        ({"model": {"zzz": 1}}, "valid keys here: arch, hidden, kind, motif_size, neuron"),
        ({"model": {"hidden": [100], "motif_size": 8}}, "hidden[0]=100 is not a multiple of motif_size=8"),
        ({"train": {"epochs": 0}}, "train.epochs: Input should be greater than 0 (got 0)"),
        ({"data": {"name": "mnist"}}, "data.name: Input should be"),
    ],
)
def test_bad_values_name_the_key(raw, expected):
    with pytest.raises(InputError) as err:
        validate(raw, "my.yaml")
    assert expected in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("my.yaml: ")


def test_config_model_is_frozen_against_typos_in_code():
    cfg = Config()
    with pytest.raises(ValueError):
        cfg.train.epochs = -3
