# Bootstraps .venv by itself: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
# The oldest Python edgecnn runs on: pyproject's requires-python and ruff's target-version
# say the same (tests/tooling/test_python_version.py checks that they agree).
MIN_PYTHON := 3.11

.PHONY: demo demo-audio test test-fast lint bench clean test-pi test-mcu python-check

# An older interpreter is refused in one line, before a venv is made with it.
python-check:
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; \
	  need = tuple(int(n) for n in "$(MIN_PYTHON)".split(".")); sys.exit(None if v >= need else \
	  "$(PYTHON) %d.%d is too old: edgecnn needs Python $(MIN_PYTHON)+; set PYTHON=python$(MIN_PYTHON)" % v)'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || { $(MAKE) --no-print-directory python-check && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[all]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/edgecnn demo

# Keyword spotting: the pipeline on builtin:keywords (spoken offline by espeak-ng), then the
# held-out clips replayed through edgecnn run. Installs espeak-ng when run as root.
demo-audio: $(STAMP)
	@command -v espeak-ng >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
	  (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
	   apt-get install -y -qq --no-install-recommends espeak-ng)
	$(BIN)/edgecnn demo --audio

test: $(STAMP) lint
	$(BIN)/python -m pytest --durations=20

# The inner loop: every test but those marked slow (over ~5 s: training, pipelines, compiles),
# spread over the cores (pytest-xdist). make test stays serial: CI's timings stay comparable.
test-fast: $(STAMP) lint
	$(BIN)/python -m pytest -m "not slow" -n auto

# ruff, the layer contracts of pyproject.toml ([tool.importlinter], DESIGN.md's one rule),
# then the layout: no import loops, no module over 300 lines, no ignored imports.
lint: $(STAMP)
	$(BIN)/ruff check edgecnn tests benchmarks calibration pi mcu tools
	$(BIN)/lint-imports --no-cache
	$(BIN)/python tools/layout_check.py

# The bench extra (aeon) is installed for the benchmarks only: make test does not need it.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[all,bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/train_figures.py
	$(BIN)/python benchmarks/quantize_figures.py
	$(BIN)/python benchmarks/prune_figures.py
	$(BIN)/python benchmarks/prune_latency.py
	$(BIN)/python benchmarks/bench_overhead.py
	$(BIN)/python benchmarks/runtime_figures.py
	$(BIN)/python benchmarks/audio_runtime.py --model tests/fixtures/kws-dscnn-int8.tflite
	$(BIN)/python benchmarks/audio_frontend_graph.py
	$(BIN)/python benchmarks/mqtt_figures.py
	$(BIN)/python benchmarks/memory_bound_ops.py
	$(BIN)/python benchmarks/pipeline_figures.py
	# About an hour on 2 cores with one split per set; --seeds 3 gives mean and spread.
	$(BIN)/python benchmarks/timeseries_figures.py --seeds 1
	$(BIN)/edgecnn boards calibrate --dry-run

# The device side in an emulated Raspberry Pi OS arm64 userland (README: "Testing on a
# Raspberry Pi image"). Needs root, qemu-user-static and the registries; takes minutes.
test-pi: $(STAMP)
	bash pi/test-pi.sh

# TFLite Micro firmware on an emulated Cortex-M4 (README: "Testing on an emulated
# microcontroller"). Needs gcc-arm-none-eabi and qemu-system-arm; the first run builds the
# TFLite Micro library (minutes), later runs reuse it.
test-mcu: $(STAMP)
	$(BIN)/python mcu/test_mcu.py

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
