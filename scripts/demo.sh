#!/usr/bin/env bash
# `make demo`: a head on its embedded database fed by a simulated fleet (vigil simulate --demo), so every page has something to show.
#
# Settings (environment): VIGIL_LISTEN (default 127.0.0.1:8480: the password below is public), VIGIL_DATA_DIR (default
# ./vigil-demo-data; remove it to start afresh), VIGIL_ADMIN_PASSWORD (default vigil-demo; used when the directory is new),
# DEMO_WORKERS (12), DEMO_GPUS (8), BUN (the Bun to run; the Makefile passes its pinned one).
set -euo pipefail

cd "$(dirname "$0")/.."
BUN=${BUN:-.tools/bun-1.4.5/node_modules/.bin/bun}
if [[ ! -x $BUN ]]; then BUN=$(command -v bun || true); fi
if [[ -z $BUN ]]; then
  echo "error: no Bun found; run 'make demo' (it installs the pinned one) or set BUN" >&2
  exit 1
fi

LISTEN=${VIGIL_LISTEN:-127.0.0.1:8480}
DATA_DIR=${VIGIL_DATA_DIR:-./vigil-demo-data}
PASSWORD=${VIGIL_ADMIN_PASSWORD:-vigil-demo}
WORKERS=${DEMO_WORKERS:-12}
GPUS=${DEMO_GPUS:-8}
PORT=${LISTEN##*:}
HOST=${LISTEN%:*}
if [[ $LISTEN != *:* || -z $HOST || $HOST == 0.0.0.0 || $HOST == "[::]" ]]; then HOST=127.0.0.1; fi
URL="http://$HOST:$PORT"

mkdir -p "$DATA_DIR"
DATA_DIR=$(cd "$DATA_DIR" && pwd)
# Logs beside the data directory, not in it: the terminal stays free for the banner.
HEAD_LOG="$DATA_DIR.head.log"
SIM_LOG="$DATA_DIR.simulate.log"

head_pid=""
sim_pid=""
cleanup() {
  local code=$?
  trap - EXIT INT TERM
  if [[ -n $sim_pid ]] && kill -0 "$sim_pid" 2>/dev/null; then
    kill -TERM "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  if [[ -n $head_pid ]] && kill -0 "$head_pid" 2>/dev/null; then
    echo "stopping the head (pid $head_pid)"
    kill -TERM "$head_pid" 2>/dev/null || true
    # A head that does not stop within 20 s is killed: Ctrl-C must always end the demo.
    for _ in $(seq 200); do kill -0 "$head_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$head_pid" 2>/dev/null || true
    wait "$head_pid" 2>/dev/null || true
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The demo is about the simulated fleet: its own embedded database, no local agent, whatever DATABASE_URL says.
env -u DATABASE_URL VIGIL_DATA_DIR="$DATA_DIR" VIGIL_ADMIN_PASSWORD="$PASSWORD" VIGIL_LISTEN="$LISTEN" VIGIL_LOCAL_AGENT=false \
  "$BUN" src/main.ts serve >"$HEAD_LOG" 2>&1 &
head_pid=$!
echo "starting the head on $URL (data: $DATA_DIR, log: $HEAD_LOG)"

# Waits for /healthz; gives up when the head exits or after 60 s (the first start runs initdb).
if ! HEALTHZ="$URL/healthz" HEAD_PID="$head_pid" "$BUN" -e '
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try { process.kill(Number(process.env.HEAD_PID), 0); } catch { process.exit(2); }
    try { if ((await fetch(process.env.HEALTHZ)).ok) process.exit(0); } catch {}
    await Bun.sleep(200);
  }
  process.exit(1);
'; then
  echo "error: the head did not come up on $URL; the end of its log ($HEAD_LOG):" >&2
  tail -n 20 "$HEAD_LOG" >&2
  exit 1
fi

# The token goes through the running head (its admin socket in the data directory) and expires by itself.
if ! TOKEN=$(env -u DATABASE_URL VIGIL_DATA_DIR="$DATA_DIR" "$BUN" src/main.ts token create --name "demo simulator" --role admin --expires 1d 2>>"$HEAD_LOG"); then
  echo "error: could not create the simulator's token; the end of $HEAD_LOG:" >&2
  tail -n 5 "$HEAD_LOG" >&2
  exit 1
fi

VIGIL_TOKEN="$TOKEN" "$BUN" src/main.ts simulate --head "$URL" --workers "$WORKERS" --gpus "$GPUS" --interval 1 --demo \
  >"$SIM_LOG" 2>&1 &
sim_pid=$!

cat <<BANNER

  Vigil demo: $WORKERS simulated workers x $GPUS GPUs (vigil simulate --demo; log: $SIM_LOG)

    open:      $URL
    user:      admin
    password:  $PASSWORD   (unless you changed it in an earlier demo; data: $DATA_DIR)

  The last 2 hours of history arrive in the first seconds; the last worker then falls silent and shows
  offline after a minute. Ctrl-C stops the simulator and the head; remove $DATA_DIR to start afresh.

BANNER

# Whichever ends first ends the demo (the head crashing, or the simulator failing); the trap stops the other.
set +e
wait -n "$head_pid" "$sim_pid"
code=$?
set -e
if ! kill -0 "$head_pid" 2>/dev/null; then
  echo "error: the head stopped; the end of its log ($HEAD_LOG):" >&2
  tail -n 20 "$HEAD_LOG" >&2
else
  echo "error: the simulator stopped; the end of its log ($SIM_LOG):" >&2
  tail -n 20 "$SIM_LOG" >&2
fi
exit $((code == 0 ? 1 : code))
