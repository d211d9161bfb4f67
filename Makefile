# Every target bootstraps .venv itself: a fresh clone needs nothing but python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: export test test-fast lint fuzz bench bench-scale bench-serve mutate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[train,test]' && touch $(STAMP)

export: $(STAMP)
	$(BIN)/edge-train --out models/default.onnx --report docs/report --model-version 3
	$(BIN)/edge-predict predict 1 7

# PYTHONDONTWRITEBYTECODE= : the compiled test modules (asserts rewritten by pytest) are cached in __pycache__ even
# where the shell turns bytecode off; without the cache every run compiles them all anew.
test: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q

# Under a minute: everything but the tests marked slow (wheel and venv builds, Dask, Spark, SIGKILL, long properties);
# each property with a quarter of its examples (the fast profile: tests/conftest.py).
test-fast: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -m "not slow" -p no:cacheprovider

# ruff lint and format, configured in pyproject.toml; .ci/run runs it before the tests.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The wheel on emulated linux/aarch64 (qemu + Debian arm64 python3.11), checked against torch: docs/arm64.md.
# CI runs test-arm64 (the newest onnxruntime, one model per task); -full adds onnxruntime 1.27, a deeper
# model, every error case per model and 32-bit ARM's pip.
.PHONY: test-arm64 test-arm64-full
test-arm64: $(STAMP)
	tests/arm64/run.sh

test-arm64-full: $(STAMP)
	ARM64_FULL=1 tests/arm64/run.sh

# The wheel on emulated 32-bit ARM (qemu-arm + Debian 12 armhf python3, numpy, click), the numpy engine scoring one
# model per task against torch: docs/engines.md. CI runs it after test-arm64.
.PHONY: test-armv7
test-armv7: $(STAMP)
	tests/armv7/run.sh

# 10,000 arbitrary command lines and stdins through the CLI (make test runs 300); prints the count.
fuzz: $(STAMP)
	FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/test_fuzz.py

# Minutes, not seconds: builds the wheel and a torch-free device env in bench/.work/, writes bench/results.md.
# Scale-out (Dask, Spark) has its own target: make bench-scale.
bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[train,test,bench]'
	$(BIN)/python bench/run.py

# Distributed scoring (docs/distributed.md): 1e7 rows of Parquet on a Dask
# LocalCluster, 1 vs 2 worker processes, against a naive session-per-partition script; writes bench/scale.md.
bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py

# edge-predict serve on loopback (docs/serve.md): 1 client, then 32 keep-alive clients for 30 s per phase, against
# MLServer 1.7 serving the same file (installed once into bench/.work/mlserver); writes bench/serve.md.
bench-serve: $(STAMP)
	$(BIN)/python bench/serve_load.py

# Tens of minutes, not part of make test: mutmut over runtime/ (docs/mutation.md); prints the score and survivors.
mutate: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[train,test,mutate]'
	$(BIN)/python tools/mutate.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis bench/.work .mutate
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
