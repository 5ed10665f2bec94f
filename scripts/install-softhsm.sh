#!/usr/bin/env bash
# Installs SoftHSM2 (a PKCS#11 software token) for the pkcs11 conformance
# tests. Idempotent: does nothing when the module is already present.
set -euo pipefail
module="${SOFTHSM2_MODULE:-/usr/lib/softhsm/libsofthsm2.so}"
if [ -f "$module" ] && command -v softhsm2-util >/dev/null 2>&1; then
	exit 0
fi
bash "$(dirname "$0")/install-apt.sh" softhsm2
