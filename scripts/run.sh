#!/usr/bin/env bash
# Builds Rewind (installing what it needs) and serves the portal on http://127.0.0.1:3000.
# Data lives in ./data; settings come from rewind.toml and REWIND_* variables (see README).
#   scripts/run.sh [--dev|--release]   (see scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh "$@"
profile=debug
if [[ "${1:-}" == "--release" ]]; then profile=release; fi
exec "target/${profile}/rewind"
