# tierbook — the commands a newcomer can guess.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEMO_N  ?= 20000
DEMO_DIR ?= demo-bank
OUT     ?= out
DEMO_DB ?= tierbook.db
DATABASE_URL ?= sqlite:///$(DEMO_DB)

.PHONY: install demo demo-close serve test lint format bench clean
PORT    ?= 8000

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres,spark]'
	touch $(STAMP)

install: $(STAMP)

# Two runs into the same out/: the first (end of March) assigns staff; the second (year end)
# keeps them, and moves the customers of the two staff who left during the year; a third
# run tiers the demo purchases with the retail_membership preset into out/membership/.
# Both runs are published into the store (DATABASE_URL, by default the SQLite file tierbook.db,
# made afresh), then one login per role is created and printed.
demo: $(STAMP)
	rm -rf $(OUT) $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(BIN)/tierbook demo-data --customers $(DEMO_N) --seed 7 --out $(DEMO_DIR) --purchases
	TIERBOOK_DATABASE_URL=$(DATABASE_URL) $(BIN)/tierbook db upgrade
	TIERBOOK_DATABASE_URL=$(DATABASE_URL) $(BIN)/tierbook run --data $(DEMO_DIR) --as-of 2025-03-31 --out $(OUT) --quiet --no-excel --publish
	TIERBOOK_DATABASE_URL=$(DATABASE_URL) $(BIN)/tierbook run --data $(DEMO_DIR) --as-of 2025-12-31 --out $(OUT) --publish
	$(BIN)/tierbook run --data $(DEMO_DIR) --as-of 2025-12-31 --rulebook retail_membership --out $(OUT)/membership --quiet
	TIERBOOK_DATABASE_URL=$(DATABASE_URL) $(BIN)/tierbook db seed-demo-users

# The API on 127.0.0.1 over the demo store (made by `make demo` when missing); prints a fresh
# login per role first. OpenAPI at http://127.0.0.1:$(PORT)/docs.
serve: $(STAMP)
	test -f $(DEMO_DB) || $(MAKE) demo
	TIERBOOK_DATABASE_URL=$(DATABASE_URL) $(BIN)/tierbook db seed-demo-users
	TIERBOOK_DATABASE_URL=$(DATABASE_URL) $(BIN)/tierbook serve --host 127.0.0.1 --port $(PORT)

# The daily close on the demo bank (after `make demo`): day partitions of the last week, a
# full run as of 30 December writing the close state, then the close of 31 December.
demo-close: $(STAMP)
	$(BIN)/tierbook split-days --data $(DEMO_DIR) --since 2025-12-25
	$(BIN)/tierbook run --data $(DEMO_DIR) --as-of 2025-12-30 --out $(OUT)-close --quiet --no-excel --write-state
	$(BIN)/tierbook close --data $(DEMO_DIR) --date 2025-12-31 --out $(OUT)-close
	$(BIN)/tierbook close --data $(DEMO_DIR) --date 2025-12-31 --out $(OUT)-close --quiet

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
	$(BIN)/python -m bench.publish
	$(BIN)/python -m bench.api
	$(BIN)/python -m bench.close

clean:
	rm -rf $(VENV) $(OUT) $(OUT)-close $(DEMO_DIR) $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm .pytest_cache .ruff_cache .mypy_cache
