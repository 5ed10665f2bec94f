#!/usr/bin/env bash
# Installs the npm standardwebhooks package (the Standard Webhooks
# verifier the receiver of tests/events runs under node, so signatures are
# checked by a library written apart from ceremony/events) into
# <repo>/.tools/npm-standardwebhooks (apart from .tools/npm: an npm install
# there with --no-save removes packages it was not given, such as axe-core), and Node/npm from Debian when missing. Idempotent:
# skips when that version is already there (a version bump reinstalls).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="$repo/.tools/npm-standardwebhooks"
version="1.1.1"
have() { [ -f "$dir/node_modules/standardwebhooks/package.json" ] && grep -q "\"version\": \"$version\"" "$dir/node_modules/standardwebhooks/package.json"; }
have && exit 0
command -v npm >/dev/null 2>&1 || bash "$repo/scripts/install-apt.sh" npm
mkdir -p "$dir"
exec 9>"$dir/.standardwebhooks.lock"
flock 9
have && exit 0 # installed by a concurrent caller while we waited
echo "installing standardwebhooks@$version into $dir" >&2
npm install --prefix "$dir" --no-audit --no-fund --no-save "standardwebhooks@$version" >&2
