# tierbook — the commands a newcomer can guess.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEMO_N  ?= 20000
DEMO_DIR ?= demo-bank
OUT     ?= out

.PHONY: install demo demo-close test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Two runs into the same out/: the first (end of March) assigns staff; the second (year end)
# keeps them, and moves the customers of the two staff who left during the year.
demo: $(STAMP)
	rm -rf $(OUT)
	$(BIN)/tierbook demo-data --customers $(DEMO_N) --seed 7 --out $(DEMO_DIR)
	$(BIN)/tierbook run --data $(DEMO_DIR) --as-of 2025-03-31 --out $(OUT) --quiet --no-excel
	$(BIN)/tierbook run --data $(DEMO_DIR) --as-of 2025-12-31 --out $(OUT)

# The daily close on the demo bank (after `make demo`): day partitions of the last week, a
# full run as of 30 December writing the close state, then the close of 31 December.
demo-close: $(STAMP)
	$(BIN)/tierbook split-days --data $(DEMO_DIR) --since 2025-12-25
	$(BIN)/tierbook run --data $(DEMO_DIR) --as-of 2025-12-30 --out $(OUT)-close --quiet --no-excel --write-state
	$(BIN)/tierbook close --data $(DEMO_DIR) --date 2025-12-31 --out $(OUT)-close
	$(BIN)/tierbook close --data $(DEMO_DIR) --date 2025-12-31 --out $(OUT)-close --quiet

test: $(STAMP)
	$(BIN)/pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src/tierbook/domain src/tierbook/rules

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)
	$(BIN)/python -m bench.batch
	$(BIN)/python -m bench.close

clean:
	rm -rf $(VENV) $(OUT) $(OUT)-close $(DEMO_DIR) .pytest_cache .ruff_cache .mypy_cache
