#!/usr/bin/env bash
# Builds the project and shows the command-line front end. (The editor experience is started
# from here once the VS Code layer exists.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build
node dist/cli.js --help
