# Touchline: `make demo` and `make test` work on a fresh clone (they create .venv and install).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
DEMO_OUT ?= touchline-demo

.PHONY: demo test test-fast lint bench clean install install-dev chromium

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamps re-run the install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	touch $@

# trackeval (the reference HOTA, for a cross-check test) and trackers/supervision (ByteTrack and
# OC-SORT, the baselines of `touchline eval tracking`) declare opencv-python; they are installed
# without their dependencies so that the project keeps one OpenCV build (headless). Their other,
# pure-Python dependencies are in the dev extra.
$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[dev]'
	$(PIP) install --quiet --no-deps trackeval==1.3.0 tabulate trackers==2.6.1 supervision==0.31.2
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The selection report's HTML is checked in headless Chromium (Debian's package; a test tool's
# own browser download cannot reach its servers). Installed when missing and we are root.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) \
	    && echo "installed Debian's chromium for the report tests"; \
	  else echo "chromium missing: install Debian's chromium package for the report tests"; fi; }

demo: $(VENV)/.installed
	$(VENV)/bin/touchline demo --out $(DEMO_OUT)

# pytest exits 5 when no test ran; make treats any non-zero exit as failure.
test: $(VENV)/.installed-dev chromium
	$(PY) -m pytest -n 2 --dist loadgroup src tests

# The quick loop while editing: everything but the tests marked slow (make test runs them all).
test-fast: $(VENV)/.installed-dev
	$(PY) -m pytest -n 2 --dist loadgroup -m "not slow" src tests

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy src

bench: $(VENV)/.installed
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) build dist src/*.egg-info .pytest_cache
