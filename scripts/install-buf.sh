#!/usr/bin/env bash
# Installs the buf CLI (lint, breaking-change checks, `buf curl`) into .tools/ at the repo root
# from npm, pinned to the version in STACK.md. Prints the path of the buf binary.
set -euo pipefail

BUF_VERSION="1.75.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUF="$ROOT/.tools/node_modules/.bin/buf"

if [[ -x "$BUF" ]] && "$BUF" --version >/dev/null 2>&1; then
  echo "$BUF"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-buf: npm not found; install Node.js and npm (https://nodejs.org) to get buf" >&2
  exit 1
fi

mkdir -p "$ROOT/.tools"
# npm 11 skips buf's postinstall script with a warning; the binary still works through the
# @bufbuild/buf-linux-x64 (or matching platform) optional dependency.
npm install --prefix "$ROOT/.tools" --no-save --no-audit --no-fund "@bufbuild/buf@$BUF_VERSION" >&2

if ! "$BUF" --version >/dev/null 2>&1; then
  echo "install-buf: installed @bufbuild/buf@$BUF_VERSION but $BUF does not run" >&2
  exit 1
fi
echo "$BUF"
