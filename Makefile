# fleursr: the two commands of the README live here.
#   make demo   install everything, then run the main job on the embedded defaults
#   make test   install everything with the test extras, then lint and run the whole suite

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch 2.13.0 is a fast CPU build where a local wheel of it exists; elsewhere pip picks the
# registry's build. Installing it first is only an attempt: the project's own lower bound decides.
TORCH_SPEC ?= torch==2.13.0
DEMO_OUT ?= demo_out
DEMO_ARGS ?=

.PHONY: demo test install install-test system-deps system-deps-optional lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel

$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install -q "$(TORCH_SPEC)" || echo "note: $(TORCH_SPEC) not installable here; the project's torch requirement decides"
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# espeak-ng speaks the embedded corpus; ffmpeg is the system codec tool. Required for the demo.
system-deps:
	@bash scripts/install-system-deps.sh required

# For the tests: install when possible; the suite skips the espeak-ng tests where it is absent.
system-deps-optional:
	@bash scripts/install-system-deps.sh optional

demo: system-deps install
	$(VENV)/bin/fleursr demo --out $(DEMO_OUT) $(DEMO_ARGS)

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: system-deps-optional install-test lint
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .ruff_cache
