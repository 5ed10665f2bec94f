#!/usr/bin/env bash
# Installs versitygw (an S3-compatible gateway; we run its posix backend) into
# <repo>/.tools/bin for the storage/s3 conformance and uploader fault tests.
# Idempotent: skips when the binary there is already this version (a version
# bump here reinstalls).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="$repo/.tools/bin"
version="v1.8.0"
have() { [ -x "$bin/versitygw" ] && [ "$(go version -m "$bin/versitygw" 2>/dev/null | awk '$1 == "mod" { print $3; exit }')" = "$version" ]; }
have && exit 0
mkdir -p "$bin"
exec 9>"$bin/.versitygw.lock"
flock 9
have && exit 0 # installed by a concurrent caller while we waited
echo "installing versitygw@$version into $bin" >&2
GOBIN="$bin" go install "github.com/versity/versitygw/cmd/versitygw@$version"
