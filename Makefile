# Caseboard: `make run` serves the demo, `make test` runs everything CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: messages screenshots run test test-js install install-dev install-js lint format check-deploy bench bench-smoke cluster clean report-screenshots bench-report

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Caseboard needs Python 3.11 or newer (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $@

# The translations (issue 18, docs/i18n.md): each catalogue is compiled when its .po changes.
# compilemessages runs GNU gettext's msgfmt (Debian: gettext); Django cannot compile without it.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)
$(MO_FILES): %.mo: %.po | $(VENV)/.installed
	@command -v msgfmt >/dev/null 2>&1 || { echo "Compiling the translations needs GNU gettext (apt-get install gettext)"; exit 1; }
	CASEBOARD_LOCAL=1 $(BIN)/python manage.py compilemessages -v 0 --locale $(word 2,$(subst /, ,$@)) --ignore .venv --ignore node_modules --ignore staticfiles
messages: $(MO_FILES)

install: $(VENV)/.installed messages
install-dev: $(VENV)/.installed-dev messages

# The front end's linter and test tools (package.json, pinned by package-lock.json); the pages
# themselves need no build. Reinstalled only when the lock file or package.json changes.
node_modules/.installed: package.json package-lock.json
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { echo "The front-end checks need Node.js 20.19 or newer with npm"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

install-js: node_modules/.installed

# ESLint on static/js and tests/js, then the unit tests of the browser modules (node --test).
test-js: install-js
	node_modules/.bin/eslint --max-warnings 0 .
	node --test --test-reporter=tap tests/js/

# A laptop (or a small room served from one): CASEBOARD_LOCAL asks for the conveniences (a key kept
# in .secret_key, plain HTTP on this address). DEBUG stays off: participants never see debug pages.
run: export CASEBOARD_LOCAL ?= 1
run: install
	$(BIN)/python manage.py migrate --noinput
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/python manage.py load_demo
	@echo "Serving Caseboard with daphne on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	$(BIN)/python -m caseboard.serve -b $(HOST) -p $(PORT) caseboard.asgi:application

test: test-js install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m tests.run_all

lint: install-dev install-js
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	node_modules/.bin/eslint --max-warnings 0 .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-deploy: install
	CASEBOARD_LOCAL= DEBUG=false SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=caseboard.example.org \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

# The live scenarios (bench/run.py), then the report scenario (bench/reportbench.py: 2,000 participants,
# 20 polls; it writes only its own section of docs/benchmarks.md). REPORT_BENCH_ARGS=--no-docs to keep the page.
bench: install-dev
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.reportbench $(REPORT_BENCH_ARGS)

bench-report: install-dev
	$(BIN)/python -m bench.reportbench $(REPORT_BENCH_ARGS)

bench-smoke: install-dev
	$(BIN)/python -m bench.run --profile smoke

# docs/screenshots/report-N.png: the demo played through on a scratch SQLite database, its report
# PDF rendered page by page with pdftoppm (Debian's poppler-utils). The README shows page 1.
report-screenshots: export CASEBOARD_LOCAL ?= 1
report-screenshots: install
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	DATABASE_URL=sqlite:///$$tmp/db.sqlite3 $(BIN)/python manage.py migrate --noinput -v 0 && \
	DATABASE_URL=sqlite:///$$tmp/db.sqlite3 $(BIN)/python manage.py replay_demo --screenshots docs/screenshots

# Several workers behind nginx on PostgreSQL + Redis (see docs/deploy.md). WORKERS, SERVER=uvicorn.
cluster: export CASEBOARD_LOCAL ?= 1
cluster: install-dev
	$(BIN)/python -m deploy.cluster --workers $${WORKERS:-2} --server $${SERVER:-daphne} --port $(PORT)

# The README's screenshots, and the projector (both themes), console and phone at each step of the
# demo, regenerated into docs/screenshots/ (and docs/screenshots/steps/) by the browser tests.
# Every screenshot the README shows: phone, projector (both themes), console at each demo step,
# then the report's pages.
screenshots: install-dev
	CASEBOARD_SCREENSHOTS=1 $(BIN)/python -m pytest tests/browser/test_browser_screenshots.py -q -p no:cacheprovider
	$(MAKE) report-screenshots

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .ruff_cache

# Fault injection (tests/reliability): prints the figures and writes them into docs/reliability.md.
.PHONY: chaos
chaos: install-dev
	$(BIN)/python -m tests.reliability.report
