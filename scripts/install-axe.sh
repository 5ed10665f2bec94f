#!/usr/bin/env bash
# Installs axe-core (the accessibility engine the console's browser tests
# inject into each page, tests/console) into <repo>/.tools/npm with npm,
# and Node/npm from Debian when missing. Idempotent: skips when that
# version is already there (a version bump here reinstalls).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="$repo/.tools/npm"
version="4.14.1"
have() { [ -f "$dir/node_modules/axe-core/axe.min.js" ] && grep -q "\"version\": \"$version\"" "$dir/node_modules/axe-core/package.json"; }
have && exit 0
command -v npm >/dev/null 2>&1 || bash "$repo/scripts/install-apt.sh" npm
mkdir -p "$dir"
exec 9>"$dir/.axe.lock"
flock 9
have && exit 0 # installed by a concurrent caller while we waited
echo "installing axe-core@$version into $dir" >&2
npm install --prefix "$dir" --no-audit --no-fund --no-save "axe-core@$version" >&2
