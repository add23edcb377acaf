#!/usr/bin/env bash
# From nothing to a verified join: start Joinery, register a network server, import a device
# with its root key, and join it with the built-in device + network server simulator.
#
# Run from anywhere after `npm install` at the repository root:  bash examples/quickstart/quickstart.sh
# Everything goes into a temporary directory, removed at the end (KEEP=1 keeps it).
# Ports: BI_PORT (default 8003) and ADMIN_PORT (default 8090).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
joinery() { node "$ROOT/core/bin/joinery.js" "$@"; }
# GET a URL and print its body; fails unless the answer is 2xx (node, so no curl is needed).
http_get() { node -e 'fetch(process.argv[1]).then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); }, () => process.exit(1))' "$1"; }
BI_PORT="${BI_PORT:-8003}"
ADMIN_PORT="${ADMIN_PORT:-8090}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/joinery-quickstart.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; fi
  if [ "${KEEP:-0}" = "1" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
export JOINERY_DATA_DIR="$WORK/data"

echo "== 1. start the Join Server (data in $JOINERY_DATA_DIR)"
# node itself in the background (not through the joinery function), so $! is the server's PID.
node "$ROOT/core/bin/joinery.js" serve --bi-listen "127.0.0.1:$BI_PORT" --admin-listen "127.0.0.1:$ADMIN_PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
# Ready when it says where it listens; if it exits first (a port in use...), show why.
for _ in $(seq 1 300); do
  if grep -q "Backend Interfaces on" "$WORK/server.log"; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/server.log"; exit 1; fi
  sleep 0.1
done
grep -q "Backend Interfaces on" "$WORK/server.log" || { echo "the server did not start" >&2; cat "$WORK/server.log"; exit 1; }
http_get "http://127.0.0.1:$ADMIN_PORT/readyz"; echo

echo "== 2. register a network server (a ChirpStack with NetID 000013) and get its credential bundle"
joinery ns add --name my-chirpstack --net-id 000013 --vendor chirpstack \
  --public-url "https://localhost:$BI_PORT" --out "$WORK/my-chirpstack"

echo "== 3. import a LoRaWAN 1.0.3 device and a LoRaWAN 1.1 device with their root keys"
cat >"$WORK/devices.csv" <<'CSV'
dev_eui,join_eui,mac_version,app_key,nwk_key
0004a30b001c0530,70b3d57ed0000000,1.0.3,2b7e151628aed2a6abf7158809cf4f3c,
0004a30b001c0531,70b3d57ed0000000,1.1,8f4e2a6d1c3b5a7e9f0d2c4b6a8e0f1d,3c1a5e7b9d2f4a6c8e0b1d3f5a7c9e2b
CSV
joinery devices import "$WORK/devices.csv" --ns my-chirpstack
joinery devices list

echo "== 4. join them through the running Join Server, as the device and the network server would"
joinery simulate join --bundle "$WORK/my-chirpstack" \
  --dev-eui 0004a30b001c0530 --join-eui 70b3d57ed0000000 --mac-version 1.0.3 \
  --app-key 2b7e151628aed2a6abf7158809cf4f3c
joinery simulate join --bundle "$WORK/my-chirpstack" \
  --dev-eui 0004a30b001c0531 --join-eui 70b3d57ed0000000 --mac-version 1.1 \
  --app-key 8f4e2a6d1c3b5a7e9f0d2c4b6a8e0f1d --nwk-key 3c1a5e7b9d2f4a6c8e0b1d3f5a7c9e2b
# The device joins again: a higher DevNonce, and the Join Server issues a higher JoinNonce.
joinery simulate join --bundle "$WORK/my-chirpstack" \
  --dev-eui 0004a30b001c0531 --join-eui 70b3d57ed0000000 --mac-version 1.1 \
  --app-key 8f4e2a6d1c3b5a7e9f0d2c4b6a8e0f1d --nwk-key 3c1a5e7b9d2f4a6c8e0b1d3f5a7c9e2b

echo "== 5. what the Join Server knows of the device (never a key)"
joinery devices show 0004a30b001c0531

echo "== 6. the server's log: one line per join, no keys"
grep '"bi request"' "$WORK/server.log"
for key in 2b7e151628aed2a6abf7158809cf4f3c 8f4e2a6d1c3b5a7e9f0d2c4b6a8e0f1d 3c1a5e7b9d2f4a6c8e0b1d3f5a7c9e2b; do
  if grep -qi "$key" "$WORK/server.log"; then echo "a root key appears in the server log" >&2; exit 1; fi
done
echo "quickstart: all joins verified"
