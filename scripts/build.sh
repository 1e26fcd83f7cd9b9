#!/usr/bin/env bash
# Builds Rewind: the wasm hydrate bundle (cargo + wasm-bindgen), the CSS, and the server binary.
# Installs what is missing first (scripts/setup.sh). Usage: scripts/build.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."

"$(dirname "$0")/setup.sh" build

server_profile=dev
server_flag=()
if [[ "${1:-}" == "--release" ]]; then server_profile=release; server_flag=(--release); fi

echo "==> building the browser bundle (wasm32, profile wasm-release)"
cargo build -p rewind-frontend --lib --target wasm32-unknown-unknown --profile wasm-release
mkdir -p target/site/pkg
wasm-bindgen --target web --no-typescript --out-dir target/site/pkg --out-name rewind \
  target/wasm32-unknown-unknown/wasm-release/rewind_frontend.wasm
cp style/main.css target/site/pkg/rewind.css

echo "==> building the server (profile ${server_profile})"
cargo build -p rewind-server --bin rewind "${server_flag[@]}"
