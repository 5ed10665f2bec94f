#!/usr/bin/env bash
# Installs headless Chromium from Debian for the WHIP browser test
# (internal/gateway TestWHIPChromium). Idempotent: does nothing when a
# chromium binary is already on PATH. Prints nothing on success.
set -euo pipefail
have() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }
if have; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "chromium is missing and we are not root: run 'sudo apt-get install -y chromium'" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Serialise concurrent installs (several test packages may call this at once).
exec 9>/tmp/mediaseal-install-chromium.lock
flock 9
if have; then
	exit 0
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
