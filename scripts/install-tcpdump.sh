#!/usr/bin/env bash
# Installs tcpdump from Debian: the export tests read the pcap files they
# write back with it (an independent pcap/IPv4/UDP/RTP reader). Idempotent:
# does nothing when tcpdump is present.
set -euo pipefail
if command -v tcpdump >/dev/null 2>&1; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "tcpdump is missing and we are not root: run 'sudo apt-get install -y tcpdump'" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
exec 9>/tmp/mediaseal-install-tcpdump.lock
flock 9
if command -v tcpdump >/dev/null 2>&1; then
	exit 0
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends tcpdump >/dev/null
