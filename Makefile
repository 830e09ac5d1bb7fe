# labkit: `make lab` opens the lab, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.labkit-installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
HOST   ?= 127.0.0.1

.PHONY: venv lab test test-fast demo figures bench app clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[lab,test]'
	touch $(STAMP)

venv: $(STAMP)

lab: venv
	$(BIN)/jupyter lab --notebook-dir=notebooks --ip=$(HOST) $(ROOT_FLAG)

test: venv
	$(BIN)/python -m pytest

test-fast: venv
	$(BIN)/python -m pytest -m "not slow and not browser"

demo: venv
	$(BIN)/labkit simulate --ram 1GiB

figures: venv
	$(BIN)/python -m labkit.viz.figures docs/figures

bench: venv
	$(BIN)/python bench/run.py

app: venv
	$(BIN)/labkit app --host $(HOST)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
