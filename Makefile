# Two commands on a fresh machine with only Python: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install lock lock-check run test lint format schema check-deploy bench clean messages screenshots

install: $(STAMP)

# Every package comes from the dev lock, pinned with its hashes (pip refuses anything else), the build
# backend included; the project itself (no packages, only its metadata) then without dependencies and
# without an isolated build environment. `pip check` fails when pyproject.toml wants what the lock lacks.
# docopt (ckanapi's CLI, a dev dependency) is published only as source: the one package built here.
$(STAMP): requirements/dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --only-binary :all: --no-binary docopt \
		-r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# The locks (docs/operations.md, "Dependencies and locks"): requirements/runtime.txt (the dependencies of
# pyproject.toml: the Docker image), requirements/dev.txt (those, the `dev` extra and the build backend:
# `make install`), requirements/uv.txt (the lock tool). Made by uv, itself installed from its lock into
# .venv-lock/. Universal (every platform, Python 3.11 and 3.12), so the machine that makes them does not
# matter; a version already in a lock stays unless pyproject.toml excludes it. LOCK_ARGS=--upgrade moves
# every package to its newest allowed version, LOCK_ARGS='--upgrade-package NAME' one of them.
LOCK_VENV := .venv-lock
UV := $(LOCK_VENV)/bin/uv
UV_COMPILE = $(UV) pip compile --no-config --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(LOCK_ARGS)

$(UV): requirements/uv.txt
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements/uv.txt
	touch $(UV)

lock: $(UV)
	$(UV_COMPILE) requirements/uv.in -o requirements/uv.txt
	$(UV_COMPILE) pyproject.toml -o requirements/runtime.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra dev -c requirements/runtime.txt \
		-o requirements/dev.txt

# Fails when `make lock` would change a lock (pyproject.toml changed without it); leaves the new locks in
# requirements/ and the committed ones in var/lock-check/.
lock-check: $(UV)
	rm -rf var/lock-check && mkdir -p var/lock-check && cp requirements/* var/lock-check/
	$(MAKE) --no-print-directory lock
	@diff -ru var/lock-check requirements || { echo "the locks do not match pyproject.toml: run make lock and commit requirements/" >&2; exit 1; }

run: install
	$(BIN)/python scripts/localnet.py

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: install
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

# Production's settings: a shared cache for the throttles (the check reads CACHE_URL, connects to nothing).
check-deploy: install
	REGISTRY_ENV=production DEBUG=false ALLOWED_HOSTS=node.example.org CACHE_URL=redis://127.0.0.1:6379/1 \
	SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))') \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

# The portal's English catalog (docs/portal.md, "Translations"): the Chinese source strings of the project's
# templates and code into locale/en/LC_MESSAGES/django.po (fill in every new msgstr), then the .mo from it.
MESSAGE_IGNORES := --ignore '.venv/*' --ignore '.venv-lock/*' --ignore 'var/*' --ignore 'tests/*' \
	--ignore 'bench/*' --ignore 'docs/*' --ignore 'scripts/*'
messages: install
	$(BIN)/python manage.py makemessages -l en --no-obsolete $(MESSAGE_IGNORES)
	msgfmt --check -o locale/en/LC_MESSAGES/django.mo locale/en/LC_MESSAGES/django.po

# The portal's browser tests (tests/browser, Playwright driving /usr/bin/chromium), saving screenshots of the
# pages into docs/screenshots/.
screenshots: install
	SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/browser

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf var/ .pytest_cache
