#!/usr/bin/env bash
# Installs headless Chromium from Debian for the WHIP browser test
# (tests/whip TestWHIPChromium). Idempotent: does nothing when a
# chromium binary is already on PATH. Prints nothing on success.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
	exit 0
fi
bash "$(dirname "$0")/install-apt.sh" chromium fonts-liberation
