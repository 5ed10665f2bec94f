#!/usr/bin/env bash
# Installs Debian packages for the tests: install-apt.sh [--recommends] PKG...
# Every install script goes through here, so all of them share one lock
# (/tmp/mediaseal-apt.lock): test packages that `go test ./...` runs in
# parallel never race each other for the dpkg lock, and apt-get also waits
# (DPkg::Lock::Timeout) for any other apt user on the machine. Idempotent:
# does nothing, and runs no apt-get update, when every package is installed.
set -euo pipefail
recommends=--no-install-recommends
if [ "${1:-}" = --recommends ]; then
	recommends=
	shift
fi
if [ $# -eq 0 ]; then
	echo "usage: $0 [--recommends] package..." >&2
	exit 2
fi
installed() {
	local p
	for p; do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || return 1
	done
}
installed "$@" && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "missing Debian packages: $* (run as root, or: sudo apt-get install -y $*)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
exec 9>/tmp/mediaseal-apt.lock
flock 9
installed "$@" && exit 0 # another script installed them while we waited
echo "installing Debian packages: $*" >&2
apt=(apt-get -qq -o DPkg::Lock::Timeout=600)
"${apt[@]}" update
"${apt[@]}" install -y $recommends "$@" >/dev/null
