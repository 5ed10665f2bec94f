#!/usr/bin/env bash
# Installs everything `make test` needs on a fresh Debian machine, once:
# Debian packages (one apt-get update, only when something is missing) and
# Go tools into .tools/bin. Idempotent and cached: a second run does nothing.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

# command-or-file -> Debian package
declare -A need=(
	[ffmpeg]=ffmpeg
	[ffprobe]=ffmpeg
	[softhsm2-util]=softhsm2
	[/usr/lib/softhsm/libsofthsm2.so]=softhsm2
	[/usr/lib/postgresql/15/bin/initdb]=postgresql-15
	[sipp]=sip-tester
	[tcpdump]=tcpdump
	[chromium]=chromium
	[/usr/share/fonts/truetype/liberation]=fonts-liberation
)
missing=()
for what in "${!need[@]}"; do
	if [[ "$what" == /* ]]; then
		[ -e "$what" ] || missing+=("${need[$what]}")
	else
		command -v "$what" >/dev/null 2>&1 || missing+=("${need[$what]}")
	fi
done
if [ "${#missing[@]}" -gt 0 ]; then
	# install-apt.sh holds the lock every install script shares.
	bash "$repo/scripts/install-apt.sh" $(printf '%s\n' "${missing[@]}" | sort -u)
fi
bash "$repo/scripts/install-rtpengine.sh" # its own script: it also stops a daemon the package started

# The tools are independent installs: run them side by side (the Go modules'
# downloads and links overlap) and fail if any fails.
pids=()
for s in install-local-kms.sh install-versitygw.sh install-axe.sh install-standardwebhooks.sh; do
	bash "$repo/scripts/$s" &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
exit $rc
