#!/usr/bin/env bash
# Installs what Rewind needs on a fresh Debian machine, skipping whatever is already there.
#   scripts/setup.sh build   the wasm target and a wasm-bindgen CLI matching Cargo.lock
#   scripts/setup.sh test    the above, plus Chromium, Playwright, the Cosmos DB SDKs and the object-store
#                            emulators Azurite and moto (npm, PyPI)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-build}"

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  echo "==> adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [[ "$have" != "$want" ]]; then
  echo "==> installing wasm-bindgen-cli $want (about 2 minutes, once)"
  cargo install --force wasm-bindgen-cli --version "$want"
fi

if [[ "$what" == "test" ]]; then
  if ! command -v chromium >/dev/null; then
    echo "==> installing Chromium (Debian package) for the browser tests"
    if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq chromium >/dev/null
  fi
  if [[ ! -d sdk-tests/node/node_modules/@azure/cosmos ]]; then
    echo "==> installing the official Cosmos DB SDK for the SDK tests (npm)"
    (cd sdk-tests/node && npm ci --no-audit --no-fund)
  fi
  if [[ ! -x sdk-tests/python/.venv/bin/python ]] || ! sdk-tests/python/.venv/bin/python -c 'import azure.cosmos' 2>/dev/null; then
    echo "==> installing the official Cosmos DB SDK for Python (PyPI, in sdk-tests/python/.venv)"
    python3 -m venv sdk-tests/python/.venv
    sdk-tests/python/.venv/bin/pip install --quiet --disable-pip-version-check -r sdk-tests/python/requirements.txt
  fi
  if [[ ! -x scripts/emulators/node_modules/.bin/azurite-blob ]]; then
    echo "==> installing Azurite, the Azure Blob emulator, for the storage tests (npm)"
    (cd scripts/emulators && npm ci --no-audit --no-fund)
  fi
  if [[ ! -x scripts/emulators/.venv/bin/moto_server ]]; then
    echo "==> installing moto, the S3 emulator, for the storage tests (PyPI, in scripts/emulators/.venv)"
    python3 -m venv scripts/emulators/.venv
    scripts/emulators/.venv/bin/pip install --quiet --disable-pip-version-check -r scripts/emulators/requirements.txt
  fi
  if [[ ! -d end2end/node_modules/@playwright/test ]]; then
    echo "==> installing the end-to-end test packages (npm)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
fi
