# Momento — `make run` and `make test` do all the set-up (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Django 6 needs Python 3.12+: take the first of these that runs (pyenv shims included).
PYTHON ?= $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python3.13 $$HOME/.pyenv/versions/3.12*/bin/python3.12; do \
	  command -v $$p >/dev/null 2>&1 || [ -x "$$p" ] || continue; \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; \
	done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export MOMENTO_PEERS_DIR ?= $(HOME)/.cache/momento/peers
HOST ?= 127.0.0.1
PORT ?= 8000
# Links Momento writes (tracked links, post text, CSAT links) point at the server
# `make run` serves, PORT=8101 included; set SITE_URL for any other address.
export SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: help venv run test lint bench peers browser messages clean

help:
	@echo "make run    - set up, migrate, load demo data, serve on http://$(HOST):$(PORT)/ with a Celery worker, beat and the demo Mastodon server"
	@echo "make test   - set up and run the whole suite on PostgreSQL and Redis"
	@echo "make lint   - ruff check and format check"
	@echo "make bench  - run every benchmark in bench/ and print its figures"

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "Momento needs Python 3.12 or newer (python3.12 or python3.13 on PATH, or PYTHON=...)." >&2; exit 1; fi
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP)

messages: venv
	@command -v msgfmt >/dev/null || { echo "msgfmt missing: apt-get install gettext (the committed .mo files are used meanwhile)"; exit 0; }; \
	  $(BIN)/python manage.py compilemessages --ignore=.venv -v 0

run: venv messages
	@mkdir -p var/celery/queue var/celery/control var/celery/processed var/cache
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} MOMENTO_ALLOW_PRIVATE_NETWORKS=$${MOMENTO_ALLOW_PRIVATE_NETWORKS:-1} $(BIN)/python manage.py seed_demo $(if $(DEMO_LANGUAGE),--language $(DEMO_LANGUAGE))
	@echo "Momento is starting on http://$(HOST):$(PORT)/ (Ctrl-C stops it)."
	DEBUG=$${DEBUG:-1} MOMENTO_ALLOW_PRIVATE_NETWORKS=$${MOMENTO_ALLOW_PRIVATE_NETWORKS:-1} HOST=$(HOST) PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start -f Procfile -p $(PORT)

peers:
	@bash scripts/peers/install.sh

browser:
	@command -v chromium >/dev/null 2>&1 || { echo "Installing Debian's chromium for browser tests..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  { echo "Could not install chromium (apt-get install chromium)." >&2; exit 1; }; }

test: venv messages peers browser
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var staticfiles
