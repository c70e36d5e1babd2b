# Conveniences over pulse.py, which needs only Python.
PY := .venv/bin/python

.PHONY: up test bench lint
up:
	python3 pulse.py up

test:
	python3 pulse.py test

lint:
	$(PY) -m ruff check --select F,E9 --exclude .venv .

bench:
	python3 pulse.py bench
