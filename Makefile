# Two commands matter: `make demo` and `make test`. Both create .venv on first use.
# `make demo` installs Anjeon and its runtime dependencies only; `make test` adds the dev tools
# (pytest, hypothesis, ruff, playwright) and Debian's chromium for the report tests (`make browser`).
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3 python3.14 python3.13 python3.12 python3.11; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; \
	then echo $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-stamp
DEV_STAMP := $(VENV)/.dev-stamp
DEMO_OUT ?= out/demo
CHROMIUM ?= /usr/bin/chromium
PIP := $(BIN)/python -m pip install --progress-bar on --disable-pip-version-check \
	--config-settings editable_mode=compat

.PHONY: demo test test-nojit lint bench browser clean venv

venv: $(RUNTIME_STAMP)

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then echo "error: Python 3.11 or newer is needed (python3 not found or too old)" >&2; exit 2; fi
	@echo "creating the virtual environment $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)

# Runtime only: what `anjeon run`, `sweep` and `report` need.
$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	@echo "installing Anjeon and its runtime dependencies into $(VENV) (pip -e .; about a minute the first time)"
	$(PIP) -e .
	@touch $(RUNTIME_STAMP)

# Runtime plus the dev extra: the test, lint and browser-driving tools.
$(DEV_STAMP): $(RUNTIME_STAMP)
	@echo "installing the dev tools into $(VENV) (pip -e .[dev]: pytest, hypothesis, ruff, playwright, the osm extra)"
	$(PIP) -e ".[dev]"
	@touch $(DEV_STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/anjeon run ansan --days 30 --seed 1 --out $(DEMO_OUT) --force
	$(BIN)/anjeon report $(DEMO_OUT)
	@echo
	@echo "The report is $(DEMO_OUT)/report.html: open it in a browser, e.g."
	@echo "  xdg-open $(DEMO_OUT)/report.html     (Linux; on macOS: open $(DEMO_OUT)/report.html)"

# Debian's chromium, which the report tests drive headless through playwright (never a downloaded
# browser). Installed with apt-get when missing; without apt-get or root the browser tests skip.
browser:
	@if [ -x "$(CHROMIUM)" ]; then \
		echo "browser: $(CHROMIUM) is installed (the report tests drive it headless)"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "browser: $(CHROMIUM) is missing and apt-get is unavailable: the report's browser tests will skip" >&2; \
	else \
		if [ "$$(id -u)" = 0 ]; then sudo=; elif command -v sudo >/dev/null 2>&1; then sudo=sudo; else \
			echo "browser: installing chromium needs root (or sudo): the report's browser tests will skip" >&2; exit 0; fi; \
		echo "browser: installing Debian's chromium with apt-get (the report tests drive it headless)"; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
		|| echo "browser: apt-get could not install chromium: the report's browser tests will skip" >&2; \
	fi

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

test: $(DEV_STAMP) browser lint
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory test-nojit

# The kernels and the engine's small cases again, as plain Python (numba off).
test-nojit: $(DEV_STAMP)
	NUMBA_DISABLE_JIT=1 $(BIN)/python -m pytest -q -m "nojit and not slow and not benchmark"

bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
