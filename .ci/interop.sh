#!/usr/bin/env bash
# Interop test: Tencent Cloud's official Python SDK (and, best effort, the official CLI tccli) against
# `tunnelform sandbox`. Run by .ci/run after `cargo test`; by hand: `bash .ci/interop.sh`.
#
# 1. builds the binary (`cargo build --bin tunnelform`; honours CARGO_TARGET_DIR),
# 2. makes a Python venv under <target>/interop/ with the machine's python3 and installs the pinned SDK from
#    PyPI (reused on later runs while the pins are unchanged),
# 3. starts `tunnelform sandbox --listen 127.0.0.1:0 ...` and reads the port from its first stdout line,
# 4. runs tests/interop/sdk_interop.py (one test per check) and one tccli call if tccli could be installed,
# 5. stops the sandbox and prints `interop: N passed, M failed` as its last line; exits non-zero on any failure.
#
# Environment: INTEROP_TCCLI=0 skips tccli; INTEROP_PYTHON picks the interpreter (default python3).
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

# Pinned versions (all exist on PyPI). tccli is installed without its dependency on the full
# tencentcloud-sdk-python (hundreds of MB); the few modules it imports at start-up are listed instead.
SDK_PINS=(
  "tencentcloud-sdk-python-common==3.1.195"
  "tencentcloud-sdk-python-vpc==3.1.193"
  "tencentcloud-sdk-python-tag==3.1.109"
)
TCCLI_PIN="tccli==3.1.189.1"
TCCLI_DEPS=(
  "jmespath==1.1.0"
  "six==1.17.0"
  "cos-python-sdk-v5==1.9.44"
  "tencentcloud-sdk-python-cvm==3.1.178"
)

SANDBOX_SECRET_ID=AKIDsandbox
SANDBOX_SECRET_KEY=sandboxsecret
REGION=ap-guangzhou

PASSED=0
FAILED=0
SANDBOX_PID=""

finish() {
  local rc=$?
  if [ -n "$SANDBOX_PID" ] && kill -0 "$SANDBOX_PID" 2>/dev/null; then
    kill "$SANDBOX_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$SANDBOX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SANDBOX_PID" 2>/dev/null
  fi
  return $rc
}
trap finish EXIT

summary_and_exit() {
  echo "interop: ${PASSED} passed, ${FAILED} failed"
  if [ "$FAILED" -ne 0 ]; then exit 1; fi
  exit 0
}

fatal() {  # a failure that stops the run; counted as one failed test
  echo "interop: FATAL: $*" >&2
  FAILED=$((FAILED + 1))
  summary_and_exit
}

pip_quiet() {  # pip install into venv $1, bounded; the rest are pip arguments
  local venv=$1; shift
  timeout 300 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --timeout 60 "$@"
}

TARGET_DIR=${CARGO_TARGET_DIR:-target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
WORK="$TARGET_DIR/interop"
mkdir -p "$WORK" || fatal "cannot create $WORK"

# --- 1. the binary ---------------------------------------------------------------------------------------------
echo "== interop: cargo build --bin tunnelform"
timeout 1800 cargo build --bin tunnelform || fatal "cargo build --bin tunnelform failed"
BIN="$TARGET_DIR/debug/tunnelform"
[ -x "$BIN" ] || fatal "no binary at $BIN"

# --- 2. the venv with the official SDK --------------------------------------------------------------------------
PY=${INTEROP_PYTHON:-python3}
VENV="$WORK/venv"
STAMP="$VENV/.interop-pins"
WANT_STAMP="$("$PY" --version 2>&1) ${SDK_PINS[*]}"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT_STAMP" ]; then
  echo "== interop: creating venv $VENV and installing ${SDK_PINS[*]}"
  rm -rf "$VENV"
  timeout 120 "$PY" -m venv "$VENV" || fatal "python venv creation failed ($PY)"
  pip_quiet "$VENV" "${SDK_PINS[@]}" || fatal "pip install of the official SDK failed"
  echo "$WANT_STAMP" > "$STAMP"
else
  echo "== interop: reusing venv $VENV (${SDK_PINS[*]})"
fi

install_tccli() {  # into $1; returns non-zero if it cannot be installed
  local tvenv=$1
  timeout 60 "$PY" -m venv "$tvenv" || return 1
  pip_quiet "$tvenv" --no-deps "$TCCLI_PIN" || return 1
  # pip warns that tccli's declared dependency on the full SDK is not installed: expected, so hidden.
  pip_quiet "$tvenv" "${TCCLI_DEPS[@]}" "${SDK_PINS[@]}" 2>"$WORK/tccli-pip.err" || {
    cat "$WORK/tccli-pip.err" >&2; return 1; }
  [ -x "$tvenv/bin/tccli" ]
}

TCCLI=""
if [ "${INTEROP_TCCLI:-1}" != "0" ]; then
  TVENV="$WORK/tccli-venv"
  TSTAMP="$TVENV/.interop-pins"
  TWANT="$("$PY" --version 2>&1) $TCCLI_PIN ${TCCLI_DEPS[*]} ${SDK_PINS[*]}"
  if [ -x "$TVENV/bin/tccli" ] && [ "$(cat "$TSTAMP" 2>/dev/null)" = "$TWANT" ]; then
    TCCLI="$TVENV/bin/tccli"
    echo "== interop: reusing tccli in $TVENV"
  else
    echo "== interop: installing $TCCLI_PIN (best effort, bounded)"
    rm -rf "$TVENV"
    if install_tccli "$TVENV"; then
      echo "$TWANT" > "$TSTAMP"
      TCCLI="$TVENV/bin/tccli"
    else
      echo "interop: tccli could not be installed; skipping the tccli check (not a failure)"
      rm -rf "$TVENV"
    fi
  fi
fi

# --- 3. the sandbox ----------------------------------------------------------------------------------------------
OUT="$WORK/sandbox.stdout"
ERR="$WORK/sandbox.stderr"
: > "$OUT"
: > "$ERR"
echo "== interop: starting $BIN sandbox --listen 127.0.0.1:0 --task-latency-ms 200 --seed 7 --uin 100000000001"
# The default credentials are AKIDsandbox/sandboxsecret only when these variables are unset.
env -u TENCENTCLOUD_SECRET_ID -u TENCENTCLOUD_SECRET_KEY -u TENCENTCLOUD_SECURITY_TOKEN \
  "$BIN" sandbox --listen 127.0.0.1:0 --task-latency-ms 200 --seed 7 --uin 100000000001 >"$OUT" 2>"$ERR" &
SANDBOX_PID=$!

ADDR=""
for _ in $(seq 1 200); do  # up to 20 s
  FIRST=$(head -n 1 "$OUT" 2>/dev/null)
  case "$FIRST" in
    "listening on http://"*) ADDR=${FIRST#listening on http://}; break ;;
  esac
  kill -0 "$SANDBOX_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ADDR" ]; then
  echo "--- sandbox stdout:"; head -c 2000 "$OUT"; echo "--- sandbox stderr:"; tail -c 4000 "$ERR"
  fatal "the sandbox did not print 'listening on http://HOST:PORT' within 20 s (first line: '${FIRST:-}')"
fi
if ! [[ "$ADDR" =~ ^127\.0\.0\.1:[0-9]+$ ]]; then
  fatal "unexpected first line from the sandbox: '$FIRST'"
fi
echo "== interop: sandbox at http://$ADDR (pid $SANDBOX_PID)"

# Loopback must never go through a proxy.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

# --- 4a. the official SDK ----------------------------------------------------------------------------------------
RESULTS="$WORK/sdk-results.json"
rm -f "$RESULTS"
echo "== interop: official Python SDK ($(cd "$VENV" && bin/python -m pip list --disable-pip-version-check 2>/dev/null | awk '/^tencentcloud-sdk-python/ {printf "%s %s  ", $1, $2}'))"
timeout 100 "$VENV/bin/python" -u "$ROOT/tests/interop/sdk_interop.py" --endpoint "$ADDR" --region "$REGION" \
  --secret-id "$SANDBOX_SECRET_ID" --secret-key "$SANDBOX_SECRET_KEY" --results "$RESULTS" --budget 75
SDK_RC=$?
P=0; F=0
if [ -s "$RESULTS" ]; then
  read -r P F < <("$VENV/bin/python" -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(sum(1 for x in r if x["ok"]), sum(1 for x in r if not x["ok"]))' "$RESULTS")
fi
PASSED=$((PASSED + P))
FAILED=$((FAILED + F))
if [ "$SDK_RC" -ne 0 ] && [ "$F" -eq 0 ]; then
  # killed by the timeout (124), crashed before any check, or failed to import the SDK
  echo "FAIL - sdk_interop.py exited with $SDK_RC after $((P + F)) checks (124 = timed out)"
  FAILED=$((FAILED + 1))
fi
if [ "$((P + F))" -eq 0 ] && [ "$SDK_RC" -eq 0 ]; then
  echo "FAIL - sdk_interop.py ran no checks"
  FAILED=$((FAILED + 1))
fi

# --- 4b. the official CLI (best effort) --------------------------------------------------------------------------
if [ -n "$TCCLI" ]; then
  TCHOME="$WORK/tccli-home"   # tccli writes ~/.tccli/log; keep it out of the real home
  rm -rf "$TCHOME"; mkdir -p "$TCHOME"
  TOUT=$(HOME="$TCHOME" TENCENTCLOUD_SECRET_ID="$SANDBOX_SECRET_ID" TENCENTCLOUD_SECRET_KEY="$SANDBOX_SECRET_KEY" \
    timeout 45 "$TCCLI" vpc DescribeVpcs --endpoint "http://$ADDR" --region "$REGION" 2>&1)
  TRC=$?
  if [ "$TRC" -eq 0 ] && printf '%s' "$TOUT" | "$VENV/bin/python" -c '
import json, sys
d = json.load(sys.stdin)
ids = [v["VpcId"] for v in d.get("VpcSet", [])]
assert "vpc-sandbox1" in ids, ids
assert d.get("RequestId"), d' 2>/dev/null; then
    echo "ok   - tccli vpc DescribeVpcs --endpoint http://$ADDR lists vpc-sandbox1"
    PASSED=$((PASSED + 1))
  else
    echo "FAIL - tccli vpc DescribeVpcs --endpoint http://$ADDR (exit $TRC)"
    printf '%s\n' "$TOUT" | head -c 3000 | sed 's/^/       | /'
    FAILED=$((FAILED + 1))
  fi
fi

# --- 4c. the sandbox crate's own SDK walk-through (its own sandbox instance and credentials) ----------------------
SB_OUT=$(SANDBOX_CMD="$BIN sandbox" PYTHON="$VENV/bin/python" timeout 120 bash "$ROOT/crates/sandbox/interop/run.sh" 2>&1)
SB_RC=$?
SB_N=$(printf '%s' "$SB_OUT" | sed -n 's/^sdk interop: \([0-9]*\) checks passed.*/\1/p' | tail -1)
if [ "$SB_RC" -eq 0 ] && [ -n "$SB_N" ]; then
  echo "ok   - crates/sandbox/interop/sdk_interop.py: $SB_N checks passed"
  PASSED=$((PASSED + SB_N))
else
  echo "FAIL - crates/sandbox/interop/sdk_interop.py (exit $SB_RC)"
  printf '%s\n' "$SB_OUT" | tail -c 3000 | sed 's/^/       | /'
  FAILED=$((FAILED + 1))
fi

# --- 5. stop the sandbox -----------------------------------------------------------------------------------------
if ! kill -0 "$SANDBOX_PID" 2>/dev/null; then
  echo "FAIL - the sandbox died during the run"; tail -c 4000 "$ERR"
  FAILED=$((FAILED + 1))
fi
finish
SANDBOX_PID=""

summary_and_exit
