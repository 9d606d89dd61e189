# oimws: build, run and check the gateway. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUN_DIR := run
PID_FILE := $(RUN_DIR)/oimws.pid
LOG_FILE := $(RUN_DIR)/oimws.log
OIMWS_ARGS ?=
CHECK_ARGS ?=
API_URL ?= http://127.0.0.1:$${OIMWS_API_PORT:-10002}
BUILD_STAMP := $(VENV)/.oimws-built
SOURCES := pyproject.toml setup.py $(wildcard oimws/_speedups/*.pyx oimws/_speedups/*.pxd)
E2E_DIR := tests/e2e
SOAK_SECONDS ?= 300
FUZZ_SECONDS ?= 300
FUZZ_DIR := $(RUN_DIR)/fuzz

.PHONY: help build start check stop restart test lint bench bench-micro wheel clean \
	cluster-up cluster-down soak fuzz

help:
	@echo "make build   create $(VENV) and install oimws with its compiled extensions"
	@echo "make start   build if needed, run the gateway in the background ($(LOG_FILE))"
	@echo "make check   the running gateway's health and readiness (connections, uptime);"
	@echo "             non-zero exit unless up and ready (TLS: API_URL=https://... CHECK_ARGS=--insecure)"
	@echo "make stop    SIGTERM the gateway and wait for its graceful exit"
	@echo "make test    run the whole test suite (unit, integration, end-to-end), soak aside"
	@echo "make soak    thousands of clients connecting, chatting and leaving against a real"
	@echo "             server for SOAK_SECONDS (default $(SOAK_SECONDS)): nothing lost, memory flat"
	@echo "make fuzz    coverage-guided fuzzing of the codec (atheris) for FUZZ_SECONDS"
	@echo "             (default $(FUZZ_SECONDS)); new inputs and crashes go to $(FUZZ_DIR)/"
	@echo "make lint    ruff, mypy, cython-lint"
	@echo "make bench   the load harness against its peers (short run; BENCH_ARGS=...)"
	@echo "make bench-micro  the Cython hot paths against plain Python (pytest-benchmark)"
	@echo "make wheel   build a wheel into dist/"
	@echo "make cluster-up / cluster-down   3 nodes behind nginx with redis-server (and"
	@echo "             PostgreSQL when OIMWS_POSTGRES_DSN is set) on loopback, for trying by hand"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(BUILD_STAMP): $(PY) $(SOURCES)
	$(PY) -m pip install --quiet "setuptools>=68" wheel "Cython>=3.0" "picows>=2.3"
	$(PY) -m pip install --quiet --no-build-isolation -e ".[dev]"
	@touch $@

build: $(BUILD_STAMP)

start: build
	@mkdir -p $(RUN_DIR)
	@if [ -f $(PID_FILE) ] && kill -0 $$(cat $(PID_FILE)) 2>/dev/null; then \
		echo "oimws is already running (pid $$(cat $(PID_FILE)))"; exit 0; fi; \
	nohup $(VENV)/bin/oimws serve $(OIMWS_ARGS) >>$(LOG_FILE) 2>&1 & echo $$! > $(PID_FILE); \
	for i in $$(seq 1 50); do \
		if $(PY) -m oimws.healthcheck $(API_URL) $(CHECK_ARGS) >/dev/null 2>&1; then \
			echo "oimws started (pid $$(cat $(PID_FILE))), log: $(LOG_FILE)"; \
			$(PY) -m oimws.healthcheck $(API_URL) $(CHECK_ARGS); exit 0; fi; \
		if ! kill -0 $$(cat $(PID_FILE)) 2>/dev/null; then break; fi; \
		sleep 0.2; done; \
	echo "oimws did not start; last log lines:"; tail -n 20 $(LOG_FILE); rm -f $(PID_FILE); exit 1

check: build
	@$(PY) -m oimws.healthcheck $(API_URL) $(CHECK_ARGS)

stop:
	@if [ ! -f $(PID_FILE) ] || ! kill -0 $$(cat $(PID_FILE)) 2>/dev/null; then \
		echo "oimws is not running"; rm -f $(PID_FILE); exit 0; fi; \
	pid=$$(cat $(PID_FILE)); kill -TERM $$pid; \
	for i in $$(seq 1 100); do \
		if ! kill -0 $$pid 2>/dev/null; then rm -f $(PID_FILE); echo "oimws stopped"; exit 0; fi; \
		sleep 0.1; done; \
	echo "oimws (pid $$pid) did not exit within 10 s"; exit 1

restart: stop start

$(E2E_DIR)/node_modules/.package-lock.json: $(E2E_DIR)/package-lock.json
	cd $(E2E_DIR) && npm ci --no-audit --no-fund --loglevel=error

# the soak is deselected by pytest's addopts (-m 'not soak', pyproject.toml): `make soak`
test: build $(E2E_DIR)/node_modules/.package-lock.json
	$(PY) -m pytest tests

# -m soak overrides the addopts' -m 'not soak'; -s shows each cycle as it ends
soak: build
	SOAK_SECONDS=$(SOAK_SECONDS) $(PY) -m pytest tests/robustness/test_soak.py -m soak -s

# The work corpus comes first: libFuzzer writes what it finds there, not into the seeds.
fuzz: build
	@mkdir -p $(FUZZ_DIR)/codec
	$(PY) fuzz/fuzz_codec.py -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 \
		-dict=fuzz/codec.dict -artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_DIR)/codec fuzz/corpus/codec

lint: build
	$(VENV)/bin/ruff check oimws tests benchmarks examples fuzz
	$(VENV)/bin/mypy
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cython-lint oimws/_speedups

bench-micro: build
	$(PY) -m pytest benchmarks -p no:cacheprovider --benchmark-enable \
		--benchmark-columns=min,median,mean,ops

# The load harness, short run, with the peers (BENCH_ARGS="--preset full" for the
# numbers in BENCHMARKS.md); needs the bench extras (websockets, matplotlib) and Node for ws.
BENCH_ARGS ?=
bench: build
	$(PY) -m pip install --quiet --no-build-isolation -e ".[dev,bench]"
	$(PY) -m oimws.bench --peers $(BENCH_ARGS)

wheel: build
	$(PY) -m build --wheel --outdir dist

cluster-up: build
	$(PY) -m oimws.devcluster up --nodes 3 --dir $(RUN_DIR)/cluster

cluster-down:
	$(PY) -m oimws.devcluster down --dir $(RUN_DIR)/cluster

clean:
	rm -rf build dist *.egg-info oimws/_speedups/*.c oimws/_speedups/*.so $(BUILD_STAMP) \
		.pytest_cache .mypy_cache .ruff_cache
