package console_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// callSeconds is the length of the recorded call the console plays.
const callSeconds = 2

// openRecording searches the recordings (after the filters typed by
// filters) and opens recording id's details.
func (tb *tab) openRecording(id string, filters ...chromedp.Action[chromedp.Void]) {
	tb.b.t.Helper()
	tb.open("recordings")
	// The list is busy from the click until the search's answer is shown.
	open := `#recordings-list[aria-busy="false"] tr[data-id="` + id + `"] button.open-recording`
	tb.do("open recording "+id, append(filters,
		chromedp.Click(chromedp.CSS("#recordings-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(open)),
		chromedp.Click(chromedp.CSS(open)),
		chromedp.WaitVisible(chromedp.CSS("#recording-fields dd")))...)
}

// recordStereoCall records a callSeconds call on queue pci (customer
// key: playback needs the quorum) with a tone on each side and waits
// until it is stored.
func recordStereoCall(tg *gatewaytest.Gateway) string {
	tg.T.Helper()
	s := tg.CreateCall("pci")
	var wg sync.WaitGroup
	for i, tr := range s.Tracks {
		snd := gatewaytest.NewSender(tg.T, tr.RTP, uint32(7100+i), 440+float64(i)*220)
		wg.Add(1)
		go func() { defer wg.Done(); snd.SendRange(0, callSeconds*50, 20*time.Millisecond) }()
	}
	wg.Wait()
	time.Sleep(100 * time.Millisecond)
	if sum := tg.End(s); sum.Status != "COMPLETE" {
		tg.T.Fatalf("summary %+v", sum)
	}
	tg.WaitStored(s.RecordingID)
	return s.RecordingID
}

// TestConsoleCeremony walks a playback through the console in a real
// browser: the requester finds the call and proposes; two key
// administrators, each in their own browser context, see the exact
// canonical request and digest and approve it (the proposer is offered no
// approval of its own proposal, and the API refuses it); the requester
// plays the call in the page to its end, decoded as two channels of the
// recorded length; the auditor sees the playback in the log with the
// verification green, then red naming the entry after a direct write to
// the audit table; a policy administrator is offered no playback; the
// proposer's markup in a reason stays text; the CSP blocks inline script
// and the token is in no storage. Every page passes axe-core and is
// screenshotted.
func TestConsoleCeremony(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	tg := gatewaytest.Start(t, gatewaytest.WithLocalCustomerKey(t))
	recID := recordStereoCall(tg)
	export, _ := tg.ExportTrack(recID, "wav-stereo", "")
	wav := gatewaytest.ParseWAV(t, export)
	wantSeconds := float64(len(wav.Samples[0])) / float64(wav.Rate)
	if wav.Channels != 2 || math.Abs(wantSeconds-callSeconds) > 0.3 {
		t.Fatalf("gateway export: %d channels, %.3f s", wav.Channels, wantSeconds)
	}
	// A dry-run job for the jobs page.
	dry := tg.Reencrypt(map[string]any{"policyIds": []string{"pci"}, "dryRun": true})

	b := newBrowser(t)

	// The requester finds the call and proposes its playback. The reason
	// carries markup: approvers must see it as text, never run it.
	const reason = `dispute 4711 <img src=x onerror="window.__pwned=1">`
	req := b.tab("playback-requester-1")
	req.signIn(tg, "playback-requester-1")
	if got := strings.Join(req.navVisible(), ","); got != "approvals,recordings" {
		t.Fatalf("requester's sections: %s", got)
	}
	req.openRecording(recID, chromedp.SendKeys(chromedp.CSS("#q-queueId"), "pci"))
	if details := eval[string](req, `document.getElementById('recording-fields').textContent`); !strings.Contains(details, "Track calleraudio, PCMU, RTP") {
		t.Fatalf("details do not say how the caller's track travelled: %s", details)
	}
	req.do("propose",
		chromedp.WaitVisible(chromedp.CSS("#playback-request")),
		chromedp.SendKeys(chromedp.CSS("#playback-reason"), reason),
		chromedp.Click(chromedp.CSS("#playback-propose")))
	req.waitJS("proposal made", `document.getElementById('status').textContent.startsWith('Proposed playback')`, 20*time.Second)
	pending := tg.Principal("playback-requester-1").Must(200, "GET", "/api/v2/approvals?operation=recording.playback&target="+recID, nil)
	ents := pending["entities"].([]any)
	if len(ents) != 1 {
		t.Fatalf("proposals: %v", pending)
	}
	prop := ents[0].(map[string]any)
	pid, digest, canonical := prop["id"].(string), prop["digest"].(string), prop["canonical"].(string)
	if prop["proposer"] != "playback-requester-1" || prop["reason"] != reason {
		t.Fatalf("proposal: %v", prop)
	}
	req.axeCheck("recordings")
	req.screenshot("recordings")

	// The requester's own proposal offers it no approval.
	req.open("approvals")
	card := `article.approval[data-id="` + pid + `"]`
	req.do("own proposal", chromedp.WaitVisible(chromedp.CSS(card+" p.own")))
	if n := eval[int](req, `document.querySelectorAll('`+card+` button.approve').length`); n != 0 {
		t.Fatalf("the proposer is offered %d approve buttons", n)
	}

	// Two approvers in two browser contexts approve the digest they see.
	for i, id := range []string{"key-admin-1", "key-admin-2"} {
		a := b.tab(id)
		a.signIn(tg, id)
		a.open("approvals")
		a.do("see the proposal", chromedp.WaitVisible(chromedp.CSS(card+" button.approve")))
		if got := eval[string](a, `document.querySelector('`+card+` code.digest').textContent`); got != digest {
			t.Fatalf("%s sees digest %q, want %q", id, got, digest)
		}
		if got := eval[string](a, `document.querySelector('`+card+` pre.canonical').textContent`); got != canonical {
			t.Fatalf("%s sees canonical %q, want %q", id, got, canonical)
		}
		if got := eval[string](a, `document.querySelector('`+card+` dd.reason').textContent`); got != reason {
			t.Fatalf("%s sees reason %q", id, got)
		}
		if eval[bool](a, `window.__pwned === 1 || document.querySelector('`+card+` img') !== null`) {
			t.Fatal("the proposer's markup ran in the approver's page")
		}
		if i == 0 {
			a.axeCheck("approvals")
			a.screenshot("approvals")
		}
		a.do("approve", chromedp.Click(chromedp.CSS(card+" button.approve")))
		a.waitJS("approved", `document.getElementById('status').textContent.startsWith('Approved `+pid+`')`, 20*time.Second)
		if i == 0 {
			// The CSP blocks inline script even when injected into the DOM,
			// and the token is in no storage the next script could read.
			if eval[bool](a, `(() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.append(s); return window.__inline === 1; })()`) {
				t.Fatal("inline script ran under the console's CSP")
			}
			if got := eval[string](a, `String(localStorage.length + sessionStorage.length) + '|' + document.cookie`); got != "0|" {
				t.Fatalf("console left state in storage: %q", got)
			}
		}
	}
	if m := tg.Principal("playback-requester-1").Must(200, "GET", "/api/v2/approvals/"+pid, nil); m["status"] != "APPROVED" {
		t.Fatalf("after two approvals: %v", m["status"])
	}

	// The requester plays the call in the page, to its end.
	req.openRecording(recID)
	req.do("play",
		chromedp.WaitVisible(chromedp.CSS(`button.play[data-approval="`+pid+`"]`)),
		chromedp.Click(chromedp.CSS(`button.play[data-approval="`+pid+`"]`)))
	req.waitJS("decoded", `document.getElementById('decoded').dataset.duration !== undefined`, 30*time.Second)
	req.waitJS("audio at its end", `document.getElementById('audio').dataset.state === 'ended' && document.getElementById('audio').ended`, 30*time.Second)
	decoded := eval[string](req, `document.getElementById('decoded').dataset.duration + '|' + document.getElementById('decoded').dataset.channels`)
	var dur float64
	var channels int
	if _, err := fmt.Sscanf(decoded, "%g|%d", &dur, &channels); err != nil || channels != 2 || math.Abs(dur-wantSeconds) > 0.05 {
		t.Fatalf("decoded in the page: %q, want 2 channels of %.3f s", decoded, wantSeconds)
	}
	audio := eval[[]float64](req, `[document.getElementById('audio').duration, document.getElementById('audio').currentTime]`)
	if math.Abs(audio[0]-wantSeconds) > 0.05 || math.Abs(audio[1]-audio[0]) > 0.05 {
		t.Fatalf("<audio> duration %.3f s, ended at %.3f s; want %.3f s", audio[0], audio[1], wantSeconds)
	}
	if href := eval[string](req, `document.getElementById('download').href`); !strings.HasPrefix(href, "blob:") {
		t.Fatalf("download link %q", href)
	}
	req.screenshot("recordings-playback")
	req.axeCheck("recordings with the player")
	// The approval was used once; a second play is refused by the API.
	if m := tg.Principal("playback-requester-1").Must(200, "GET", "/api/v2/approvals/"+pid, nil); m["status"] != "EXECUTED" {
		t.Fatalf("after the playback: %v", m["status"])
	}

	// The auditor sees the playback in the log and the chain verified.
	aud := b.tab("auditor-1")
	aud.signIn(tg, "auditor-1")
	if got := strings.Join(aud.navVisible(), ","); got != "approvals,recordings,keys,audit,jobs" {
		t.Fatalf("auditor's sections: %s", got)
	}
	aud.open("audit")
	aud.waitJS("verification", `document.getElementById('verify').dataset.state === 'intact'`, 30*time.Second)
	row := `#audit-list tr[data-action="recording.playback"]`
	aud.do("filter the playback",
		chromedp.SendKeys(chromedp.CSS("#a-target"), recID),
		chromedp.Click(chromedp.CSS("#audit-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(row)))
	cells := eval[[]string](aud, `[...document.querySelector('`+row+`').cells].map(c => c.textContent)`)
	if cells[2] != "playback-requester-1" || cells[4] != recID || cells[5] != "success" || !strings.Contains(cells[6], pid) {
		t.Fatalf("playback row: %q", cells)
	}
	aud.do("export the range", chromedp.Click(chromedp.CSS("#audit-export")), chromedp.WaitVisible(chromedp.CSS("#audit-download")))
	if n := eval[string](aud, `document.getElementById('audit-download').dataset.entries`); n == "0" {
		t.Fatal("empty audit export")
	}
	aud.axeCheck("audit (intact)")
	aud.screenshot("audit-intact")
	for _, page := range []string{"keys", "jobs"} {
		aud.open(page)
		switch page {
		case "keys":
			aud.do("keys", chromedp.WaitVisible(chromedp.CSS(`#keys-list tr[data-key="cust-key"]`)), chromedp.WaitVisible(chromedp.CSS("#queues-list table")))
		case "jobs":
			aud.do("jobs", chromedp.WaitVisible(chromedp.CSS(`#jobs-list tr[data-job="`+dry.ID+`"]`)))
		}
		aud.axeCheck(page)
		aud.screenshot(page)
	}

	// A direct write to the audit table turns the verification red and
	// names the entry.
	var bad int64
	if err := tg.Store().DB().QueryRowContext(context.Background(),
		`SELECT seq FROM audit_events WHERE action = 'recording.playback' AND target = ?`, recID).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Store().DB().ExecContext(context.Background(),
		`UPDATE audit_events SET actor = 'nobody' WHERE seq = ?`, bad); err != nil {
		t.Fatal(err)
	}
	aud.open("audit")
	aud.do("verify again", chromedp.Click(chromedp.CSS("#verify-run")))
	aud.waitJS("verification red", `document.getElementById('verify').dataset.state === 'tampered'`, 30*time.Second)
	if got := eval[string](aud, `document.getElementById('verify').textContent`); !strings.Contains(got, fmt.Sprintf("entry %d ", bad)) {
		t.Fatalf("tampered verification: %q, want entry %d named", got, bad)
	}
	aud.axeCheck("audit (tampered)")
	aud.screenshot("audit-tampered")

	// A policy administrator is offered no playback, and the API refuses it.
	pa := b.tab("policy-admin-1")
	pa.signIn(tg, "policy-admin-1")
	if got := strings.Join(pa.navVisible(), ","); got != "approvals,recordings,keys,jobs" {
		t.Fatalf("policy admin's sections: %s", got)
	}
	pa.openRecording(recID)
	if got := eval[string](pa, `[document.getElementById('playback-request').hidden, document.getElementById('player').hidden,
		document.querySelectorAll('button.play').length].join(',')`); got != "true,true,0" {
		t.Fatalf("policy admin's playback controls (request hidden, player hidden, play buttons): %s", got)
	}
	pa.screenshot("recordings-policy-admin")
	if code, _, _ := tg.Principal("policy-admin-1").Call("GET", "/api/v2/recordings/"+recID+"/media?format=wav-stereo", nil); code != 403 {
		t.Fatalf("policy admin playback: %d, want 403", code)
	}
	// The search form asks the API by call id, agent and caller number
	// (the API normalises the number and filters).
	eval[chromedp.Void](pa, `(() => { const f = window.fetch; window.__urls = [];
		window.fetch = (u, i) => { window.__urls.push(String(u)); return f(u, i); }; })()`)
	pa.do("search by call, agent and caller",
		chromedp.SendKeys(chromedp.CSS("#q-callId"), "call-4711"),
		chromedp.SendKeys(chromedp.CSS("#q-agentId"), "agent-7"),
		chromedp.SendKeys(chromedp.CSS("#q-caller"), "+44 1234"),
		chromedp.Click(chromedp.CSS("#recordings-form button[type=submit]")))
	pa.waitJS("search sent", `window.__urls.some(u => u.startsWith('/api/v2/recordings?'))`, 10*time.Second)
	if u := eval[string](pa, `window.__urls.find(u => u.startsWith('/api/v2/recordings?'))`); !strings.Contains(u, "callId=call-4711") ||
		!strings.Contains(u, "agentId=agent-7") || !strings.Contains(u, "caller=%2B44+1234") {
		t.Fatalf("search request %q", u)
	}
	pa.open("approvals")
	pa.axeCheck("approvals (policy admin)")

	// The sign-in page itself.
	anon := b.tab("signed out")
	anon.do("open", chromedp.Navigate(tg.URL+"/console/"), chromedp.WaitVisible(chromedp.CSS("#client-id")))
	anon.axeCheck("sign-in")
	anon.screenshot("signin")
}
