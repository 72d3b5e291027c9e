# weekly-top5: `make run` drafts last week's digest, `make test` runs the tests.
# Both set everything up first (a virtual environment in .venv), so they work on a fresh
# machine with Python 3.11 and nothing else.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# llama-cpp-python (the embedded offline model) compiles from source: a portable build is
# faster and runs on any x86-64; pip caches the wheel, so only the first install pays.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_HOME ?= $(CURDIR)/.prefect
# The Prefect server's address: `make server PORT=4300`, then the same PORT for deploy and worker.
HOST ?= 127.0.0.1
PORT ?= 4200
API_URL := http://$(HOST):$(PORT)/api

.PHONY: install run test demo server worker deploy notify bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -e '.[test,offline,dask]'
	touch $(STAMP)

run: install  ## draft the digest of the last complete arXiv week into digests/
	$(VENV)/bin/top5 run $(ARGS)

test: install  ## lint, then every test; the ones that need ../shared say why they skip without it
	$(VENV)/bin/ruff check flows tests bench
	$(PY) -m pytest $(PYTEST_ARGS)

demo: install  ## offline demo: the shared arXiv week served on 127.0.0.1, drafted into demo-digests/
	$(PY) bench/demo.py $(ARGS)

server: install  ## the Prefect server, UI on http://$(HOST):$(PORT) (PORT=4200 by default)
	PREFECT_API_URL=$(API_URL) PREFECT_UI_API_URL=$(API_URL) $(VENV)/bin/prefect server start --host $(HOST) --port $(PORT)

deploy: install  ## register the 'weekly' deployment (needs `make server` running, same PORT)
	PREFECT_API_URL=$(API_URL) $(VENV)/bin/prefect work-pool create local-pool --type process --overwrite
	PREFECT_API_URL=$(API_URL) $(VENV)/bin/prefect --no-prompt deploy --all

worker: install  ## a process worker that runs the scheduled and manual runs (stops on one SIGTERM)
	PREFECT_API_URL=$(API_URL) $(PY) -m flows.worker --pool local-pool

notify: install  ## a failed or crashed run POSTs its one line to URL: make notify URL=https://hooks.example/T0 (same PORT)
	PREFECT_API_URL=$(API_URL) $(PY) -m flows.notify '$(URL)'

clean:
	rm -rf $(VENV) .prefect .cache

.PHONY: test-deployment backfill bench-backfill

test-deployment: install  ## the weekly deployment end to end: server, pool, deploy, worker, run (~30 s)
	$(PY) -m pytest tests/test_deployment.py $(PYTEST_ARGS)

backfill: install  ## draft many weeks: make backfill ARGS="2026-W40 2026-W47 [--runner dask]"
	$(VENV)/bin/top5 backfill $(ARGS)

bench-backfill: install  ## weeks per hour of a 4-week backfill, thread pool against Dask (needs '.[dask]')
	$(PY) bench/backfill.py $(ARGS)
