#!/usr/bin/env bash
# Installs sipp (Debian package sip-tester) for the SIPREC tests. Idempotent:
# does nothing when sipp is present.
set -euo pipefail
if command -v sipp >/dev/null 2>&1; then
	exit 0
fi
bash "$(dirname "$0")/install-apt.sh" sip-tester
command -v sipp >/dev/null
