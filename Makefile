# Two commands for a fresh machine (see README): `make demo` and `make test`.
# Each creates .venv with Python 3.12 and installs pulsebot on first use.

PYTHON ?= $(shell command -v python3.12 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo chat test lint i18n lock clean

# Installs exactly what requirements.lock pins (the same versions on every machine), then pulsebot
# itself without resolving again.
$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "pulsebot needs Python 3.12+ (found " + sys.version.split()[0] + ")"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $(STAMP)

# Re-resolve every dependency (newest versions within pyproject.toml's ranges) into requirements.lock.
lock: $(STAMP)
	$(BIN)/uv pip compile --quiet --universal --upgrade --extra dev pyproject.toml -o requirements.lock

i18n: $(STAMP)
	@for po in handlers/locales/*/LC_MESSAGES/*.po; do \
		$(BIN)/pybabel compile --use-fuzzy -i $$po -o $${po%.po}.mo >/dev/null || exit 1; \
	done

# The console face on the embedded SQLite default, with a seeded demo company.
demo: $(STAMP) i18n
	DATABASE_URL=$${DATABASE_URL:-sqlite+aiosqlite:///demo.db} $(BIN)/pulsebot chat --demo

# The console on the same demo store as a member (make chat AS=ana) or the global leader (AS=ceo).
# The demo's own published secret is passed here, explicitly: a store never makes itself a demo.
AS ?= ana
chat: $(STAMP) i18n
	DATABASE_URL=$${DATABASE_URL:-sqlite+aiosqlite:///demo.db} \
	PULSEBOT_SECRET=$$($(BIN)/python -c 'from handlers.config import DEMO_SECRET; print(DEMO_SECRET)') \
	$(BIN)/pulsebot chat --demo --as $(AS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/vulture

# Every test (PostgreSQL lane too when PULSEBOT_TEST_POSTGRES_URL is set), then lint, the dependency
# rule, the types of every package and dead code.
test: $(STAMP) i18n
	$(BIN)/pytest -q $(PYTEST_ARGS)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/vulture

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache demo.db*
