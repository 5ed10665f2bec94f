#!/usr/bin/env bash
# Installs local-kms (an AWS KMS emulator) into <repo>/.tools/bin for the
# awskms conformance and broker fault tests. Idempotent: skips when the
# binary there is already this version (a version bump here reinstalls).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="$repo/.tools/bin"
module="github.com/nsmithuk/local-kms"
version="v0.0.0-20260228092603-2a5e92d09ab6"
have() { [ -x "$bin/local-kms" ] && [ "$(go version -m "$bin/local-kms" 2>/dev/null | awk '$1 == "mod" { print $3; exit }')" = "$version" ]; }
have && exit 0
mkdir -p "$bin"
exec 9>"$bin/.local-kms.lock"
flock 9
have && exit 0 # installed by a concurrent caller while we waited
echo "installing local-kms@$version into $bin" >&2
GOBIN="$bin" GOFLAGS=-mod=mod go install "$module@$version"
