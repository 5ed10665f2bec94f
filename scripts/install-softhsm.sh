#!/usr/bin/env bash
# Installs SoftHSM2 (a PKCS#11 software token) for the pkcs11 conformance
# tests. Idempotent: does nothing when the module is already present.
set -euo pipefail
module="${SOFTHSM2_MODULE:-/usr/lib/softhsm/libsofthsm2.so}"
if [ -f "$module" ] && command -v softhsm2-util >/dev/null 2>&1; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "softhsm2 is missing and we are not root: run 'sudo apt-get install -y softhsm2'" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq softhsm2 >/dev/null
