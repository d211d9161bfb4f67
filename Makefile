# Every target bootstraps .venv itself: a fresh clone needs nothing but python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: export test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[train,test]' && touch $(STAMP)

export: $(STAMP)
	$(BIN)/edge-train --out models/default.onnx --report docs/report
	$(BIN)/edge-predict predict 1 7

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Minutes, not seconds: builds the wheel and a torch-free device env in bench/.work/, writes bench/results.md.
bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis bench/.work
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
