"""Every README number has a source (issue 28): a generated block equals what its committed result
file says, and every measured number in the prose around the blocks is found in a result file its
paragraph names (or is listed as no measurement, with why). A number changed by hand, a result file
rerun without updating the README, or a new number without a source fails."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import readme_blocks  # noqa: E402
import readme_numbers  # noqa: E402


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
        "bench_test_suite",
    ):
        p = readme_blocks.load(name)["provenance"]
        assert {"commit", "dirty", "machine", "versions", "date", "command"} <= set(p), name


def test_every_number_in_the_prose_has_a_source():
    text = (ROOT / "README.md").read_text()
    assert readme_numbers.unsourced(text) == [], "give the number a source (see benchmarks/readme_numbers.py)"
    assert readme_numbers.unused_exemptions(text) == [], "NOT_MEASURED lists text the README no longer has"


def test_a_prose_number_without_a_source_or_edited_is_caught():
    text = (ROOT / "README.md").read_text()
    # a new measured claim with no result file named near it
    added = text.replace("## Honest limits\n", "## Honest limits\n\nThe backend runs 4.2× faster on Tuesdays.\n\n", 1)
    assert any("4.2×" in p for p in readme_numbers.unsourced(added))
    # a sourced number edited by hand: the quickstart's headline energy (quickstart.json: 11.696 µJ)
    sentence = "90 % of the 11.70 µJ is static power"
    assert sentence in text
    edited = text.replace(sentence, sentence.replace("11.70", "11.80"))
    assert any("11.80 µJ" in p for p in readme_numbers.unsourced(edited))
    # a percentage stored as a fraction, and a figure stored in SI units, still match
    number = readme_numbers.result_numbers("costs 871 µJ and agrees on 96.7 % of samples")
    assert readme_numbers.matches(number[0], [0.0008714593811955154])
    assert readme_numbers.matches(number[1], [0.9665738161559888])
    assert not readme_numbers.matches(number[1], [0.9685])


def test_versions_dimensions_and_targets_are_not_results():
    text = "Python 3.11 with torch 2.13.0 on an 8×4 mesh, 8-bit weights, target ≥ 5× and ≥ 98 %"
    assert readme_numbers.result_numbers(text) == []


def test_a_source_does_not_reach_past_a_heading():
    text = "The quickstart (`benchmarks/results/quickstart.json`) draws 11.70 µJ.\n\n## Next\n\nAgain 11.70 µJ.\n"
    found = readme_numbers.unsourced(text)
    assert len(found) == 1 and "Again" in found[0]
