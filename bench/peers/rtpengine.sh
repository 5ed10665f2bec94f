#!/usr/bin/env bash
# rtpengine peer comparison: the bench's generator against rtpengine 10.5
# (userspace, loopback, pcap recording, driven over NG) at the issue's
# loads, shared (generator and rtpengine on both cores) and pinned
# (generator on CPU 0, rtpengine on CPU 1). See docs/bench.md ("rtpengine peer comparison").
#
#   bench/peers/rtpengine.sh OUTDIR [DURATION]
#
# Writes OUTDIR/rtpengine-{shared,pinned}-N.json and prints one line per run.
# Every run holds /tmp/bench.lock (flock) so it never overlaps another
# bench run on this machine. Env: SHARED="1000 1250 ...", PINNED="...",
# BASELINE=10s (baseline sink for that long first; empty: none).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:?usage: $0 OUTDIR [DURATION]}"
dur="${2:-20s}"
shared="${SHARED:-1000 1250 1500 2000 2500}"
pinned="${PINNED:-2000 2500 3000}"
baseline="${BASELINE:-}"
mkdir -p "$out"
bash "$repo/scripts/install-rtpengine.sh"
(cd "$repo" && go build -o bin/mediaseal-bench ./cmd/mediaseal-bench)
bench="$repo/bin/mediaseal-bench"

run() { # mode streams
	local mode=$1 n=$2 extra=()
	[ "$mode" = pinned ] && extra+=(--pin)
	[ -n "$baseline" ] && extra+=(--baseline "$baseline")
	echo "== rtpengine $mode $n streams, $dur (load $(cut -d' ' -f1 /proc/loadavg))" >&2
	flock /tmp/bench.lock "$bench" run --peer rtpengine --streams "$n" --duration "$dur" --no-progress \
		--json "$out/rtpengine-$mode-$n.json" "${extra[@]}" >"$out/rtpengine-$mode-$n.txt" || echo "run failed: $mode $n" >&2
}
for n in $shared; do run shared "$n"; done
for n in $pinned; do run pinned "$n"; done

# The table: one line per run.
printf '%-7s %6s %-5s %10s %10s %9s %9s %8s %8s %8s %6s %8s %10s\n' \
	mode streams valid sent recorded lost loss% lag_p50 lag_p99 lag_max cpu% rss/str kdrops
for f in "$out"/rtpengine-*.json; do
	python3 - "$f" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lag = r.get("ingest_lag", {})
print("%-7s %6d %-5s %10d %10d %9d %9.4f %8.1f %8.1f %8.1f %6.1f %7.0fK %10d" % (
    "pinned" if r["pinned"] else "shared", r["streams"], "yes" if r["valid"] else "NO",
    r["sent_packets"], r["recorded_packets"], r["lost_packets"], 100 * r["loss_ratio"],
    lag.get("p50_ms", 0), lag.get("p99_ms", 0), lag.get("max_ms", 0),
    r["gateway_cpu_percent"], r["rss_per_stream_bytes"] / 1024, r["kernel_udp_drops"]))
PY
done
