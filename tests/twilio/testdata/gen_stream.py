#!/usr/bin/env python3
"""Writes stream.jsonl: one Twilio Media Stream as Twilio documents its
messages (connected, start, media of both tracks every 20 ms, dtmf, mark,
stop). The caller (inbound) is a 600 Hz tone, the agent (outbound) 1400 Hz;
3 s long, with no inbound chunks from 1.0 s to 1.5 s (a gap the recording
must keep as silence)."""
import base64, json, math

def ulaw(s):
    bias, clip = 0x84, 32635
    sign = 0x80 if s < 0 else 0
    s = min(abs(s), clip) + bias
    exp, m = 7, 0x4000
    while exp > 0 and not (s & m):
        exp, m = exp - 1, m >> 1
    return ~(sign | (exp << 4) | ((s >> (exp + 3)) & 0x0F)) & 0xFF

def chunk(freq, ms):
    start = ms * 8
    return base64.b64encode(bytes(ulaw(int(8000 * math.sin(2 * math.pi * freq * (start + k) / 8000))) for k in range(160))).decode()

sid, call, acct = "MZ18ad3ab5a668481ce02b83e7395059f0", "CA2d7f4cf7c2c5e0b6b36ea7b0fcbd2e4a", "AC25e16e9a716a4a1786a7c83f58e30482"
out = [{"event": "connected", "protocol": "Call", "version": "1.0.0"}]
seq = 1
out.append({"event": "start", "sequenceNumber": str(seq), "start": {"accountSid": acct, "streamSid": sid, "callSid": call,
            "tracks": ["inbound", "outbound"], "customParameters": {"queueId": "support", "callerId": "+441632960123", "agentId": "agent-7"},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}, "streamSid": sid})
chunks = {"inbound": 0, "outbound": 0}
for ms in range(0, 3000, 20):
    for track, freq in (("inbound", 600), ("outbound", 1400)):
        if track == "inbound" and 1000 <= ms < 1500:
            continue
        chunks[track] += 1
        seq += 1
        out.append({"event": "media", "sequenceNumber": str(seq), "media": {"track": track, "chunk": str(chunks[track]),
                    "timestamp": str(ms), "payload": chunk(freq, ms)}, "streamSid": sid})
    if ms == 2000:
        seq += 1
        out.append({"event": "dtmf", "streamSid": sid, "sequenceNumber": str(seq), "dtmf": {"track": "inbound_track", "digit": "7"}})
    if ms == 2500:
        seq += 1
        out.append({"event": "mark", "sequenceNumber": str(seq), "streamSid": sid, "mark": {"name": "prompt-played"}})
seq += 1
out.append({"event": "stop", "sequenceNumber": str(seq), "streamSid": sid, "stop": {"accountSid": acct, "callSid": call}})
with open("stream.jsonl", "w") as f:
    f.write("\n".join(json.dumps(m, separators=(",", ":")) for m in out) + "\n")
