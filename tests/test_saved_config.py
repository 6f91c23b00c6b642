"""The config a model.pt or bundle recorded is read through the schema, like any config."""

from __future__ import annotations

import pytest

from neuromotif.config import saved_config
from neuromotif.core.errors import InputError
from neuromotif.deploy.quantize import DEFAULT_MAX_PROFILES


def test_recorded_config_gets_todays_defaults_and_a_data_root(tmp_path):
    cfg = saved_config("compile: {chip: loihi1}\n", "model.pt config", data_root=tmp_path)
    assert cfg.compile.chip == "loihi1" and cfg.compile.max_profiles == DEFAULT_MAX_PROFILES
    assert cfg.data.root == tmp_path and saved_config(None, "x").compile.target == "loihi"


@pytest.mark.parametrize(
    "text,message",
    [("data: [", "not readable YAML"), ("- 1\n", "not a mapping"), ("compile: {bogus: 1}\n", "compile.bogus")],
)
def test_a_damaged_recorded_config_is_one_line_naming_its_source(text, message):
    with pytest.raises(InputError, match=message) as exc:
        saved_config(text, "run/model.pt config")
    assert str(exc.value).startswith("run/model.pt config") and "\n" not in str(exc.value)
