#!/usr/bin/env bash
# `npm start`: installs dependencies if needed, builds, and opens a real VS Code with the extension
# loaded, next to a local sample file server (scripts/start/file-server.ts) to download from.
#
#   - `code` on PATH: VS Code desktop, `code --extensionDevelopmentPath=<repo> <workspace>`.
#   - otherwise: code-server (VS Code in the browser), installed on demand into <repo>/.tools by
#     scripts/e2e/install-tools.sh, listening on http://127.0.0.1:$PORT without a password; the
#     extension is installed into its own extensions dir from a freshly packaged VSIX.
#
# Everything it keeps (code-server's user data, extensions, logs, the sample workspace) lives in
# <repo>/.tools/start (git-ignored); nothing is written to $HOME. Ctrl-C stops what it started.
#
# Environment:
#   PORT            code-server port (default 8080)
#   FILES_PORT      sample file server port (default PORT + 1)
#   FILES_RATE_MIB  file server throttle per connection in MiB/s (default 10; 0 = unthrottled)
#   START_EDITOR    auto | code | code-server (default auto: `code` if on PATH, else code-server)
#   START_DIR       state folder (default <repo>/.tools/start)
#   TOOLS_DIR       tools folder of scripts/e2e/install-tools.sh (default <repo>/.tools)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

PORT=${PORT:-8080}
FILES_PORT=${FILES_PORT:-$((PORT + 1))}
FILES_RATE_MIB=${FILES_RATE_MIB:-10}
START_EDITOR=${START_EDITOR:-auto}
TOOLS_DIR=${TOOLS_DIR:-$REPO/.tools}
START_DIR=${START_DIR:-$TOOLS_DIR/start}
WORKSPACE=$START_DIR/workspace
CS_BIN=$TOOLS_DIR/cs/node_modules/.bin/code-server
NODE24_BIN=$TOOLS_DIR/n24/node_modules/.bin

log() { echo "[start] $*"; }
die() { echo "[start] ERROR: $*" >&2; exit 1; }

# ------------------------------------------------------------------ processes we start
# Each server runs in its own session/process group (setsid), so that stopping it by its pid also
# stops its children (code-server's extension host, file watcher, ...), and so that Ctrl-C in this
# terminal reaches only this script, which then stops them in order.
PIDS=()
cleanup() {
  local status=$?
  # A second Ctrl-C (npm forwards the signal too) must not cut the clean-up short.
  trap - EXIT
  trap '' INT TERM
  if [ ${#PIDS[@]} -gt 0 ]; then
    log "stopping (pids ${PIDS[*]}) ..."
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
    local waited=0
    for pid in "${PIDS[@]}"; do
      while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
    done
    # Whatever is left of the groups (slow children) gets SIGKILL.
    for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    log "stopped."
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ------------------------------------------------------------------ dependencies and build
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies (npm ci) ..."
  npm ci --no-audit --no-fund
fi
log "building ..."
npm run --silent build

# ------------------------------------------------------------------ which editor
case "$START_EDITOR" in
  auto) if command -v code >/dev/null 2>&1; then EDITOR_KIND=code; else EDITOR_KIND=code-server; fi ;;
  code | code-server) EDITOR_KIND=$START_EDITOR ;;
  *) die "START_EDITOR must be auto, code or code-server (got '$START_EDITOR')" ;;
esac
if [ "$EDITOR_KIND" = code ]; then command -v code >/dev/null 2>&1 || die "START_EDITOR=code but 'code' is not on PATH"; fi

port_in_use "$FILES_PORT" && die "port $FILES_PORT (sample file server) is already in use; set FILES_PORT=<port>"
if [ "$EDITOR_KIND" = code-server ]; then
  port_in_use "$PORT" && die "port $PORT (code-server) is already in use; set PORT=<port>"
fi

# ------------------------------------------------------------------ sample workspace
mkdir -p "$WORKSPACE"
FILES_URL=http://127.0.0.1:$FILES_PORT
if [ "$FILES_RATE_MIB" = 0 ]; then RATE_TEXT="no limit"; else RATE_TEXT="$FILES_RATE_MIB MiB/s"; fi
readme=$WORKSPACE/README.md
if [ ! -f "$readme" ] || head -1 "$readme" | grep -q 'Sample workspace of `npm start`'; then
  sed -e "s|{{FILES}}|$FILES_URL|g" -e "s|{{RATE}}|$RATE_TEXT|g" scripts/start/workspace-README.md > "$readme"
fi

# ------------------------------------------------------------------ sample file server
log "starting the sample file server on $FILES_URL ..."
setsid node --import tsx scripts/start/file-server.ts --port "$FILES_PORT" --rate "$FILES_RATE_MIB" &
FILES_PID=$!
PIDS+=("$FILES_PID")
node scripts/start/wait-http.mjs "$FILES_URL/healthz" 30 "$FILES_PID" || die "the sample file server did not start"

print_files() {
  echo "  Sample files - paste a URL into \"Transfers: Download URL…\":"
  echo "    $FILES_URL/files/sample-1MiB.bin      (1 MiB)"
  echo "    $FILES_URL/files/sample-64MiB.bin     (64 MiB)"
  echo "    $FILES_URL/files/sample-512MiB.bin    (512 MiB)"
  echo "  Throttled to $RATE_TEXT per connection (?rate=<MiB/s> on a URL changes it)."
  echo "  Cut all running downloads:  curl -X POST $FILES_URL/drop"
  echo "  Change a file on the server: curl -X POST $FILES_URL/bump/sample-64MiB.bin"
  echo "  Workspace (downloads land here, README.md says what to try): $WORKSPACE"
}
banner() { echo; echo "=================================================================================="; }

# ------------------------------------------------------------------ VS Code desktop
if [ "$EDITOR_KIND" = code ]; then
  log "opening VS Code with the extension from $REPO ..."
  code --new-window --extensionDevelopmentPath="$REPO" "$WORKSPACE"
  banner
  echo "  VS Code opened an Extension Development Host window on the sample workspace."
  print_files
  echo
  echo "  Press Ctrl-C to stop the file server (close the VS Code window yourself)."
  echo "=================================================================================="
  echo
  wait "$FILES_PID" || true
  PIDS=()
  die "the sample file server stopped unexpectedly"
fi

# ------------------------------------------------------------------ code-server
if [ ! -x "$CS_BIN" ] || [ ! -x "$NODE24_BIN/node" ]; then
  log "code-server is not installed yet: running scripts/e2e/install-tools.sh (Node 24 + code-server into $TOOLS_DIR, a few minutes) ..."
  # Without the npm_* variables of this `npm start`: the npm inside install-tools.sh would take
  # them as its own config (npm_config_user_agent names this Node, and code-server's postinstall
  # checks the Node major version in it).
  (
    while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^npm_' || true)
    TOOLS_DIR=$TOOLS_DIR bash scripts/e2e/install-tools.sh
  )
fi

UD=$START_DIR/user-data
EXT=$START_DIR/extensions
CONFIG=$START_DIR/config.yaml
mkdir -p "$UD/User" "$EXT" "$START_DIR/xdg-data" "$START_DIR/xdg-config" "$START_DIR/xdg-cache"
# User settings: a quiet workbench; written once, your changes are kept.
[ -f "$UD/User/settings.json" ] || cp scripts/start/settings.json "$UD/User/settings.json"
printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$PORT" > "$CONFIG"

# code-server needs Node 24; its logs and any default config go to the state folder, not $HOME;
# no extension gallery (nothing to fetch from the internet).
cs_env=(env "PATH=$NODE24_BIN:$PATH" "XDG_DATA_HOME=$START_DIR/xdg-data" "XDG_CONFIG_HOME=$START_DIR/xdg-config"
  "XDG_CACHE_HOME=$START_DIR/xdg-cache" "EXTENSIONS_GALLERY={}")
cs_dirs=(--config "$CONFIG" --user-data-dir "$UD" --extensions-dir "$EXT")

VSIX=$START_DIR/resumable-transfers.vsix
log "packaging the extension ($VSIX) ..."
if ! XDG_CONFIG_HOME=$START_DIR/xdg-config XDG_DATA_HOME=$START_DIR/xdg-data \
    node node_modules/@vscode/vsce/vsce package --no-dependencies --no-rewrite-relative-links -o "$VSIX" > "$START_DIR/vsce.log" 2>&1; then
  cat "$START_DIR/vsce.log" >&2
  die "vsce package failed"
fi
log "installing it into code-server ..."
if ! "${cs_env[@]}" "$CS_BIN" "${cs_dirs[@]}" --install-extension "$VSIX" --force > "$START_DIR/install-extension.log" 2>&1; then
  cat "$START_DIR/install-extension.log" >&2
  die "code-server --install-extension failed"
fi

CS_LOG=$START_DIR/code-server.log
log "starting code-server on http://127.0.0.1:$PORT (log: $CS_LOG) ..."
echo "==== $(date -u +%FT%TZ) npm start" >> "$CS_LOG"
setsid "${cs_env[@]}" "$CS_BIN" "${cs_dirs[@]}" --bind-addr "127.0.0.1:$PORT" --auth none \
  --disable-telemetry --disable-update-check --disable-getting-started-override --disable-workspace-trust \
  "$WORKSPACE" >> "$CS_LOG" 2>&1 &
CS_PID=$!
PIDS+=("$CS_PID")
if ! node scripts/start/wait-http.mjs "http://127.0.0.1:$PORT/healthz" 120 "$CS_PID"; then
  tail -30 "$CS_LOG" >&2
  die "code-server did not start (log: $CS_LOG)"
fi

WS_URI=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]).replace(/%2F/g, "/"))' "$WORKSPACE")
banner
echo "  VS Code (code-server) with Resumable Transfers - open in your browser:"
echo
echo "    http://127.0.0.1:$PORT/?folder=$WS_URI"
echo
print_files
echo
echo "  After changing the code, stop with Ctrl-C and run npm start again (it rebuilds and reinstalls)."
echo "  Press Ctrl-C to stop code-server and the file server."
echo "=================================================================================="
echo

# Run until Ctrl-C, or until one of the servers exits by itself.
set +e
wait -n "$FILES_PID" "$CS_PID"
status=$?
set -e
if kill -0 "$FILES_PID" 2>/dev/null; then
  log "code-server exited (status $status); last lines of $CS_LOG:"
  tail -20 "$CS_LOG" >&2
else
  log "the sample file server exited (status $status)"
fi
exit 1
