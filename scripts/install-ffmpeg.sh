#!/usr/bin/env bash
# Installs ffmpeg (ffmpeg + ffprobe) from Debian for the export and
# end-to-end tests. Idempotent: does nothing when both tools are present.
set -euo pipefail
if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; then
	exit 0
fi
bash "$(dirname "$0")/install-apt.sh" ffmpeg
