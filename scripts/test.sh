#!/usr/bin/env bash
# Set up (system packages, test servers' packages, .venv), then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
