# Two entry points (see README): `make plan` and `make test`. Both create the
# virtualenv on first use and install the pinned lock file into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STACK ?= staging

.PHONY: plan test lint typecheck shellcheck workflow-lint unit bench lock clean tools e2e

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required, found " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $@

plan: $(STAMP)
	$(BIN)/webhost-infra plan --stack $(STACK)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Every shell script in the tree (the flyctl scripts, CI's entry point), with
# the rules in .shellcheckrc.
SHELL_SCRIPTS = $(shell git ls-files --cached --others --exclude-standard '*.sh' .ci/run 2>/dev/null || find . -name '*.sh' -not -path './.venv/*')
shellcheck: $(STAMP)
	$(BIN)/shellcheck $(SHELL_SCRIPTS)

# The GitHub workflows: actionlint (syntax, expressions, and shellcheck over each `run:`,
# with the venv's shellcheck on PATH) and zizmor's security audits, offline; no finding at
# medium or above (a suppression carries its reason in the workflow). actionlint is built
# with Go into .tools/bin by tools/build-actionlint.sh (which says what to install without Go).
workflow-lint: $(STAMP)
	tools/build-actionlint.sh
	PATH="$(CURDIR)/$(BIN):$$PATH" .tools/bin/actionlint
	$(BIN)/zizmor --offline --min-severity medium .github

# In parallel on every core (pytest-xdist): each test owns its temporary
# directory, ports and fake processes, so workers share nothing.
unit: $(STAMP)
	$(BIN)/pytest -q -n auto

test: lint typecheck shellcheck workflow-lint unit

bench: $(STAMP)
	$(BIN)/python bench/plan.py
	$(BIN)/python bench/suite.py

# The real Pulumi engine for `make e2e`: a `pulumi` already on PATH is used only when
# it is the lock's version (GitHub's Ubuntu images ship a newer one, without the plugins
# e2e needs); otherwise tools/build-engine.sh builds one (and the plugins it needs) with
# Go into .tools/bin, once per set of versions in requirements.lock. e2e/run.py takes
# .tools/bin first whenever it holds an engine.
LOCK_PULUMI = $(shell sed -n 's/^pulumi==\([^ ]*\) .*/\1/p' requirements.lock)
tools: $(STAMP)
	@found=$$(command -v pulumi || true); \
	if [ -n "$$found" ] && [ "$$(pulumi version 2>/dev/null)" = "v$(LOCK_PULUMI)" ]; then \
		echo "tools: using $$found (v$(LOCK_PULUMI), the lock's)"; \
	else \
		tools/build-engine.sh; \
	fi

# preview/up/refresh/destroy of both stacks with the real engine against the
# fake Fly API, fake `fly` and fake Cloudflare provider (see README).
e2e: tools
	$(BIN)/python e2e/run.py

# Re-pin after editing pyproject.toml dependencies.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
