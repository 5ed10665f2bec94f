#!/usr/bin/env bash
# Installs local-kms (an AWS KMS emulator) into <repo>/.tools/bin for the
# awskms conformance and broker fault tests. Idempotent: skips when present.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="$repo/.tools/bin"
version="v0.0.0-20260228092603-2a5e92d09ab6"
if [ -x "$bin/local-kms" ]; then
	exit 0
fi
mkdir -p "$bin"
echo "installing local-kms@$version into $bin" >&2
GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/nsmithuk/local-kms@$version"
