# Set-up and everyday commands. Each target creates what it needs on a fresh Debian
# machine with Python 3.11+: `make serve` runs the service, `make test` the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := chromium chromium-driver graphviz virtuoso-opensource-7-bin nginx
APT := $(shell command -v apt-get 2>/dev/null)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve test install install-test install-gunicorn system-deps lint bench clean

serve: install
	$(BIN)/borderkg serve

test: install-test system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

install: $(STAMP)

$(VENV)/.installed-test: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install-test: $(VENV)/.installed-test

# gunicorn is an optional extra (http_server = gunicorn); the default server is granian
install-gunicorn: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[gunicorn]'

# Debian packages the tests start for real: headless Chromium for pages, Graphviz for
# pictures, Virtuoso Open Source as a remote SPARQL store.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ -z "$(APT)" ]; then echo "please install:$$missing" >&2; exit 1; fi; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; fi

lint: install-test
	$(BIN)/ruff check graph server queries ontology client tests bench
	$(BIN)/mypy

bench: install-test system-deps
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q wrk; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
