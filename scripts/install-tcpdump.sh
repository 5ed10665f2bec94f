#!/usr/bin/env bash
# Installs tcpdump from Debian: the export tests read the pcap files they
# write back with it (an independent pcap/IPv4/UDP/RTP reader). Idempotent:
# does nothing when tcpdump is present.
set -euo pipefail
if command -v tcpdump >/dev/null 2>&1; then
	exit 0
fi
bash "$(dirname "$0")/install-apt.sh" tcpdump
