#!/usr/bin/env bash
# Starts a sandbox on an ephemeral port, runs the official-Python-SDK interop script against it, stops it.
#
#   SANDBOX_CMD   command that starts the sandbox and accepts the `tunnelform sandbox` flags
#                 (default: the crate's `serve` example, built with cargo)
#   PYTHON        python with tencentcloud-sdk-python-vpc and -tag installed (default: python3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
python="${PYTHON:-python3}"
if [ -z "${SANDBOX_CMD:-}" ]; then
  (cd "$root" && cargo build -q -p tunnelform-sandbox --example serve)
  target="${CARGO_TARGET_DIR:-$root/target}"
  SANDBOX_CMD="$target/debug/examples/serve"
fi
log="$(mktemp)"
# shellcheck disable=SC2086
$SANDBOX_CMD --listen 127.0.0.1:0 --task-latency-ms 50 --uin "${SANDBOX_UIN:-100000000001}" --secret-id AKIDinterop --secret-key interopsecret >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
url=""
for _ in $(seq 1 300); do
  url="$(head -n1 "$log" | sed -n 's#^listening on http://##p')"
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "the sandbox did not start" >&2; cat "$log" >&2; exit 1; }
SANDBOX_ENDPOINT="$url" TENCENTCLOUD_SECRET_ID=AKIDinterop TENCENTCLOUD_SECRET_KEY=interopsecret \
  "$python" "$here/sdk_interop.py"
