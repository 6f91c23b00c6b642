# neuromotif: one-command setup, tests, benchmarks.
# `make setup` is idempotent: a second run only checks a stamp file (seconds).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.neuromotif-setup-stamp
PIP    := $(BIN)/python -m pip -q --disable-pip-version-check

.PHONY: setup demo test test-fast lint bench results peers ablation hwnas clean letters-tts

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "[setup] torch==2.13.0 (CPU wheel) first, so nothing pulls CUDA builds"
	$(PIP) install torch==2.13.0
	@echo "[setup] neuromotif (editable, dev extras)"
	$(PIP) install -e ".[dev]"
	@echo "[setup] lava-nc 0.10.0 (declares Python<3.11; deploy/lava_compat.py fixes it at import time)"
	$(PIP) install --no-deps --ignore-requires-python lava-nc==0.10.0
	$(PIP) install "numpy<2" scipy "networkx<=2.8.7" asteval scikit-learn
	@# headless Chromium renders report.html in one test; best effort (root + apt, ~30 s), else that test skips
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		echo "[setup] chromium (Debian) for the report rendering test" && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1; } || \
		echo "[setup] chromium not installed: the report rendering test will skip"
	@touch $(STAMP)
	@echo "[setup] done: $(BIN)/neuromotif --help"

# The main job on the embedded default: search -> train -> compile -> simulate (CPU + Lava) -> report.
demo: setup
	$(BIN)/neuromotif run configs/quickstart.yaml --out runs/quickstart
	@echo "report: runs/quickstart/report.md"

# Full suite, slow tests included (CI runs this; budget < 15 min on 2 cores). The peers are test
# dependencies: NIR round trips run through snnTorch and Norse. One pytest worker per core
# (pytest-xdist), whole test files per worker so module fixtures are built once.
PYTEST := $(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder
test: setup peers lint
	$(PYTEST) -m "slow or not slow"

# Fast inner-loop path for developers: everything not marked slow.
test-fast: setup lint
	$(PYTEST)

# Linter, formatter and type check (pinned in pyproject's dev extras, configured there); ~20 s.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Peer libraries for the training benchmark, pinned, without their dependencies: snnTorch and
# Norse would otherwise pull another torch (Norse through torchvision); Norse ships as an sdist.
PEERS_STAMP := $(VENV)/.neuromotif-peers-stamp
peers: $(PEERS_STAMP)

$(PEERS_STAMP): $(STAMP)
	$(PIP) install --no-deps snntorch==1.0.0 nirtorch==2.6
	@# lava-dl 0.6.0 declares Python<3.11 and ships a top-level `tests` package: kept in its own folder,
	@# appended to sys.path by tests/deploy/test_netx.py only (its netx needs no slayer there).
	$(PIP) install --no-deps --ignore-requires-python --target $(VENV)/lava-dl lava-dl==0.6.0
	@# brian2-loihi: a third, independent Loihi emulator for the tests (numpy code generation, no compiler)
	$(PIP) install "brian2==2.9.0" "brian2-loihi==0.5.2" "numpy<2"
	@# SANA-FE (GPL-3.0, optional extra): the cross-check of our cost and timing models
	$(PIP) install "sanafe==2.2.9"
	$(PIP) install "setuptools_scm>=8"  # Norse's sdist takes its version from it (else it builds as 0.0.0)
	SETUPTOOLS_SCM_PRETEND_VERSION=1.1.0 $(PIP) install --no-deps --no-build-isolation norse==1.1.0
	@touch $(PEERS_STAMP)

bench: setup peers
	@mkdir -p benchmarks/results
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b; done
	$(BIN)/python benchmarks/summary.py

# README tables rendered from benchmarks/results, then every other README number checked for a source.
results: setup
	$(BIN)/python benchmarks/readme_blocks.py
	$(BIN)/python benchmarks/readme_numbers.py

# HRMAS vs its ablations on letters-tts, 3 seeds (~1 h on 2 cores); table in benchmarks/results/ablation/.
ablation: setup
	$(BIN)/python benchmarks/hrmas_ablation.py

# The chip-aware search judged as a HW-NAS (issue 30): 7 methods x 5 seeds x 3 networks on digits-order,
# through Ray two at a time; many hours on 2 cores, resumable (rerun to continue).
hwnas: setup
	$(BIN)/python benchmarks/hwnas.py

# Regenerate the shipped synthetic-speech spikes (needs `apt-get install espeak-ng`).
letters-tts: setup
	$(BIN)/python -m neuromotif.search.data.letters_tts_generate

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
