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
	if [ "$(id -u)" != 0 ]; then
		echo "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	exec 9>/tmp/mediaseal-apt.lock
	flock 9
	echo "installing Debian packages: $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')" >&2
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
fi

for s in install-local-kms.sh install-versitygw.sh; do
	[ -f "$repo/scripts/$s" ] && bash "$repo/scripts/$s"
done
exit 0
