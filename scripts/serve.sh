#!/usr/bin/env bash
# Serve the API and the 3D twin (called by `make run` after setup and the sample load).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/twin serve "$@"
