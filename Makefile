# Two user-facing commands:   make demo   (run the app on the embedded devnet)
#                             make test   (run every test; PY=python3.12 picks the Python)
# Everything else is set-up they share; each step is skipped when already done.

SHELL := /bin/bash
PY ?= python3.11
PYVER := $(patsubst python%,%,$(notdir $(PY)))
# Python 3.11 keeps the plain .venv (what scripts and the README use); others get their own,
# .venv-3.12, .venv-3.13, so the three can be tested side by side.
VENV ?= $(if $(filter 3.11,$(PYVER)),.venv,.venv-$(PYVER))
BIN := $(VENV)/bin
# Extras installed into the venv; `make test-core` uses the core's alone (no Qt).
EXTRAS ?= gui,dev,dev-gui
export VENV
NPM_DIR := contracts
FORGE := $(NPM_DIR)/node_modules/@foundry-rs/forge-linux-amd64/bin/forge
APT_PACKAGES := gnome-keyring dbus xvfb xauth libegl1 libxkbcommon0 libxkbcommon-x11-0 \
                libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libfontconfig1 \
                fonts-dejavu-core libdbus-1-3

.PHONY: demo test test-core setup system-deps python-deps npm-deps contracts lint screenshots bench \
        bundle wheel clean

demo: setup
	@scripts/demo.sh

test: setup
	@scripts/run-tests.sh

# The core without Qt (no gui extra, as `pip install global100-wallet` gives): its own
# tests pass there, the GUI's are not collected.
test-core: system-deps npm-deps contracts
	@$(MAKE) --no-print-directory python-deps VENV=.venv-core EXTRAS=dev
	@VENV=.venv-core PYTEST_ONLY=1 scripts/run-tests.sh

setup: system-deps python-deps npm-deps contracts

system-deps:
	@scripts/system-deps.sh $(APT_PACKAGES)

python-deps: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || "$$(scripts/find-python.sh $(PY))" -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS)]'
	@touch $@

npm-deps: $(NPM_DIR)/node_modules/.installed

$(NPM_DIR)/node_modules/.installed: $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	cd $(NPM_DIR) && npm ci --no-audit --no-fund
	@touch $@

contracts: npm-deps
	@scripts/build-contracts.sh

lint: python-deps
	$(BIN)/ruff check .

screenshots: setup
	@scripts/screenshots.sh

bench: setup
	@scripts/bench.sh

# The desktop bundle (PyInstaller, one folder, with a .desktop file and the icon) in
# build/bundle-$(PYVER)/; rebuilt only when a source file changed.
bundle: setup
	$(BIN)/python scripts/build_bundle.py

# A wheel in build/dist/ (what pip/pipx install).
wheel: python-deps
	$(BIN)/python -m pip wheel --no-deps -q -w build/dist .

clean:
	rm -rf .venv .venv-3.* .venv-core build $(NPM_DIR)/node_modules $(NPM_DIR)/out $(NPM_DIR)/cache
