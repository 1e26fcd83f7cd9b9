#!/usr/bin/env bash
# Runs every test tier and exits non-zero on any failure:
#   lints (rustfmt, clippy, server and browser builds), unit tests, integration tests against SQLite and
#   PostgreSQL, backup storage on a local folder, S3 (moto) and Azure Blob (Azurite), the official
#   @azure/cosmos SDK against a running Rewind, and the Playwright
#   browser tests in headless Chromium.
# PostgreSQL: REWIND_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test). When it
# cannot be reached that tier is skipped with a loud warning, unless REWIND_REQUIRE_POSTGRES=1
# (set by .ci/run), which makes it a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

scripts/setup.sh test

pg_url="${REWIND_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
export REWIND_TEST_POSTGRES_URL="$pg_url"
pg_hostport=$(sed -E 's#^[a-z]+://([^@/]*@)?([^/?]+).*#\2#' <<<"$pg_url")
pg_host=${pg_hostport%:*}; pg_port=${pg_hostport##*:}
[[ "$pg_port" == "$pg_hostport" ]] && pg_port=5432
pg_up() { (exec 3<>"/dev/tcp/${pg_host}/${pg_port}") 2>/dev/null; }
skip=()
if ! pg_up; then
  if [[ "${REWIND_REQUIRE_POSTGRES:-0}" == "1" ]]; then
    echo "ERROR: PostgreSQL is required but not reachable at ${pg_host}:${pg_port}" >&2
    exit 1
  fi
  echo "############################################################################"
  echo "## WARNING: PostgreSQL not reachable at ${pg_host}:${pg_port}."
  echo "## SKIPPING the PostgreSQL integration tier; only SQLite will be tested."
  echo "############################################################################"
  skip=(--skip postgres)
fi

echo "==> object-store emulators (Azurite for Azure Blob, moto for S3) on loopback"
emulators=$(scripts/emulators.sh start)
trap 'rm -f "$log"; scripts/emulators.sh stop $emulators' EXIT

echo "==> build (browser bundle and server)"
scripts/build.sh

echo "==> rustfmt (rustfmt.toml)"
cargo fmt --all -- --check

echo "==> clippy: server side (ssr) and browser side (hydrate, wasm32)"
cargo clippy --all-targets -- -D warnings
cargo clippy -p rewind-frontend --target wasm32-unknown-unknown -- -D warnings

echo "==> unit and integration tests"
cargo test 2>&1 -- "${skip[@]}" | tee -a "$log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || exit 1

echo "==> official SDK tests (@azure/cosmos and azure-cosmos against a running Rewind)"
node --test sdk-tests/node/ 2>&1 | tee -a "$log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || exit 1

sdk-tests/python/.venv/bin/python sdk-tests/python/test_sdk.py 2>&1 | tee -a "$log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || exit 1

echo "==> browser tests (Playwright, headless Chromium)"
(cd end2end && npx playwright test) 2>&1 | tee -a "$log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || exit 1

cargo_passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
e2e_passed=$(grep -Eo '^ +[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
sdk_passed=$(grep -Eo '^# pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
py_passed=$(grep -Eo '^python-sdk: [0-9]+ passed' "$log" | awk '{s+=$2} END {print s+0}')
if [[ ${#skip[@]} -gt 0 ]]; then echo "NOTE: the PostgreSQL tier was skipped (see the warning above)."; fi
echo "tests: $((cargo_passed + sdk_passed + py_passed + e2e_passed)) passed, 0 failed"
