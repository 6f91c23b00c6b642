"""report.html: self-contained, complete, and rendered by a real browser with every image loaded;
the figures' ticks count in whole numbers where the axis counts things."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
from matplotlib.figure import Figure

from neuromotif.cli import main
from tests.paths import QUICKSTART

TINY = [
    "data.max_samples=64",
    "model.hidden=[16]",
    "search.enabled=true",
    "search.motif_sizes=[4, 8]",
    "search.epochs=3",
    "search.ip.window=1",
    "train.epochs=1",
    "train.batch_size=32",
    "simulate.lava_samples=0",
    "simulate.divergence_samples=4",
    "compile.chip=loihi1",
]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "run"
    sets = [a for s in TINY for a in ("--set", s)]
    assert main(["run", QUICKSTART, "--out", str(out), "-q", *sets]) == 0
    return out


def test_report_html_is_self_contained_and_complete(run_dir, capsys):
    assert main(["report", str(run_dir), "--open"]) == 0
    assert capsys.readouterr().out.strip().endswith(str((run_dir / "report.html").resolve()))
    page = (run_dir / "report.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", page)  # nothing fetched from anywhere
    assert not re.search(r"""<img[^>]+src=["'](?!data:image/png;base64,)""", page)  # every image embedded
    for section in (
        "Accuracy at each precision",
        "layer by layer",
        "Energy and latency",
        "design-rule headroom",
        "Quantization",
        "Search (HRMAS)",
        "Reproduce",
    ):
        assert section in page, section
    assert page.count("<img") == 8  # network, accuracy, energy, utilisation, placement, raster, two search plots
    assert "report.html" in (run_dir / "report.md").read_text()


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no headless Chromium here (Debian: apt-get install chromium; make setup installs it when it can)",
)
def test_report_renders_in_a_real_browser_with_every_image(run_dir, tmp_path):
    uri = (run_dir / "report.html").resolve().as_uri()
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=5000"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", uri], capture_output=True, text=True, timeout=120).stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    loaded, total = (int(v) for v in re.search(r'data-images-loaded="(\d+)/(\d+)"', body).groups())
    assert total == 8 and loaded == total, body  # no broken image
    height = int(re.search(r'data-page-height="(\d+)"', body).group(1))
    assert 2000 < height < 40000  # a sane page: neither collapsed nor blown up
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *flags, "--window-size=1200,1600", f"--screenshot={shot}", uri], capture_output=True, timeout=120
    )
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[:2] == (1600, 1200) and pixels[..., :3].std() > 0.05  # drawn, not blank


def _ticks(ax, axis: str) -> np.ndarray:
    ax.figure.canvas.draw()
    getter = ax.get_xticks if axis == "x" else ax.get_yticks
    lo, hi = ax.get_xlim() if axis == "x" else ax.get_ylim()
    return np.array([t for t in getter() if min(lo, hi) <= t <= max(lo, hi)])


def test_counting_axes_get_whole_number_ticks():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from neuromotif.hw_models.plots import integer_ticks

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot([1, 2, 3], [0.1, 0.5, 0.4])  # three search iterations: matplotlib alone would tick 1.5 and 2.5
    integer_ticks(ax.xaxis)
    ticks = _ticks(ax, "x")
    assert len(ticks) >= 2 and np.array_equal(ticks, np.round(ticks))


def test_utilisation_bars_are_centred_on_integer_core_ticks():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.mapper import map_network
    from neuromotif.hw_models.plots import utilisation_figure
    from neuromotif.hw_models.synthetic_netlists import scml_net

    mapping = map_network(scml_net(512, 16, inputs=64), load_chip("loihi1"))
    fig = utilisation_figure(mapping)
    FigureCanvasAgg(fig)
    ax = fig.axes[0]
    ticks = _ticks(ax, "x")
    assert np.array_equal(ticks, np.round(ticks)) and ticks.min() >= 0
    groups = sorted({round(b.get_x() + b.get_width() / 2) for b in ax.patches})
    for core in groups:  # every group of bars is centred on its core's index
        xs = [b.get_x() + b.get_width() / 2 for b in ax.patches if round(b.get_x() + b.get_width() / 2) == core]
        assert abs(np.mean(xs) - core) < 1e-9
    assert groups == list(range(len(mapping.usage)))
    legend = ax.get_legend()
    assert legend is not None
    fig.canvas.draw()
    box = legend.get_window_extent()
    assert box.x0 >= ax.get_window_extent().x1 - 1  # the legend sits beside the axes, over no bar


@pytest.mark.parametrize("chips_wanted,overview", [(3, False), (12, True)])
def test_placement_shows_every_chip_or_an_overview(chips_wanted, overview):
    from neuromotif.hw_models.mapper import map_network
    from neuromotif.hw_models.plots import placement_figure
    from neuromotif.hw_models.synthetic_netlists import scml_net
    from tests.hw_models.chips import tiny_chip

    chip = tiny_chip(mesh=(2, 2, 1), max_compartments=64, max_chips=64)  # 4 cores of 64 neurons per chip
    net = scml_net(64 * 4 * chips_wanted - 64, 16, inputs=8, outputs=0)
    mapping = map_network(net, chip)
    assert mapping.placement.n_chips == chips_wanted
    fig = placement_figure(net, mapping)
    titles = [ax.get_title() for ax in fig.axes]
    if overview:
        assert any(f"{chips_wanted} chips" in t for t in titles)
    else:
        assert [t.split(":")[0] for t in titles if t.startswith("chip")] == [f"chip {c}" for c in range(chips_wanted)]


def test_a_pareto_front_in_the_run_directory_shows_in_the_page(run_dir):
    import json

    points = [
        {"lambda_energy": 0.0, "fixed_accuracy": 0.95, "energy_J": 5e-5, "non_dominated": True},
        {"lambda_energy": 1.0, "fixed_accuracy": 0.93, "energy_J": 2e-5, "non_dominated": True},
    ]
    (run_dir / "pareto.json").write_text(json.dumps({"points": points}))
    try:
        assert main(["report", str(run_dir), "-q"]) == 0
        page = (run_dir / "report.html").read_text()
        assert "Pareto front" in page and "lambda_energy" in page and "0.93" in page
    finally:
        (run_dir / "pareto.json").unlink()
