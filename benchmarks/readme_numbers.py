"""Every measured number in the README's prose has a source (issue 28).

The generated blocks (``readme_blocks.py``) are checked by rendering them again; this module checks
the rest of the README, the prose around them. A *result number* is a number with a decimal point
or thousands separator, a percentage, a quantity in J, W, s, min or ×, or a count ("21 of 192");
config values such as "8-bit" or "256 neurons" are not. Each one must be either

- **sourced**: its paragraph names a result file (``benchmarks/results/NAME.json``, ``NAME.md``,
  ``bench_NAME.py``) or a chip table (``hw_models/chips/NAME.yaml``), or the paragraph or
  generated table just before it does (for a list item: also the paragraph introducing the list;
  never across a heading), and some number there equals it at the precision the README prints (a
  percentage may be a stored fraction, µJ or ms stored in J or s; a signed figure matches its
  magnitude); or
- **listed** in ``NOT_MEASURED`` with the reason it is not a measurement (a cited constant, a
  config default, a design rule, a tolerance a test asserts).

``python benchmarks/readme_numbers.py`` prints every number that is neither; ``make test`` runs
the same check (``tests/test_readme_numbers.py``). The match is by value, not by key, so a number
could match an unrelated value of its file by chance; a number edited by hand or a file rerun
without updating the prose is what it catches.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "benchmarks" / "results"

UNIT = r"(?:%|µJ|mJ|nJ|pJ|W\b|ms\b|µs\b|ns\b|s\b|min\b|×|x\b)"
NUMBER = re.compile(
    r"(?<![\w.^/-])(?:(?P<minutes>\d+) min (?P<seconds>\d+) s\b"
    r"|(?P<sign>[−+-]?)(?P<num>\d[\d,]*(?:\.\d+)?)(?P<unit>\s?" + UNIT + r")?)"
)
# A printed quantity may be stored in the file's own unit or in SI: the factors from the stored value.
SCALES = {
    "%": (1, 100),
    "µJ": (1, 1e6),
    "mJ": (1, 1e3),
    "nJ": (1, 1e9),
    "pJ": (1, 1e12),
    "ms": (1, 1e3),
    "µs": (1, 1e6, 1e3, 1e-3),
    "ns": (1, 1e9),
    "min": (1, 1 / 60),
    "s": (1, 1e-3),
}
SOURCE = re.compile(
    r"(?P<path>(?:benchmarks/results/)?[\w./-]*?(?P<stem>bench_\w+|[\w-]+)\.(?:json|md|py)"
    r"|hw_models/chips/[\w-]+\.yaml)"
)

VERSIONED = (
    r"(?:Python|torch|numpy|NumPy|lava-nc|Lava|lava-dl|brian2-loihi|nir|snnTorch|Norse|SANA-FE|nirtorch|pyarrow|pandas)"
)
# Sections whose tables hold facts of something else, not measurements, with why (their prose is
# checked like any other).
NOT_MEASURED_TABLES: dict[str, str] = {
    "## Datasets": "each dataset's size, classes and format: facts of the data (the loader tests read them)",
    "## Layout": "the file tree",
}

# Numbers in the prose that are not measurements, with why (quote: the README text around them,
# whitespace as in a paragraph joined into one line).
NOT_MEASURED: dict[str, str] = {
    "the 60 ms window": "the dataset's window: 60 bins of 1 ms (configs/quickstart.yaml)",
    "(SIGTERM, 2 s, SIGKILL)": "the session's grace period, a design constant",
    "more than 1 % of events outside the sensor": "the loaders' refusal rule",
    "2.60 needs": "a version",
    "weight steps (70 % of the training split) and architecture steps (the other 30 %)": "config default",
    "temperature annealed 1 → 0.1": "the paper's schedule, a config default",
    "about a Bonferroni bound over 1,000 choices at 5 %": "the arithmetic behind the default z = 4",
    "(Loihi 2 = Davies 2018 × 0.5, 0.05 W static per chip)": "the constants of the earlier cost table",
    "0 mismatches in 11,600 (step, neuron) entries": "the size of tests/deploy/test_brian2_loihi.py's comparison",
    "energy × 0.1 (0.05-0.2, the top from Hala Point's 6.8 pJ per synaptic op), time × 0.5 (0.05-1)": (
        "the factors behind loihi2.yaml's ranges; docs/energy.md derives them, and a test checks every Loihi 2 "
        "figure against Loihi 1 times these factors and the Hala Point bound"
    ),
    "Loihi 2: the same × 0.5, an assumption": "the factor of loihi2.yaml (an assumption, as said)",
    "The previous table (2,389 / 1,955 / 1,244×)": "a withdrawn earlier claim, quoted to say what replaced it",
    "13-16 s in wave 2": "an earlier measurement without a result file, quoted as history",
    "their 0.27 mJ per inference": "a published figure (Blouw et al. 2019)",
    '(The earlier "0.38 mJ against 0.27 mJ"': "a withdrawn earlier claim, quoted to say why it went",
    "the fully connected layer's 65,536 (256²)": "arithmetic of the architecture",
}


@dataclass(frozen=True)
class Number:
    text: str
    value: float
    decimals: int
    unit: str
    start: int


def paragraphs(readme: str) -> Iterator[str]:
    """The prose: paragraphs and list items joined into single lines, without the code fences and
    the tables of the sections in ``NOT_MEASURED_TABLES``; a generated block becomes one line
    (``BLOCK_SOURCES ...``) whose numbers (checked against its file by ``readme_blocks``) and files
    the paragraph after it may cite."""
    text = re.sub(
        r"<!-- results: [\w-]+ -->(.*?)<!-- /results -->",
        lambda m: "\n\nBLOCK_SOURCES " + " ".join(m.group(1).split()) + "\n\n",
        readme,
        flags=re.S,
    )
    text = re.sub(r"```.*?```", "\n\n", text, flags=re.S)
    skipping = False
    for block in re.split(r"\n\s*\n|\n(?=\s*[-*] |\s*\d+\. |#)", text):
        line = " ".join(block.split())
        if line.startswith("#"):
            skipping = any(line == h or line.startswith(h + " ") for h in NOT_MEASURED_TABLES)
        if line and not (skipping and line.startswith("|")):
            yield line


def result_numbers(paragraph: str) -> list[Number]:
    prose = re.sub(r"`[^`]*`", lambda m: " " * len(m.group(0)), paragraph)  # code: names, not numbers
    found = []
    for m in NUMBER.finditer(prose):
        if m["minutes"]:
            seconds = 60 * int(m["minutes"]) + int(m["seconds"])
            found.append(Number(m.group(0), float(seconds), 0, "s", m.start()))
            continue
        num, unit = m["num"].rstrip(","), (m["unit"] or "").strip()
        ranged = re.match(r"\s?[-–]\s?[\d.,]+\s?(" + UNIT + ")", prose[m.end() :])
        if not unit and ranged:
            unit = ranged[1]  # the low end of a range (0.7-1.5 %) has its high end's unit
        count = re.match(r" of (?:the )?\d", prose[m.end() :]) is not None  # "21 of 192": a count
        if not (unit or count or "." in num or re.search(r",\d{3}", num)):
            continue
        after, before = prose[m.end() :], prose[: m.start()]
        if after.startswith(("-bit", " bit")) or re.match(r"\.\d", after):
            continue  # a width or a version (2.13.0), not a measurement
        if unit == "×" and re.match(r"\s?\d", after):
            continue  # a dimension (8×8)
        if re.search(VERSIONED + r"\s?[<>=]*\s?$", before):
            continue
        if re.search(r"(?:[≥≤<>]|target|within|allows|at most|past)\s?[±]?$", before):
            continue  # a target, bound or tolerance, not a measurement
        decimals = len(num.split(".")[1]) if "." in num else 0
        found.append(Number(m.group(0), float(num.replace(",", "")), decimals, unit, m.start()))
    return found


def _leaves(data: object) -> Iterator[float]:
    if isinstance(data, bool):
        return
    if isinstance(data, int | float):
        if math.isfinite(data):
            yield float(data)
    elif isinstance(data, dict):
        for v in data.values():
            yield from _leaves(v)
    elif isinstance(data, list | tuple):
        for v in data:
            yield from _leaves(v)


_CACHE: dict[Path, list[float]] = {}


def source_values(path: Path) -> list[float]:
    """Every number a result file holds (JSON, YAML, or the numbers written in a markdown file)."""
    if path not in _CACHE:
        text = path.read_text()
        if path.suffix == ".json":
            values = list(_leaves(json.loads(text)))
        elif path.suffix == ".yaml":
            values = list(_leaves(yaml.safe_load(text)))
        else:
            values = _numbers_in(text)
        _CACHE[path] = values
    return _CACHE[path]


def _is_result(path: Path) -> bool:
    return path.suffix in (".json", ".md", ".yaml") and (
        path.resolve().is_relative_to(RESULTS) or path.resolve().parent == (ROOT / "hw_models" / "chips").resolve()
    )


def _numbers_in(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*(?:\.\d+)?(?:e-?\d+)?", text)]


def sources(paragraph: str) -> list[Path]:
    """The result files a paragraph names (a benchmark script stands for its result file)."""
    found = []
    for m in SOURCE.finditer(paragraph):
        path, stem = m["path"], m["stem"]
        if path.startswith("hw_models/"):
            candidates = [ROOT / path]
        else:
            candidates = [RESULTS / f"{stem}.{ext}" for ext in ("json", "md")] + [RESULTS / stem / f"{stem}.json"]
            candidates.append(ROOT / path)
            candidates += sorted(RESULTS.glob(f"**/{Path(path).name}"))
        found += [p for p in candidates if p.is_file() and _is_result(p) and p not in found]
    return found


def matches(number: Number, values: list[float]) -> bool:
    tolerance = 0.5 * 10.0**-number.decimals * (1 + 1e-9)
    return any(
        abs(abs(v) * scale - number.value) <= tolerance for scale in SCALES.get(number.unit, (1,)) for v in values
    )


def unsourced(readme: str) -> list[str]:
    """Every result number of the prose that has no source and is not listed as no measurement. A
    paragraph's sources are the files it names, those of the paragraph (or generated block) just
    before it, and for a list item those of the paragraph that introduces the list."""
    problems = []
    exempt = [" ".join(q.split()) for q in NOT_MEASURED]
    previous: list[Path | str] = []
    intro: list[Path | str] = []
    for para in paragraphs(readme):
        if para.startswith("#"):  # a heading: what came before is no source for what follows
            previous, intro = [], []
            continue
        own: list[Path | str] = [*sources(para)]
        if para.startswith("BLOCK_SOURCES"):
            own.append(para)  # a generated table: its own numbers are sources too
        is_item = re.match(r"[-*] |\d+\. ", para) is not None
        files = own + previous + (intro if is_item else [])
        if not is_item:
            intro = own + previous
        previous = own
        if para.startswith("BLOCK_SOURCES"):
            continue
        spans = [(m.start(), m.end()) for q in exempt for m in re.finditer(re.escape(q), para)]
        values = [v for f in files for v in (source_values(f) if isinstance(f, Path) else _numbers_in(f))]
        for n in result_numbers(para):
            if any(a <= n.start < b for a, b in spans):
                continue
            if files and matches(n, values):
                continue
            where = para[max(0, n.start - 60) : n.start + 40]
            names = sorted({f.name if isinstance(f, Path) else "the table above" for f in files})
            why = "not in " + ", ".join(names) if files else "no source named near it"
            problems.append(f"{n.text!r} ({why}): ...{where}...")
    return problems


def unused_exemptions(readme: str) -> list[str]:
    prose = "\n".join(paragraphs(readme))
    return [q for q in NOT_MEASURED if " ".join(q.split()) not in prose]


if __name__ == "__main__":
    text = README.read_text()
    problems = unsourced(text) + [f"listed but not in the README: {q!r}" for q in unused_exemptions(text)]
    print("\n".join(problems))
    print(f"{len(problems)} numbers without a source", file=sys.stderr)
    sys.exit(1 if problems else 0)
