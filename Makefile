# The two commands that matter: `make run` and `make test`. Everything else helps.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test test-fast lint format css vendor bench chaos image lock audit clean

# Installs from the lock only: every package pinned, and refused unless its hash
# is the one recorded (`make lock` writes the locks from the *.in files).
$(INSTALLED): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements-dev.txt
	touch $@

## Run the whole product locally: web, worker, beat, Flower, SMTP catcher, Redis.
run: $(INSTALLED)
	$(BIN)/python -m devtools.run

## Run the whole test suite (SQLite and a private Redis unless DB_NAME /
## CELERY_BROKER_URL say otherwise). Tests never need a real SECRET_KEY.
## TEST_PROCESSES pytest-xdist processes share the modules out (0: all in this
## one process, quicker for a single test).
## Bytecode is written (git-ignored __pycache__) even where PYTHONDONTWRITEBYTECODE
## is set: otherwise each pytest-xdist process, and each Python process a test
## starts, compiles our sources and rewrites the test modules' asserts again.
TEST_PROCESSES ?= 2
PYTEST := SECRET_KEY=$${SECRET_KEY:-test-only-secret-key-that-is-long-enough-for-django-checks} \
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest --numprocesses $(TEST_PROCESSES)
test: $(INSTALLED)
	$(PYTEST) $(PYTEST_ARGS)

## The lane to run while working: everything but the end-to-end tests (real
## worker, web, SMTP) and the browser tests (Chromium).
test-fast: $(INSTALLED)
	$(PYTEST) -m "not e2e and not browser" $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## mypy (strict, django-stubs) over the product's code.
typecheck: $(INSTALLED)
	SECRET_KEY=$${SECRET_KEY:-typecheck-only-secret-key-that-is-long-enough-for-django-checks} \
		$(BIN)/mypy project tasks users notifications worker ui

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Rebuild static/css/app.css from the templates (needs Node; the result is committed).
css:
	npm install --no-audit --no-fund
	npm run build:css

## Refresh the vendored scripts (htmx, axe-core) from the versions pinned in
## package.json (needs Node; the copies are committed).
vendor:
	npm install --no-audit --no-fund
	npm run vendor

## The bench's own environment: the product's, plus the peers it is measured against.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: requirements.txt requirements-dev.txt requirements-bench.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements-bench.txt
	touch $@

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python -m bench.run

chaos: $(INSTALLED)
	$(BIN)/python -m bench.chaos

## Build the production image with buildah on a Debian stand-in for the official
## base, then start web, worker, beat and Flower from it and check each answers
## (root, buildah and debootstrap; see docs/docker.md).
image: $(INSTALLED)
	$(BIN)/python -m devtools.image

## Write the lock files (every package pinned, with its hashes) from the *.in
## files, resolved against PyPI alone (not this machine's local wheels).
LOCKS := requirements.txt requirements-image.txt requirements-dev.txt requirements-bench.txt
lock: $(INSTALLED)
	for lock in $(LOCKS); do \
		env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(BIN)/pip-compile --quiet \
			--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
			--no-emit-find-links --output-file=$$lock $${lock%.txt}.in || exit 1; \
	done

## Known advisories against the locked packages (pip-audit; devtools/audit.py).
audit: $(INSTALLED)
	$(BIN)/python -m devtools.audit requirements.txt requirements-image.txt

clean:
	rm -rf $(VENV) $(BENCH_VENV) staticfiles var test-artifacts .pytest_cache .ruff_cache
