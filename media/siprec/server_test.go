package siprec

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"go.uber.org/zap/zaptest"

	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/recording"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/storage/spool"
)

type staticKeys struct{ dek []byte }

func (k staticKeys) Acquire(_ context.Context, _ media.KeyRequest, deliver func(media.KeyGrant, error)) {
	deliver(media.KeyGrant{DEK: bytes.Clone(k.dek), Envelope: seal.Envelope{Key: seal.KeyRef{Provider: "local", KeyID: "platform"}, WrappedDEK: []byte("w")}}, nil)
}

var _ media.KeySource = staticKeys{}

var portBase = 43000

// srs is a real SRS on loopback UDP with a real media manager behind it,
// and a sipgo client acting as the SRC.
type srs struct {
	t testing.TB
	*Server
	m      *media.Manager
	client *sipgo.Client
	uri    sip.Uri
}

func startSRS(t testing.TB, edit func(*Config), policies ...policy.Policy) *srs {
	t.Helper()
	if len(policies) == 0 {
		policies = []policy.Policy{{ID: "all", Name: "all", RecordingType: policy.RecordingAudio, TargetIDs: []string{"*"}}}
	}
	for i := range policies {
		policies[i].Normalize()
	}
	set, err := policy.NewSet(policies)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	// No index, no object store: recordings stay in the spool.
	recs, err := recording.New(recording.Deps{OrgID: "org", Spool: sp})
	if err != nil {
		t.Fatal(err)
	}
	dek := make([]byte, 32)
	rand.Read(dek)
	portBase += 40
	lo := netip.MustParseAddr("127.0.0.1")
	m := media.NewManager(media.Config{OrgID: "org", BindAddr: lo, AdvertiseAddr: lo, PortMin: portBase, PortMax: portBase + 39,
		InactivityTimeout: time.Minute, MaxPendingBytes: 1 << 20, MaxSessions: 10, FlushInterval: 200 * time.Millisecond},
		media.Deps{Policies: func() *policy.Set { return set }, Keys: staticKeys{dek}, Recordings: recs})
	cfg := Config{Listen: []Listen{{"udp", "127.0.0.1:0"}, {"tcp", "127.0.0.1:0"}}, AdvertiseAddr: lo, Logger: zaptest.NewLogger(t),
		Mapping: Mapping{QueueID: "session/extensiondata/callData/queue", Direction: "session/extensiondata/callData/direction",
			CallID: "session/extensiondata/callData/callId", ParticipantRole: defaultRole}}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg, m)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); _ = recs.Run(ctx) }()
	go func() { defer wg.Done(); m.Run(ctx) }()
	go func() { defer wg.Done(); s.Run(ctx) }()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("src"))
	if err != nil {
		t.Fatal(err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Close()
		ua.Close()
		cancel()
		wg.Wait()
	})
	// Recording INVITEs exceed the UDP MTU: SRCs send them over TCP.
	ap := netip.MustParseAddrPort(s.Addr("tcp"))
	uri := sip.Uri{Scheme: "sip", User: "srs", Host: "127.0.0.1", Port: int(ap.Port()), UriParams: sip.HeaderParams{}}
	uri.UriParams.Add("transport", "tcp")
	return &srs{t: t, Server: s, m: m, client: client, uri: uri}
}

// dialog is the SRC side of one recording session.
type dialog struct {
	callID string
	from   *sip.FromHeader
	to     *sip.ToHeader
	cseq   uint32
}

func newDialog() *dialog {
	d := &dialog{callID: fmt.Sprintf("rs-%d@src", time.Now().UnixNano()), cseq: 1}
	d.from = &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "src", Host: "127.0.0.1"}}
	d.from.Params.Add("tag", sip.GenerateTagN(8))
	return d
}

func (s *srs) request(d *dialog, method sip.RequestMethod, ct string, body []byte, hdrs ...sip.Header) *sip.Request {
	req := sip.NewRequest(method, s.uri)
	cid := sip.CallIDHeader(d.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(sip.HeaderClone(d.from))
	if d.to != nil {
		req.AppendHeader(sip.HeaderClone(d.to))
	} else {
		req.AppendHeader(&sip.ToHeader{Address: s.uri})
	}
	req.AppendHeader(&sip.CSeqHeader{SeqNo: d.cseq, MethodName: method})
	d.cseq++
	req.AppendHeader(sip.NewHeader("Contact", "<sip:src@127.0.0.1>;+sip.src"))
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	if ct != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", ct))
	}
	req.SetBody(body)
	return req
}

func (s *srs) do(req *sip.Request) *sip.Response {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.client.Do(ctx, req)
	if err != nil {
		s.t.Fatalf("%s: %v", req.Method, err)
	}
	return res
}

// invite sends the initial INVITE; on 200 it ACKs and binds the dialog.
func (s *srs) invite(d *dialog, ct string, body []byte, hdrs ...sip.Header) *sip.Response {
	s.t.Helper()
	if len(hdrs) == 0 {
		hdrs = []sip.Header{sip.NewHeader("Require", "siprec")}
	}
	req := s.request(d, sip.INVITE, ct, body, hdrs...)
	res := s.do(req)
	if res.StatusCode == 200 {
		d.to = sip.HeaderClone(res.To()).(*sip.ToHeader)
		s.ack(d, req)
	}
	return res
}

func (s *srs) ack(d *dialog, invite *sip.Request) {
	ack := sip.NewRequest(sip.ACK, s.uri)
	cid := sip.CallIDHeader(d.callID)
	ack.AppendHeader(&cid)
	ack.AppendHeader(sip.HeaderClone(d.from))
	ack.AppendHeader(sip.HeaderClone(d.to))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: invite.CSeq().SeqNo, MethodName: sip.ACK})
	if err := s.client.WriteRequest(ack); err != nil {
		s.t.Fatal(err)
	}
}

func sdpOffer(lines ...string) string {
	b := "v=0\r\no=src 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	for _, l := range lines {
		b += l
	}
	return b
}

func audioLine(port int, label, dir string) string {
	return fmt.Sprintf("m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=label:%s\r\na=%s\r\n", port, label, dir)
}

// srtpOffer is two SDES-SRTP audio lines as SBCs send them.
func srtpOffer(proto string) string {
	crypto := "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
	return sdpOffer(strings.Replace(audioLine(7000, "1", "sendonly"), "RTP/AVP", proto, 1)+crypto,
		strings.Replace(audioLine(7002, "2", "sendonly"), "RTP/AVP", proto, 1)+crypto)
}

// An offer mixing an SRTP line with a plain one records the plain one
// only: the SRTP line is declined (port 0), never recorded as audio.
func TestSRTPLineDeclinedBesidePlain(t *testing.T) {
	s := startSRS(t, nil)
	offer := sdpOffer(audioLine(7000, "1", "sendonly"), strings.Replace(audioLine(7002, "2", "sendonly"), "RTP/AVP", "RTP/SAVP", 1)+
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n")
	res := s.invite(newDialog(), mpType, rsBody(offer, sample(t, "metadata-basic.xml")))
	if res.StatusCode != 200 {
		t.Fatalf("INVITE: %d %v", res.StatusCode, res.GetHeader("Reason"))
	}
	ports, _ := answerPorts(t, res)
	if len(ports) != 2 || ports[0] == 0 || ports[1] != 0 {
		t.Fatalf("answer ports %v: want the plain line recorded and the SRTP line declined\n%s", ports, res.Body())
	}
	if strings.Contains(string(res.Body()), "a=crypto") {
		t.Fatalf("answer accepts SRTP:\n%s", res.Body())
	}
}

const mpType = "multipart/mixed;boundary=foobar"

func rsBody(sdp string, meta []byte) []byte {
	return []byte(multipartBody("foobar", [2]string{typeSDP, sdp}, [2]string{typeMetadata, string(meta)}))
}

func (s *srs) onlySession() *media.Session {
	s.t.Helper()
	ss := s.m.Sessions()
	if len(ss) != 1 {
		s.t.Fatalf("%d live sessions, want 1", len(ss))
	}
	return ss[0]
}

func (s *srs) waitNoSessions() {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.m.Sessions()) > 0 {
		if time.Now().After(deadline) {
			s.t.Fatalf("%d sessions still live", len(s.m.Sessions()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func answerPorts(t *testing.T, res *sip.Response) (ports []int, dirs []string) {
	t.Helper()
	o, err := ParseSDP(res.Body())
	if err != nil {
		t.Fatalf("answer: %v\n%s", err, res.Body())
	}
	for _, m := range o.Media {
		ports, dirs = append(ports, m.Port), append(dirs, m.Direction)
	}
	return
}

// checkBasicCall checks the call fields and tracks that
// metadata-basic.xml (and its draft-schema twin) map to.
func checkBasicCall(t *testing.T, sess *media.Session) {
	t.Helper()
	r := sess.Request
	if r.QueueID != "support" || r.CallID != "call-7f3a" || r.Direction != policy.DirectionInbound ||
		r.CallerID != "+441234567890" || r.AgentID != "agent-7" {
		t.Fatalf("mapped request %+v", r)
	}
	if len(sess.Tracks) != 2 || sess.Tracks[0].Label != "caller" || sess.Tracks[1].Label != "agent" {
		t.Fatalf("tracks %+v", sess.Tracks)
	}
}

func TestRecordingSessionLifecycle(t *testing.T) {
	s := startSRS(t, nil)
	d := newDialog()
	res := s.invite(d, mpType, rsBody(sdpOffer(audioLine(7000, "1", "sendonly"), audioLine(7002, "2", "sendonly")), sample(t, "metadata-basic.xml")))
	if res.StatusCode != 200 {
		t.Fatalf("INVITE: %d %s", res.StatusCode, res.GetHeader("Reason"))
	}
	if ct := res.ContentType(); ct == nil || ct.Value() != typeSDP {
		t.Fatalf("answer Content-Type %v", ct)
	}
	if c := res.Contact(); c == nil || !c.Params.Has(featureSRS) {
		t.Fatalf("Contact without %s: %v", featureSRS, res.Contact())
	}
	ports, dirs := answerPorts(t, res)
	if len(ports) != 2 || ports[0] == 0 || ports[1] == 0 || dirs[0] != dirRecvOnly || dirs[1] != dirRecvOnly {
		t.Fatalf("answer ports %v dirs %v\n%s", ports, dirs, res.Body())
	}
	sess := s.onlySession()
	checkBasicCall(t, sess)
	addrs := sess.Addrs()
	if !strings.HasSuffix(addrs[0].RTP, fmt.Sprint(":", ports[0])) || !strings.HasSuffix(addrs[1].RTP, fmt.Sprint(":", ports[1])) {
		t.Fatalf("answer ports %v are not the session's %v", ports, addrs)
	}
	// Media arrives on the answered port.
	conn, err := net.Dial("udp", addrs[0].RTP)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte{0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 1, 0xff, 0xff})
	deadline := time.Now().Add(5 * time.Second)
	for sess.Counters().Recorded == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if sess.Counters().Recorded == 0 {
		t.Fatal("RTP on the answered port was not recorded")
	}

	// re-INVITE with every stream inactive pauses; back to sendonly resumes.
	for _, step := range []struct {
		dir    string
		paused bool
	}{{dirInactive, true}, {dirSendOnly, false}} {
		res := s.do(s.request(d, sip.INVITE, typeSDP, []byte(sdpOffer(audioLine(7000, "1", step.dir), audioLine(7002, "2", step.dir)))))
		if res.StatusCode != 200 || sess.Paused() != step.paused {
			t.Fatalf("re-INVITE %s: %d, paused %v", step.dir, res.StatusCode, sess.Paused())
		}
		p2, dirs := answerPorts(t, res)
		want := dirRecvOnly
		if step.paused {
			want = dirInactive
		}
		if p2[0] != ports[0] || p2[1] != ports[1] || dirs[0] != want {
			t.Fatalf("re-INVITE answer ports %v dirs %v", p2, dirs)
		}
	}
	// A metadata update alone (UPDATE) is accepted.
	if res := s.do(s.request(d, sip.UPDATE, typeMetadata, sample(t, "metadata-partial-update.xml"))); res.StatusCode != 200 {
		t.Fatalf("UPDATE: %d", res.StatusCode)
	}
	if res := s.do(s.request(d, sip.OPTIONS, "", nil)); res.StatusCode != 200 || res.GetHeader("Supported") == nil {
		t.Fatalf("OPTIONS: %d", res.StatusCode)
	}
	if res := s.do(s.request(d, sip.BYE, "", nil)); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
	s.waitNoSessions()
	if sum := sess.Summary(); sum.Status != "COMPLETE" || sum.EndReason != "siprec-bye" {
		t.Fatalf("summary %+v", sum)
	}
	if res := s.do(s.request(d, sip.BYE, "", nil)); res.StatusCode != 481 {
		t.Fatalf("second BYE: %d, want 481", res.StatusCode)
	}
}

func TestRejections(t *testing.T) {
	s := startSRS(t, nil)
	meta := sample(t, "metadata-basic.xml")
	good := sdpOffer(audioLine(7000, "1", "sendonly"), audioLine(7002, "2", "sendonly"))
	tests := []struct {
		name string
		ct   string
		body []byte
		hdrs []sip.Header
		code int
	}{
		{"malformed multipart", mpType, rsBody(good, meta)[:200], nil, 400},
		{"multipart without boundary", "multipart/mixed", rsBody(good, meta), nil, 400},
		{"missing metadata", typeSDP, []byte(good), nil, 400},
		{"missing SDP", typeMetadata, meta, nil, 400},
		{"invalid metadata", mpType, rsBody(good, []byte("<recording><participant>")), nil, 400},
		{"unknown stream label", mpType, rsBody(sdpOffer(audioLine(7000, "1", "sendonly"), audioLine(7002, "9", "sendonly")), meta), nil, 400},
		{"association to unknown stream", mpType, rsBody(good, sample(t, "metadata-unknown-stream.xml")), nil, 400},
		{"media line without label", mpType, rsBody(sdpOffer("m=audio 7000 RTP/AVP 0\r\n"), meta), nil, 400},
		{"no usable codec", mpType, rsBody(sdpOffer(strings.ReplaceAll(audioLine(7000, "1", "sendonly"), "RTP/AVP 0 101", "RTP/AVP 18"),
			"m=video 7002 RTP/AVP 97\r\na=rtpmap:97 VP8/90000\r\na=label:2\r\n"), meta), nil, 488},
		{"SRTP offer (RTP/SAVP with a=crypto)", mpType, rsBody(srtpOffer("RTP/SAVP"), meta), nil, 488},
		{"SRTP offer (RTP/SAVPF)", mpType, rsBody(srtpOffer("RTP/SAVPF"), meta), nil, 488},
		{"bad SDP", mpType, rsBody("hello", meta), nil, 400},
		{"text body", "text/plain", []byte("hi"), nil, 415},
		{"not a recording session", mpType, rsBody(good, meta), []sip.Header{sip.NewHeader("Supported", "timer")}, 421},
		{"unsupported extension", mpType, rsBody(good, meta), []sip.Header{sip.NewHeader("Require", "siprec, 100rel")}, 420},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDialog()
			hdrs := tt.hdrs
			if hdrs == nil {
				hdrs = []sip.Header{sip.NewHeader("Require", "siprec")}
			}
			req := s.request(d, sip.INVITE, tt.ct, tt.body, hdrs...)
			if tt.name == "not a recording session" {
				req.RemoveHeader("Contact")
				req.AppendHeader(sip.NewHeader("Contact", "<sip:src@127.0.0.1>"))
			}
			res := s.do(req)
			if res.StatusCode != tt.code {
				t.Fatalf("got %d %s (%v), want %d", res.StatusCode, res.Reason, res.GetHeader("Reason"), tt.code)
			}
			if tt.code == 400 || tt.code == 488 || tt.code == 415 {
				if h := res.GetHeader("Reason"); h == nil || !strings.Contains(h.Value(), fmt.Sprintf("cause=%d", tt.code)) {
					t.Fatalf("no Reason header: %v", h)
				}
			}
			if strings.HasPrefix(tt.name, "SRTP offer") {
				if w := res.GetHeader("Warning"); w == nil || !strings.HasPrefix(w.Value(), "302 ") || !strings.Contains(w.Value(), "SRTP") {
					t.Fatalf("SRTP offer refused without a 302 Warning naming SRTP: %v", w)
				}
			}
			if len(s.m.Sessions()) != 0 {
				t.Fatalf("a refused INVITE left a session")
			}
		})
	}
	// Still serving.
	if res := s.do(s.request(newDialog(), sip.OPTIONS, "", nil)); res.StatusCode != 200 {
		t.Fatalf("OPTIONS after rejections: %d", res.StatusCode)
	}
	// In-dialog requests for unknown dialogs.
	d := newDialog()
	d.to = &sip.ToHeader{Address: s.uri}
	d.to.Params.Add("tag", "nope")
	if res := s.do(s.request(d, sip.INVITE, typeSDP, []byte(good))); res.StatusCode != 481 {
		t.Fatalf("re-INVITE of unknown dialog: %d", res.StatusCode)
	}
	if res := s.do(s.request(d, sip.MESSAGE, "", nil)); res.StatusCode != 405 {
		t.Fatalf("MESSAGE: %d", res.StatusCode)
	}
}

func TestStreamsAnnouncedInMetadataJoinLater(t *testing.T) {
	s := startSRS(t, nil)
	d := newDialog()
	meta := sample(t, "metadata-three-streams.xml")
	res := s.invite(d, mpType, rsBody(sdpOffer(audioLine(7000, "10", "sendonly"), audioLine(7002, "11", "sendonly")), meta))
	if res.StatusCode != 200 {
		t.Fatalf("INVITE: %d %v", res.StatusCode, res.GetHeader("Reason"))
	}
	sess := s.onlySession()
	var labels []string
	for _, tr := range sess.Tracks {
		labels = append(labels, tr.Label)
	}
	if strings.Join(labels, ",") != "caller,agent,supervisor" {
		t.Fatalf("tracks %v (roles from extensiondata, third stream pre-allocated)", labels)
	}
	three := sdpOffer(audioLine(7000, "10", "sendonly"), audioLine(7002, "11", "sendonly"), audioLine(7004, "12", "sendonly"))
	res = s.do(s.request(d, sip.INVITE, typeSDP, []byte(three)))
	ports, _ := answerPorts(t, res)
	if res.StatusCode != 200 || len(ports) != 3 || ports[2] == 0 {
		t.Fatalf("re-INVITE adding stream 12: %d ports %v", res.StatusCode, ports)
	}
	res = s.do(s.request(d, sip.INVITE, typeSDP, []byte(three+audioLine(7006, "13", "sendonly"))))
	if res.StatusCode != 400 {
		t.Fatalf("re-INVITE with a stream unknown to the metadata: %d, want 400", res.StatusCode)
	}
	if len(s.m.Sessions()) != 1 {
		t.Fatal("a refused re-INVITE ended the session")
	}
}

func TestAdmission(t *testing.T) {
	t.Run("allow-list", func(t *testing.T) {
		s := startSRS(t, func(c *Config) { c.AllowFrom = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} })
		if res := s.do(s.request(newDialog(), sip.OPTIONS, "", nil)); res.StatusCode != 403 {
			t.Fatalf("OPTIONS from outside the allow-list: %d", res.StatusCode)
		}
	})
	t.Run("digest", func(t *testing.T) {
		s := startSRS(t, func(c *Config) { c.Users = map[string]string{"sbc1": "s3cret-pass"} })
		body := rsBody(sdpOffer(audioLine(7000, "1", "sendonly"), audioLine(7002, "2", "sendonly")), sample(t, "metadata-basic.xml"))
		d := newDialog()
		req := s.request(d, sip.INVITE, mpType, body, sip.NewHeader("Require", "siprec"))
		res := s.do(req)
		if res.StatusCode != 401 || res.GetHeader("WWW-Authenticate") == nil {
			t.Fatalf("unauthenticated INVITE: %d", res.StatusCode)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		bad, err := s.client.DoDigestAuth(ctx, req.Clone(), res, sipgo.DigestAuth{Username: "sbc1", Password: "wrong-pass"})
		if err != nil || bad.StatusCode != 401 {
			t.Fatalf("wrong password: %v %v", bad, err)
		}
		ok, err := s.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "sbc1", Password: "s3cret-pass"})
		if err != nil || ok.StatusCode != 200 {
			t.Fatalf("digest INVITE: %v %v", ok, err)
		}
		if len(s.m.Sessions()) != 1 {
			t.Fatal("authenticated INVITE opened no session")
		}
	})
}

func TestCancelBeforeAnswer(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	s := startSRS(t, nil)
	s.testHookAnswer = func() { close(entered); <-release }
	d := newDialog()
	req := s.request(d, sip.INVITE, mpType, rsBody(sdpOffer(audioLine(7000, "1", "sendonly"), audioLine(7002, "2", "sendonly")),
		sample(t, "metadata-basic.xml")), sip.NewHeader("Require", "siprec"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := s.client.TransactionRequest(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	<-entered
	cr := sip.NewRequest(sip.CANCEL, s.uri)
	cr.AppendHeader(sip.HeaderClone(req.Via()))
	cid := sip.CallIDHeader(d.callID)
	cr.AppendHeader(&cid)
	cr.AppendHeader(sip.HeaderClone(d.from))
	cr.AppendHeader(sip.HeaderClone(req.To()))
	cr.AppendHeader(&sip.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: sip.CANCEL})
	if res := s.do(cr); res.StatusCode != 200 {
		t.Fatalf("CANCEL: %d", res.StatusCode)
	}
	// sipgo answers the CANCEL before its transaction has processed it, so
	// the answer is held until the INVITE's final response (the 487 sent by
	// the cancelled transaction) has arrived; only then may the handler go on.
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			close(release)
			if res.StatusCode != 487 {
				t.Fatalf("INVITE final %d, want 487", res.StatusCode)
			}
			s.waitNoSessions()
			return
		case <-ctx.Done():
			t.Fatal("no final response to the cancelled INVITE")
		}
	}
}

func TestPolicyDeclines(t *testing.T) {
	s := startSRS(t, nil, policy.Policy{ID: "q1", Name: "only q1", RecordingType: policy.RecordingAudio, TargetIDs: []string{"q1"}})
	res := s.invite(newDialog(), mpType, rsBody(sdpOffer(audioLine(7000, "1", "sendonly"), audioLine(7002, "2", "sendonly")), sample(t, "metadata-basic.xml")))
	if res.StatusCode != 603 || res.GetHeader("Reason") == nil {
		t.Fatalf("call on an unrecorded queue: %d", res.StatusCode)
	}
	s.waitNoSessions()
}

// A recording session whose metadata is in the pre-RFC draft schema (as
// older SBC families send it) is recorded with the same call fields as
// the RFC 7865 form (it was answered 400 before).
func TestDraftSchemaMetadataRecorded(t *testing.T) {
	s := startSRS(t, nil)
	res := s.invite(newDialog(), mpType, rsBody(sdpOffer(audioLine(7000, "1", "sendonly"), audioLine(7002, "2", "sendonly")), sample(t, "metadata-draft.xml")))
	if res.StatusCode != 200 {
		t.Fatalf("INVITE with draft-schema metadata: %d %v", res.StatusCode, res.GetHeader("Reason"))
	}
	sess := s.onlySession()
	checkBasicCall(t, sess)
}

// Two BYEs of one dialog sent at once (an SBC retrying, or a second leg
// tearing down) end the session once: one is answered 200, the other 481,
// never two 200s for one end.
func TestRacingByesEndOnce(t *testing.T) {
	s := startSRS(t, nil)
	for round := range 10 {
		d := newDialog()
		if res := s.invite(d, mpType, rsBody(sdpOffer(audioLine(7000, "1", "sendonly")), sample(t, "metadata-basic.xml"))); res.StatusCode != 200 {
			t.Fatalf("round %d INVITE: %d", round, res.StatusCode)
		}
		byes := []*sip.Request{s.request(d, sip.BYE, "", nil), s.request(d, sip.BYE, "", nil)}
		codes := make(chan int, len(byes))
		for _, req := range byes {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				res, err := s.client.Do(ctx, req)
				if err != nil {
					codes <- 0
					return
				}
				codes <- res.StatusCode
			}()
		}
		got := map[int]int{}
		for range byes {
			got[<-codes]++
		}
		if got[200] != 1 || got[481] != 1 {
			t.Fatalf("round %d: BYE answers %v, want one 200 and one 481", round, got)
		}
		s.waitNoSessions()
	}
}
