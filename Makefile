# One command to set up and run the demo, one to set up and run the tests.
PYTHON ?= python3
VENV   ?= .venv
DATA   ?= ../shared/market-data
BIN    := $(VENV)/bin

.PHONY: setup demo test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

## demo: the default backtest (liquidity_rotation on universes/ai_capex.toml) on the offline snapshot
demo: setup
	$(BIN)/durationbt data status --data $(DATA)
	$(BIN)/durationbt run liquidity_rotation --data $(DATA)

## test: the whole test suite (unit tests on synthetic data, integration tests on the snapshot)
test: setup
	$(BIN)/python -m pytest

## bench: single-run time, sweep throughput, peak memory vs a numpy reference, and the scaling table (assets x years, each case cold and three times warm; about 10 minutes, 7 of them the scaling table)
bench: setup
	DURATIONBT_DATA=$(DATA) $(BIN)/python bench/bench.py

lint: setup
	$(BIN)/ruff check src tests strategies bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
