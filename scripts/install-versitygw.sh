#!/usr/bin/env bash
# Installs versitygw (an S3-compatible gateway; we run its posix backend) into
# <repo>/.tools/bin for the storage/s3 conformance and uploader fault tests.
# Idempotent: skips when the binary is present.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="$repo/.tools/bin"
version="v1.8.0"
if [ -x "$bin/versitygw" ]; then
	exit 0
fi
mkdir -p "$bin"
echo "installing versitygw@$version into $bin" >&2
GOBIN="$bin" go install "github.com/versity/versitygw/cmd/versitygw@$version"
