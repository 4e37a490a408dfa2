# tierbook — the commands a newcomer can guess.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEMO_N  ?= 20000
DEMO_DIR ?= demo-bank
OUT     ?= out

.PHONY: install demo test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres,spark]'
	touch $(STAMP)

install: $(STAMP)

# Two runs into the same out/: the first (end of March) assigns staff; the second (year end)
# keeps them, and moves the customers of the two staff who left during the year.
demo: $(STAMP)
	rm -rf $(OUT)
	$(BIN)/tierbook demo-data --customers $(DEMO_N) --seed 7 --out $(DEMO_DIR)
	$(BIN)/tierbook run --data $(DEMO_DIR) --as-of 2025-03-31 --out $(OUT) --quiet --no-excel
	$(BIN)/tierbook run --data $(DEMO_DIR) --as-of 2025-12-31 --out $(OUT)

test: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src/tierbook/domain src/tierbook/rules

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)
	$(BIN)/python -m bench.batch

clean:
	rm -rf $(VENV) $(OUT) $(DEMO_DIR) .pytest_cache .ruff_cache .mypy_cache
