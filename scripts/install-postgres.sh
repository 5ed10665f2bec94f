#!/usr/bin/env bash
# Installs PostgreSQL 15 (Debian's postgresql-15) for the control-plane
# store tests, which start their own throwaway cluster with initdb/postgres
# (internal/testenv/postgres.go). Idempotent: does nothing when initdb is
# already present. The package's own service is not needed.
set -euo pipefail
bindir="${MEDIASEAL_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
if [ -x "$bindir/initdb" ] && [ -x "$bindir/postgres" ] && id postgres >/dev/null 2>&1; then
	exit 0
fi
bash "$(dirname "$0")/install-apt.sh" --recommends postgresql-15
