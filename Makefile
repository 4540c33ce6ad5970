# The two commands of the README's Quick start: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py

.PHONY: run test lint bench install lock clean

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

## Serve the demo on http://127.0.0.1:8000 with a Celery worker and beat beside it.
run: $(STAMP)
	$(MANAGE) migrate --noinput -v0
	$(MANAGE) seed_demo --if-empty --contacts 2000
	$(MANAGE) demo_login
	bin/run-local

## The whole suite: SQLite when nothing is set; PostgreSQL, Redis and a real worker when
## DATABASE_URL and REDIS_URL are set (as .ci/run does).
test: $(STAMP)
	$(BIN)/ruff check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(MANAGE) makemigrations --check --dry-run -v1
	DJANGO_SETTINGS_MODULE=config.settings.test $(MANAGE) check --fail-level WARNING
	bin/check-deploy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Benchmarks on PostgreSQL (DATABASE_URL must point at it); see README.md, "Benchmarks".
bench: $(STAMP)
	$(BIN)/python bench/run.py

## Re-resolve requirements.lock from pyproject.toml (needs network access to PyPI).
lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) var staticfiles
