"""Every generated README block equals what its committed result file says (issue 28): a number
changed in the README by hand, or a result file rerun without regenerating the README, fails."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import readme_blocks  # noqa: E402


def test_every_results_block_matches_its_source_file():
    text = (ROOT / "README.md").read_text()
    found = readme_blocks.blocks(text)
    assert set(found) == set(readme_blocks.RENDERERS), "a renderer without a README block, or the reverse"
    assert readme_blocks.stale(text) == [], "run: python benchmarks/readme_blocks.py"


def test_a_number_edited_by_hand_is_caught():
    text = (ROOT / "README.md").read_text()
    body = readme_blocks.blocks(text)["quickstart-seeds"]
    digit = next(i for i, c in enumerate(body) if c.isdigit() and i > body.index("|---"))
    edited = body[:digit] + str((int(body[digit]) + 1) % 10) + body[digit + 1 :]
    assert readme_blocks.stale(text.replace(body, edited)) == ["quickstart-seeds"]


def test_every_source_records_its_provenance():
    for name in (
        "quickstart_seeds",
        "bench_search_stability",
        "bench_ip",
        "bench_activity",
        "bench_mapping",
        "bench_energy_validation",
        "bench_fronts",
    ):
        p = readme_blocks.load(name)["provenance"]
        assert {"commit", "dirty", "machine", "versions", "date", "command"} <= set(p), name
