#!/usr/bin/env bash
# Installs sipp (Debian package sip-tester) for the SIPREC tests. Idempotent.
set -euo pipefail
if command -v sipp >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "sipp is missing: run as root or apt-get install sip-tester" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq sip-tester >/dev/null
command -v sipp >/dev/null
