# Two commands a newcomer needs: `make demo` and `make test`. Each builds .venv/ from nothing
# but python3 when it is missing, from the committed lock file (requirements/lock.txt).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The browser the report test and the browser-session test drive (Debian's chromium package).
CHROMIUM ?= $(or $(CREDITWATCH_CHROMIUM),/usr/bin/chromium)

.PHONY: demo demo-repair test lint bench lock clean-venv chromium

$(STAMP): requirements/lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/creditwatch run --demo

# A repair case from open to removed_verified (README: "A repair, step by step"), in its own warehouse so
# the case is RC-0001: week 0 on the replica, the case opened (pack in exports/repair/RC-0001/), submitted
# and accepted today, then week 1, where the replica no longer serves the record: the run verifies it.
DEMO_REPAIR := data/demo-repair/creditwatch.duckdb
DEMO_RECORD := 宁通管罚〔2025〕1号
demo-repair: $(STAMP)
	rm -rf data/demo-repair
	$(BIN)/creditwatch --warehouse $(DEMO_REPAIR) run --demo
	$(BIN)/creditwatch --warehouse $(DEMO_REPAIR) repair open '$(DEMO_RECORD)'
	$(BIN)/creditwatch --warehouse $(DEMO_REPAIR) repair submit RC-0001 --on $$(date +%F) --platform creditchina --receipt DEMO-0001
	$(BIN)/creditwatch --warehouse $(DEMO_REPAIR) repair outcome RC-0001 accepted --on $$(date +%F)
	$(BIN)/creditwatch --warehouse $(DEMO_REPAIR) repair list
	$(BIN)/creditwatch --warehouse $(DEMO_REPAIR) run --demo --replica-week 1
	$(BIN)/creditwatch --warehouse $(DEMO_REPAIR) repair list

# Some tests render in a real Chromium, driven by Playwright, whose bundled Node driver needs libatomic.
# Both are installed here when missing and we may (root, or password-less sudo, with apt-get); otherwise
# make stops at once naming the command to run. Never a silent skip.
BROWSER_PACKAGES := chromium libatomic1
chromium:
	@if [ -x "$(CHROMIUM)" ] && { /sbin/ldconfig -p 2>/dev/null || ldconfig -p; } | grep -q 'libatomic\.so\.1'; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then SUDO=""; \
	elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; \
	else echo "make: the browser tests need Chromium at $(CHROMIUM) and libatomic: run 'sudo apt-get install $(BROWSER_PACKAGES)' (or set CHROMIUM=/path/to/chromium), then 'make test' again" >&2; exit 1; fi; \
	echo "make: installing Debian's $(BROWSER_PACKAGES) for the browser tests ($${SUDO:+sudo }apt-get install $(BROWSER_PACKAGES))"; \
	$$SUDO apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null \
	  || { echo "make: apt-get could not install them: run 'sudo apt-get install $(BROWSER_PACKAGES)' and 'make test' again" >&2; exit 1; }; \
	[ -x "$(CHROMIUM)" ] || { echo "make: chromium installed but not at $(CHROMIUM): set CHROMIUM=/path/to/chromium" >&2; exit 1; }

test: $(STAMP) chromium
	CREDITWATCH_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m bench.run

# Regenerate the lock after changing pyproject.toml dependencies (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements/lock.txt

clean-venv:
	rm -rf $(VENV)
