#!/usr/bin/env bash
# Installs node's pm2 process manager into .tools/pm2/ at the repo root from npm, pinned, for
# the battle test of the seeds' own config (start: pm2 start index.js, postflight: pm2 list).
# A prefix of its own: npm prunes what it did not install itself from a shared one (buf).
# Prints the path of the pm2 binary.
set -euo pipefail

PM2_VERSION="7.0.4"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$ROOT/.tools/pm2"
PM2="$PREFIX/node_modules/.bin/pm2"

installed_version() {
  node -e "console.log(require('$PREFIX/node_modules/pm2/package.json').version)" 2>/dev/null
}

if [[ -x "$PM2" ]] && [[ "$(installed_version)" == "$PM2_VERSION" ]]; then
  echo "$PM2"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "install-pm2: node and npm not found; install Node.js and npm (https://nodejs.org) to get pm2" >&2
  exit 1
fi

mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-save --no-audit --no-fund "pm2@$PM2_VERSION" >&2

if [[ ! -x "$PM2" ]] || [[ "$(installed_version)" != "$PM2_VERSION" ]]; then
  echo "install-pm2: installed pm2@$PM2_VERSION but $PM2 is missing or reports another version" >&2
  exit 1
fi
echo "$PM2"
