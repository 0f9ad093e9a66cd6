# tensor-agent: `make run` sets everything up and answers the card's first example; `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MESSAGE ?= @TENSOR design CNN architecture for image classification
PYTEST_ARGS ?=

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export ANONYMIZED_TELEMETRY := False
export PIP_DISABLE_PIP_VERSION_CHECK := 1


.PHONY: run test test-all install unit integration eval bench clean help

help:
	@echo "make run    - create .venv if missing, install, and answer: $(MESSAGE)"
	@echo "make test   - (idempotent set-up) run the test suite (all but tests marked slow)"
	@echo "make test-all - the whole suite, slow acceptance runs included"
	@echo "make unit | integration | eval | bench"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the project metadata changed (idempotent and fast on the second run).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/tensor-agent ask "$(MESSAGE)"

# `make test` (CI) runs everything except tests marked slow (multi-minute acceptance runs); `make test-all` runs those too.
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" --timeout=1200 $(PYTEST_ARGS)

test-all: $(STAMP)
	$(BIN)/python -m pytest -q --timeout=1800 $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit $(PYTEST_ARGS)

integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration $(PYTEST_ARGS)

eval: $(STAMP)
	$(BIN)/tensor-agent eval evals/cases.jsonl
	@if [ -f evals/holdout.jsonl ]; then $(BIN)/tensor-agent eval evals/holdout.jsonl; fi

bench: $(STAMP)
	$(BIN)/python evals/bench_plan.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
