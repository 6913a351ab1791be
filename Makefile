# Two commands on a fresh machine: `make run` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench playground tour check install-dev install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"

run: install
	@test -f .env || cp .env.example .env
	$(BIN)/python -m bot run

check: install
	@test -f .env || cp .env.example .env
	$(BIN)/python -m bot check

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

playground: install
	$(BIN)/python -m bot playground

tour: install
	$(BIN)/python -m bot playground --tour

bench: install-dev
	$(BIN)/python -m bench
