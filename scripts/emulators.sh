#!/usr/bin/env bash
# Starts the object-store emulators the storage tests run against, on loopback, in memory:
#   Azurite (Azure Blob, npm)  http://127.0.0.1:10000, account devstoreaccount1, container rewind-tests
#   moto    (S3, PyPI)         http://127.0.0.1:5000,  bucket rewind-tests
# and waits until both answer. `scripts/emulators.sh start` leaves them running and prints their
# process ids; `scripts/emulators.sh stop PID…` ends them. scripts/setup.sh test installs them.
set -euo pipefail
cd "$(dirname "$0")/emulators"

case "${1:-start}" in
  stop)
    shift
    kill "$@" 2>/dev/null || true
    exit 0
    ;;
  start) ;;
  *) echo "usage: $0 start | stop PID…" >&2; exit 2 ;;
esac

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in 10000 5000; do
  if up "$port"; then
    echo "ERROR: 127.0.0.1:$port is taken; the storage emulators need it" >&2
    exit 1
  fi
done

log=${TMPDIR:-/tmp}/rewind-emulators
mkdir -p "$log"
node_modules/.bin/azurite-blob --blobHost 127.0.0.1 --blobPort 10000 --inMemoryPersistence --disableTelemetry \
  --skipApiVersionCheck --silent >"$log/azurite.log" 2>&1 &
azurite=$!
.venv/bin/moto_server -H 127.0.0.1 -p 5000 >"$log/moto.log" 2>&1 &
moto=$!
trap 'kill "$azurite" "$moto" 2>/dev/null || true' ERR

for _ in $(seq 1 100); do
  if up 10000 && up 5000; then break; fi
  sleep 0.2
done
if ! up 10000 || ! up 5000; then
  echo "ERROR: the storage emulators did not start; see $log" >&2
  kill "$azurite" "$moto" 2>/dev/null || true
  exit 1
fi

.venv/bin/python - <<'PY'
import boto3
from azure.storage.blob import BlobServiceClient

BlobServiceClient.from_connection_string("UseDevelopmentStorage=true").create_container("rewind-tests")
boto3.client(
    "s3", endpoint_url="http://127.0.0.1:5000", region_name="us-east-1",
    aws_access_key_id="test", aws_secret_access_key="test",
).create_bucket(Bucket="rewind-tests")
PY
echo "$azurite $moto"
