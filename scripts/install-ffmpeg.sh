#!/usr/bin/env bash
# Installs ffmpeg (ffmpeg + ffprobe) from Debian for the export and
# end-to-end tests. Idempotent: does nothing when both tools are present.
set -euo pipefail
if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "ffmpeg is missing and we are not root: run 'sudo apt-get install -y ffmpeg'" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Serialise concurrent installs (several test packages may call this at once).
exec 9>/tmp/mediaseal-install-ffmpeg.lock
flock 9
if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; then
	exit 0
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
