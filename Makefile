# therapyinfo: `make run` to see the site, `make test` to run the suite.
# Every target installs what it needs into .venv first.

PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
# Tests and the local server use throwaway keys; production sets its own.
TEST_ENV := DJANGO_SECRET_KEY=test-only-insecure-key
DEV_ENV := DJANGO_DEBUG=on

# The first Python 3.12+ found: pyenv's (honours .python-version), then the usual names.
PYTHON_FOR_VENV := $(shell for p in "$$(pyenv which python3 2>/dev/null)" python3.13 python3.12 python3; do \
	[ -n "$$p" ] && command -v "$$p" >/dev/null 2>&1 && \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v "$$p"; break; }; done)

.PHONY: run test lint bench check-python install clean browser-tools audit serve release loadtest

check-python:
	@if [ -z "$(PYTHON_FOR_VENV)" ]; then \
		echo "therapyinfo needs Python 3.12 or newer (Django 6.1 does), and none was found."; \
		echo "Install one (e.g. 'pyenv install 3.12' or 'apt-get install python3.12 python3.12-venv') and try again."; \
		exit 1; fi

$(VENV)/.installed: pyproject.toml | check-python
	@[ -x $(PY) ] || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check pip==26.3
	$(PY) -m pip install --quiet --disable-pip-version-check --group dev
	@touch $@

install: $(VENV)/.installed

# The Nu Html Checker and Lighthouse, pinned in tests/browser/package-lock.json.
# Without npm the HTML check skips locally (and fails in CI, which has npm).
BROWSER_TOOLS := tests/browser/node_modules/.installed
$(BROWSER_TOOLS): tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/browser --no-audit --no-fund --ignore-scripts --loglevel=error && touch $@; \
	else echo "npm not found: the Nu Html Checker test will skip (apt-get install npm)"; fi

browser-tools: $(BROWSER_TOOLS)

run: install
	$(DEV_ENV) $(MANAGE) migrate --no-input
	$(DEV_ENV) $(MANAGE) render_content
	$(DEV_ENV) $(MANAGE) load_content
	$(DEV_ENV) $(MANAGE) runserver 127.0.0.1:$(PORT)

# Production-style: nginx (deploy/nginx.conf) on PORT in front of gunicorn, DEBUG off;
# settings only from the environment. Ctrl-C stops both. Needs no database, so
# it starts during an outage; `make release` is the step that changes it.
serve: install
	$(MANAGE) collectstatic --no-input --verbosity 0
	$(MANAGE) render_error_pages
	PORT=$(PORT) bash deploy/serve.sh

# The release step, run once per deploy before `make serve` (docs/operations.md).
release: install
	$(MANAGE) migrate --no-input
	$(MANAGE) render_content

# 60 s of wrk traffic on gunicorn + PostgreSQL; fails on any error (see .ci/loadtest).
loadtest: install
	bash .ci/loadtest

test: install browser-tools
	$(TEST_ENV) $(MANAGE) collectstatic --no-input --verbosity 0
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

# Lighthouse scores of the main pages (mobile preset), served by gunicorn with DEBUG off.
audit: install browser-tools
	bash tests/browser/audit.sh

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(TEST_ENV) $(MANAGE) makemigrations --check --dry-run

# Public pages against a bare-Django baseline under gunicorn and wrk (README, "Performance").
bench: install
	$(PY) tools/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 .pytest_cache
