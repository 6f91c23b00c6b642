"""The wheel installs the one ``neuromotif`` namespace and works outside the source tree.

Builds the wheel, installs it (no dependencies: those come from the test environment through a
path entry, which does not activate the editable install) into a scratch venv, and from a
directory that is not the repository runs ``neuromotif --help``, ``python -m neuromotif`` and a
tiny compile, checking that the code, the chip YAMLs and the shipped dataset come from the wheel.
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TINY_COMPILE = """
import sys
from pathlib import Path
import neuromotif, neuromotif.search.data.letters_tts as lt
from neuromotif.deploy.compile import compile_network
from neuromotif.search.arch import NeuronParams, build_arch
from neuromotif.search.export import to_float_network
from neuromotif.search.model import RSNN
site = Path(sys.argv[1]).resolve()
assert Path(neuromotif.__file__).resolve().is_relative_to(site), neuromotif.__file__
assert (Path(lt.__file__).parent / "assets" / "letters_tts.npz").is_file()
model = RSNN(build_arch("scml", [16], 4, 6, 3, NeuronParams()), seed=0)
bundle, _ = compile_network(to_float_network(model), "loihi1", Path("bundle"))
print("compiled", bundle.manifest["placement"]["cores"], "cores")
"""


def test_wheel_installs_and_runs_outside_the_repository(tmp_path):
    source, dist = tmp_path / "source", tmp_path / "dist"  # build from a copy: setuptools writes build/ beside it
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "runs", "build", "dist", "*.egg-info", "__pycache__", ".cache", "results", ".pytest_cache"
        ),
    )
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(dist.glob("neuromotif-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "neuromotif/search/scml.py" in names and "neuromotif/hw_models/chips/loihi2.yaml" in names
    assert not [n for n in names if n.split("/")[0] in ("search", "deploy", "hw_models", "tests")]  # no top-level clash

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    target_site = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (target_site / "test-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    inst = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert inst.returncode == 0, inst.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    help_ = subprocess.run(
        [str(venv / "bin" / "neuromotif"), "--help"], capture_output=True, text=True, cwd=work, timeout=120
    )
    assert help_.returncode == 0 and "compile" in help_.stdout
    module = subprocess.run(
        [str(py), "-m", "neuromotif", "--version"], capture_output=True, text=True, cwd=work, timeout=120
    )
    assert module.returncode == 0 and "neuromotif" in module.stdout
    tiny = subprocess.run(
        [str(py), "-c", TINY_COMPILE, str(target_site)], capture_output=True, text=True, cwd=work, timeout=300
    )
    assert tiny.returncode == 0 and "compiled" in tiny.stdout, tiny.stderr
    inspect = subprocess.run(
        [str(venv / "bin" / "neuromotif"), "inspect", "bundle"], capture_output=True, text=True, cwd=work, timeout=120
    )
    assert inspect.returncode == 0 and "scml0" in inspect.stdout, inspect.stderr
