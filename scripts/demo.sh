#!/usr/bin/env bash
# make demo: start the gateway in a temporary data dir, record a generated
# 5-second two-track call sent by ffmpeg, export it as stereo WAV.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="$repo/bin/mediaseal"
bash "$repo/scripts/install-ffmpeg.sh"
data="${DEMO_DATA_DIR:-$(mktemp -d /tmp/mediaseal-demo.XXXXXX)}"
api="127.0.0.1:${DEMO_PORT:-18090}"
"$bin" serve --data-dir "$data" --api-addr "$api" >"$data/gateway.log" 2>&1 &
gw=$!
trap 'kill $gw 2>/dev/null || true' EXIT
for _ in $(seq 50); do
	curl -sf "http://$api/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
token=$(cat "$data/ingest.token")
resp=$(curl -sf -H "Authorization: Bearer $token" "http://$api/v1/sessions" -d '{
  "callId":"demo-call","queueId":"demo","direction":"INBOUND","callerId":"+15550100","agentId":"agent-1",
  "tracks":[{"label":"caller","kind":"audio","source":"127.0.0.1"},{"label":"agent","kind":"audio","source":"127.0.0.1"}]}')
field() { printf '%s' "$resp" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
sid=$(field sessionId)
rid=$(field recordingId)
ports=($(printf '%s' "$resp" | grep -o '"rtp":"[^"]*"' | cut -d'"' -f4))
echo "session $sid, recording $rid: sending 5 s to ${ports[*]}"
tone() {
	ffmpeg -nostdin -loglevel error -re -f lavfi -i "sine=frequency=$1:sample_rate=8000:duration=5" \
		-af asetnsamples=n=160:p=0 -ac 1 -c:a pcm_mulaw -f rtp -payload_type 0 "rtp://$2" >/dev/null
}
tone 440 "${ports[0]}" &
tone 660 "${ports[1]}"
wait %2 2>/dev/null || true
sleep 0.3
curl -sf -X DELETE -H "Authorization: Bearer $token" "http://$api/v1/sessions/$sid"
echo
# Playback needs a quorum even on a trial gateway: the playback requester
# proposes, two other principals approve (credentials from first start).
tok() { "$bin" token --api "http://$api" --credentials "$data/credentials/$1.json"; }
export MEDIASEAL_TOKEN
MEDIASEAL_TOKEN=$(tok playback-requester-1)
tok playback-requester-1 >"$data/playback.token"
chmod 600 "$data/playback.token"
prop=$("$bin" approvals propose --api "http://$api" --operation recording.playback --target "$rid" --reason "make demo")
pid=$(printf '%s' "$prop" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -n1)
MEDIASEAL_TOKEN=$(tok key-admin-1) "$bin" approvals approve --api "http://$api" "$pid" >/dev/null
MEDIASEAL_TOKEN=$(tok policy-admin-1) "$bin" approvals approve --api "http://$api" "$pid" >/dev/null
out="$data/demo-call.wav"
"$bin" export --api "http://$api" --recording "$rid" --approval-id "$pid" \
	--token-file "$data/playback.token" --format wav-stereo --out "$out"
"$bin" verify --data-dir "$data" --recording "$rid"
kill -TERM $gw
wait $gw || true
trap - EXIT
echo "stereo WAV (caller left, agent right): $out"
