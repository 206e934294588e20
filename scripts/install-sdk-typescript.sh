#!/usr/bin/env bash
# Installs the TypeScript SDK's npm dependencies (pinned in sdk/typescript/package-lock.json)
# into sdk/typescript/node_modules, with npm's cache under .tools/npm-cache, then generates the
# code from proto/ and compiles it (sdk/typescript/dist). Nothing is installed globally.
# Prints the SDK directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SDK="$ROOT/sdk/typescript"

if ! command -v npm >/dev/null 2>&1; then
  echo "install-sdk-typescript: npm not found; install Node.js 18 or newer and npm (https://nodejs.org)" >&2
  exit 1
fi

export npm_config_cache="$ROOT/.tools/npm-cache"
cd "$SDK"
# npm records what it installed in node_modules/.package-lock.json: install again only when
# the lock file changed since.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund >&2
fi
# Generate and compile again only when a contract, a source or the build setup is newer than
# the last build.
stamp=dist/.built
if [[ ! -f "$stamp" ]] || [[ -n "$(find ../../proto -name '*.proto' -newer "$stamp" -print -quit)" ]] \
    || [[ -n "$(find src/index.ts test buf.gen.yaml tsconfig.json package-lock.json -newer "$stamp" -print -quit)" ]]; then
  rm -rf src/gen dist
  npm run --silent build >&2
  touch "$stamp"
fi
echo "$SDK"
