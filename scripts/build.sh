#!/usr/bin/env bash
# Builds Rewind: the wasm hydrate bundle (cargo + wasm-bindgen), the CSS, and the server binary.
# Installs what is missing first (scripts/setup.sh).
#   scripts/build.sh            debug server, size-optimised bundle (profile wasm-release)
#   scripts/build.sh --dev      debug server, quick bundle (profile wasm-dev): the edit-reload loop
#   scripts/build.sh --release  optimised server, size-optimised bundle
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build

wasm_profile=wasm-release
server_profile=dev
server_flag=()
case "${1:-}" in
  --release) server_profile=release; server_flag=(--release) ;;
  --dev) wasm_profile=wasm-dev ;;
  "") ;;
  *) echo "usage: scripts/build.sh [--dev|--release]" >&2; exit 2 ;;
esac

echo "==> building the browser bundle (wasm32, profile ${wasm_profile})"
cargo build -p rewind-frontend --lib --target wasm32-unknown-unknown --profile "$wasm_profile"
mkdir -p target/site/pkg
wasm-bindgen --target web --no-typescript --out-dir target/site/pkg --out-name rewind \
  "target/wasm32-unknown-unknown/${wasm_profile}/rewind_frontend.wasm"
cp style/main.css target/site/pkg/rewind.css

echo "==> building the server (profile ${server_profile})"
cargo build -p rewind-server --bin rewind "${server_flag[@]}"
