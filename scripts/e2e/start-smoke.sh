#!/usr/bin/env bash
# Smoke test of the README's first command: `npm start` builds, packages and installs the
# extension into code-server, serves the sample files, and stops everything on Ctrl-C.
# Prints a mocha-style "N passing" / "N failing" line so .ci/run counts it.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
# Two ports the system handed out, not PORT+1: a neighbour port may well be taken.
PORT=${START_SMOKE_PORT:-$(free_port)}
FILES_PORT=$(free_port)
while [ "$FILES_PORT" = "$PORT" ]; do FILES_PORT=$(free_port); done
LOG=$(mktemp)
fail() { echo "start smoke: FAIL: $*"; tail -30 "$LOG"; echo "  0 passing"; echo "  1 failing"; rm -f "$LOG"; exit 1; }

START_EDITOR=code-server PORT=$PORT FILES_PORT=$FILES_PORT setsid bash scripts/start.sh > "$LOG" 2>&1 &
PID=$!
# SIGTERM, not SIGINT: a background job of a non-interactive shell starts with SIGINT ignored.
stop() {
  kill -TERM -- "-$PID" 2>/dev/null
  for _ in $(seq 1 40); do kill -0 "$PID" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL -- "-$PID" 2>/dev/null
  # start.sh runs its servers in their own process groups: stop whatever still listens on our ports.
  for pid in $(ss -ltnpH "( sport = :$PORT or sport = :$FILES_PORT )" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    kill -TERM "$pid" 2>/dev/null
  done
}
trap stop EXIT

up=
for _ in $(seq 1 240); do
  if curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; then up=1; break; fi
  kill -0 "$PID" 2>/dev/null || break
  sleep 1
done
[ -n "$up" ] || fail "code-server did not come up"
grep -q "resumable-transfers" "$LOG" || fail "the extension was not packaged and installed"
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Range: bytes=0-99' "http://127.0.0.1:$FILES_PORT/files/sample-1MiB.bin")
[ "$status" = 206 ] || fail "the sample file server answered $status to a Range request"
curl -sf "http://127.0.0.1:$PORT/" >/dev/null || fail "the workbench page did not load"

stop
trap - EXIT
sleep 1
if curl -s "http://127.0.0.1:$PORT/healthz" >/dev/null || curl -s "http://127.0.0.1:$FILES_PORT/files/" >/dev/null; then
  fail "something still listens after Ctrl-C"
fi
rm -f "$LOG"
echo "  ✓ npm start serves the editor with the extension and the sample files, and Ctrl-C stops both"
echo "  1 passing"
