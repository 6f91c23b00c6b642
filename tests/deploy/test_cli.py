"""The CLI: bad input gives exit code 2 and one line on stderr; good input works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from neuromotif.cli import main

REPO = Path(__file__).parents[2]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def write(tmp_path):
    def _write(text: str | bytes, name: str = "c.yaml") -> str:
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return str(path)

    return _write


BAD_CONFIGS = {
    "unknown key": ("data:\n  nmae: shd\n", "did you mean 'data.name'"),
    "mistyped section": ("trian:\n  epochs: 3\n", "did you mean 'train'"),
    "unknown dataset": ("data:\n  name: mnist\n", "data.name"),
    "negative epochs": ("train:\n  epochs: -1\n", "train.epochs"),
    "layer not divisible by motif": ("model:\n  hidden: [100]\n", "not a multiple of motif_size"),
    "yaml syntax": ("data: [1, 2\n", "not valid YAML at line"),
    "top-level list": ("- 1\n- 2\n", "must be a mapping"),
    "binary file": (b"\x89PNG\xff\xfe\x00", "not a text file"),
    "wrong type": ("seed: abc\n", "seed"),
    "dt for digits": ("data:\n  dt_ms: 5\n", "data.dt_ms does not apply to digits-saccade"),
    "downsample for shd": ("data:\n  name: shd\n  root: /\n  downsample: 2\n", "data.downsample applies"),
    "local dataset without root": ("data:\n  name: nmnist\n", "set data.root"),
    "unknown chip": ("compile:\n  chip: loihi9\n", "unknown chip 'loihi9'"),
    "unknown cost table": ("report:\n  cost_table: cheap\n", "no cost table 'cheap'"),
    "range reversed": ("search:\n  ip:\n    gain_range: [4, 1]\n", "gain_range"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_exit_2_one_line(capsys, write, monkeypatch, case):
    monkeypatch.delenv("NEUROMOTIF_DATA", raising=False)
    text, expected = BAD_CONFIGS[case]
    code, out, err = run(capsys, "validate", write(text))
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("neuromotif: error: ") and expected in err
    assert "Traceback" not in err


BAD_ARGS = {
    "missing config file": (["validate", "/nonexistent/x.yaml"], "config file not found"),
    "config is a folder": (["validate", "{tmp}"], "is a folder"),
    "unknown verb": (["bogus"], "No such command 'bogus'"),
    "unknown option": (["validate", "{cfg}", "--frobnicate"], "No such option"),
    "missing argument": (["validate"], "Missing argument 'CONFIG'"),
    "--set without =": (["validate", "{cfg}", "--set", "train.epochs"], "expected section.key=value"),
    "--set bad yaml": (["validate", "{cfg}", "--set", "model.hidden=[1"], "not valid YAML"),
    "--set unknown key": (["validate", "{cfg}", "--set", "train.epohcs=3"], "did you mean 'train.epochs'"),
    "--set into a value": (["validate", "{cfg}", "--set", "seed.x=1"], "'seed' is not a section"),
    "data root missing": (
        ["validate", "{cfg}", "--set", "data.name=shd", "--set", "data.root=/nonexistent"],
        "does not exist",
    ),
    "dataset files missing": (
        ["validate", "{cfg}", "--set", "data.name=shd", "--data-root", "{tmp}"],
        "SHD/shd_train.h5",
    ),
    "data-root is a file": (["datasets", "--data-root", "{cfg}"], "is a file"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGS))
def test_bad_arguments_exit_2_one_line(capsys, write, tmp_path, case):
    argv, expected = BAD_ARGS[case]
    cfg = write("seed: 1\n")
    code, out, err = run(capsys, *[a.format(cfg=cfg, tmp=tmp_path) for a in argv])
    assert code == 2, err
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err


def test_validate_ok_and_print_round_trips(capsys, write):
    path = write("train:\n  epochs: 3\n")
    code, out, _ = run(capsys, "validate", path)
    assert code == 0 and "is valid" in out
    code, out, _ = run(capsys, "validate", path, "--print", "--set", "seed=5")
    parsed = yaml.safe_load(out)
    assert code == 0 and parsed["train"]["epochs"] == 3 and parsed["seed"] == 5
    assert parsed["train"]["batch_size"] == 64  # defaults filled in


def test_datasets_lists_everything(capsys):
    code, out, _ = run(capsys, "datasets")
    assert code == 0
    for name in ("digits-saccade", "letters-tts", "nmnist", "dvs-gesture", "shd", "ntidigits", "ti46-alpha"):
        assert name in out


def test_internal_error_is_exit_1_one_line(capsys, monkeypatch, write):
    from neuromotif.search import data

    monkeypatch.setattr(data, "check_available", lambda cfg: 1 / 0)
    code, _, err = run(capsys, "validate", write("seed: 1\n"))
    assert code == 1 and err.count("\n") == 1 and "internal error: ZeroDivisionError" in err


def test_console_script_entry_point(tmp_path):
    exe = Path(sys.executable).with_name("neuromotif")
    assert exe.exists(), "the neuromotif console script is missing: run `make setup`"
    ok = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "validate" in ok.stdout
    bad = subprocess.run(
        [str(exe), "validate", str(tmp_path / "none.yaml")], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
