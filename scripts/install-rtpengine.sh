#!/usr/bin/env bash
# Installs rtpengine (Debian packages rtpengine-daemon and
# rtpengine-recording-daemon) for the bench's peer comparison
# (mediaseal-bench run --peer rtpengine, bench/peers/rtpengine.sh).
# Idempotent: does nothing when the rtpengine binary is present.
#
# The bench runs rtpengine itself (userspace, loopback, foreground); the
# Debian service must not run. There is no systemd here, but a package's
# maintainer scripts may still start an init.d service, so any rtpengine
# daemon running after the install that was not running before is stopped.
set -euo pipefail
if command -v rtpengine >/dev/null 2>&1; then
	exit 0
fi
# comm is cut at 15 characters: rtpengine-recording shows as rtpengine-recor.
daemons() { ps -eo pid=,comm= | awk '$2 == "rtpengine" || $2 == "rtpengine-recor" { print $1 }'; }
before="$(daemons)"
bash "$(dirname "$0")/install-apt.sh" rtpengine-daemon rtpengine-recording-daemon
for pid in $(daemons); do
	case " $before " in *" $pid "*) continue ;; esac
	echo "stopping the Debian service's daemon (pid $pid) the package install started" >&2
	kill "$pid" 2>/dev/null || true
done
command -v rtpengine >/dev/null
