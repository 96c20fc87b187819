# Servicedesk — the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test fuzz lint import-graph format check bench faults load lighthouse lock clean

# Reinstalls only when the dependency files change, so every target can depend on it.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Development server on http://127.0.0.1:8000 with a Celery worker and the beat scheduler.
## Embedded default: SQLite and a file-based broker under var/. DATABASE_URL / REDIS_URL switch to servers.
run: export DEBUG = 1
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	bin/dev-server

## The whole suite, browser journeys included. SQLite unless DATABASE_URL names PostgreSQL.
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

## The hostile-input fuzz at its full size: 10,000 generated cases (the suite runs 1,000 of them).
fuzz: install
	SERVICEDESK_FUZZ_CASES=10000 $(BIN)/pytest tests/security/test_bad_input.py -q -p no:cacheprovider $(PYTEST_ARGS)

## ruff, the layers between the apps (import-linter), and types (mypy: services strictly); see pyproject.toml.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	DEBUG=1 $(BIN)/mypy

## Which app imports which (module-level imports, our packages only): compare before and after a change.
import-graph: install
	$(BIN)/python bin/import-graph

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Production readiness: deploy checks and no missing migrations. Configured as a production site
## is: an SMTP server and Twilio for texts, with dummy credentials (nothing is sent by a check).
check: install
	DEBUG=0 SECRET_KEY=check-only-$$(head -c 48 /dev/urandom | base64 | tr -d '/+=') ALLOWED_HOSTS=example.org \
		EMAIL_URL=smtp+tls://mail.example.org:587 SITE_URL=https://example.org \
		SMS_BACKEND=servicedesk.notify.TwilioSmsBackend TWILIO_ACCOUNT_SID=ACcheck TWILIO_AUTH_TOKEN=check \
		$(BIN)/python manage.py check --deploy --fail-level WARNING
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

## Benchmarks against the configured database (use PostgreSQL: DATABASE_URL=postgres://...).
## BENCH=<word> runs those whose name has the word; BENCH=--smoke runs all at toy sizes (CI).
bench: install
	DEBUG=1 $(BIN)/python -m tests.load $(BENCH)

## 20 users on gunicorn + PostgreSQL + Redis: throughput and p50/p95/p99 per endpoint (needs DATABASE_URL=postgres://...).
## LOAD_ARGS="--pgbouncer --users 50": through a local pgbouncer in transaction mode, with 50 users.
load: install
	$(BIN)/python -m tests.load.bench_http $(LOAD_ARGS)

## Lighthouse 12 (mobile) on the dashboard, incident list and kiosk in production mode (needs DATABASE_URL=postgres://...).
lighthouse: install
	test -d tools/lighthouse/node_modules || npm ci --prefix tools/lighthouse --no-audit --no-fund
	$(BIN)/python -m tests.load.lighthouse $(LIGHTHOUSE_ARGS)

## Fault scripts: PostgreSQL away, Redis killed mid-burst, a worker killed mid-send, a mail server refusing
## one recipient, a worker killed mid-batch of outbox emails (needs DATABASE_URL=postgres://...).
faults: install
	$(BIN)/python -m tests.faults

## Re-pin every dependency after editing pyproject.toml.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	{ echo "# Exact versions for a reproducible install: make install applies them with pip -c."; \
	  echo "# Regenerate after changing pyproject.toml: make lock"; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -v '^pip=='; } > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) var staticfiles test-results *.egg-info
