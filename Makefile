# Two commands on a fresh machine with only Python: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint format schema check-deploy bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

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

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf var/ .pytest_cache
