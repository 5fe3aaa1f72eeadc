# Two targets a new user needs: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test reliability lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/hub demo

test: install
	$(BIN)/python -m pytest -q

# The reliability suite at full size (1000 deals per pairing under 20 % faults, ...).
reliability: install
	$(BIN)/python -m pytest -q -m reliability

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check hub connectors sandboxes flows tests tools bench
	$(BIN)/mypy handoff_hub tools bench

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
