#!/usr/bin/env bash
# Install her2kg with its test dependencies into .venv (as users install it: not editable)
# then lint (ruff), type-check (mypy --strict), run `her2kg check` and the whole test suite, the tests marked slow, virtuoso, browser and spark included
# (a plain `pytest` deselects those). As root it also installs the system packages some tests
# need: Virtuoso (remote-store tests) and Chromium (browser test), from Debian's packages.
# Arguments go to pytest; a `-m EXPR` among them replaces the selection of everything.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
    [ -f scripts/ci-virtuoso.sh ] && bash scripts/ci-virtuoso.sh
    bash scripts/ci-browser.sh
fi

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet '.[test]'
.venv/bin/ruff check her2kg
.venv/bin/mypy --strict her2kg
.venv/bin/her2kg check
.venv/bin/python -m pytest -q -m "" "$@"  # an empty marker expression selects every test
