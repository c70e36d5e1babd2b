# Conveniences over pulse.py, which needs only Python.
PY := .venv/bin/python

.PHONY: up test bench bench-surveys lint
up:
	python3 pulse.py up

test:
	python3 pulse.py test

lint:
	$(PY) -m ruff check --select F,E9 --exclude .venv .

bench:
	python3 pulse.py bench

# One benchmark alone (bench runs every script under bench/, this one included).
bench-surveys:
	$(PY) bench/surveys.py
