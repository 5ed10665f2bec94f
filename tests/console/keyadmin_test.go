package console_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestConsoleVetoAndJobs: a key administrator's own key.disable proposal
// is shown to it without an approve button (and the API refuses its
// self-approval); an auditor vetoes it in the page. The key
// administrator watches a running re-encryption job's progress refresh by
// itself and cancels it in the page.
func TestConsoleVetoAndJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	tg := gatewaytest.Start(t, gatewaytest.WithLocalCustomerKey(t))
	for i := range 3 {
		tg.RecordCall(uint32(50 + i))
	}
	ka1 := tg.Principal("key-admin-1")
	pid, digest := ka1.Propose("key.disable", "cust-key", nil, "suspected leak")
	ka1.Must(403, "POST", "/api/v2/approvals/"+pid+"/approve", map[string]any{"digest": digest})

	b := newBrowser(t)
	ka := b.tab("key-admin-1")
	ka.signIn(tg, "key-admin-1")
	ka.open("approvals")
	card := `article.approval[data-id="` + pid + `"]`
	ka.do("own proposal", chromedp.WaitVisible(chromedp.CSS(card+" p.own")))
	if n := eval[int](ka, `document.querySelectorAll('`+card+` button.approve').length`); n != 0 {
		t.Fatalf("the proposer is offered %d approve buttons", n)
	}

	aud := b.tab("auditor-1")
	aud.signIn(tg, "auditor-1")
	aud.open("approvals")
	if n := eval[int](aud, `document.querySelectorAll('`+card+` button.approve').length`); n != 0 {
		t.Fatalf("the auditor (no approvals:approve) is offered %d approve buttons", n)
	}
	aud.do("veto",
		chromedp.SendKeys(chromedp.CSS(card+" input.veto-reason"), "not without a ticket"),
		chromedp.Click(chromedp.CSS(card+" button.veto")))
	aud.waitJS("vetoed", `document.getElementById('status').textContent.startsWith('Vetoed `+pid+`')`, 20*time.Second)
	if m := ka1.Must(200, "GET", "/api/v2/approvals/"+pid, nil); m["status"] != "VETOED" || m["vetoedBy"] != "auditor-1" || m["vetoReason"] != "not without a ticket" {
		t.Fatalf("after the veto: %v", m)
	}

	// A slow job: one recording every five seconds.
	var job struct {
		ID string `json:"id"`
	}
	if code := tg.Admin("POST", "/api/v2/recordings/reencrypt", map[string]any{"policyIds": []string{"pci"}, "mode": "reseal", "ratePerSecond": 0.2}, &job); code != 202 {
		t.Fatalf("start job: %d", code)
	}
	ka.open("jobs")
	row := `#jobs-list tr[data-job="` + job.ID + `"]`
	// The page refreshes by itself: the row turns RUNNING without a click.
	ka.waitJS("job running", `document.querySelector('`+row+`') !== null && document.querySelector('`+row+`').dataset.status === 'RUNNING'`, 30*time.Second)
	ka.axeCheck("jobs (running)")
	ka.screenshot("jobs-running")
	ka.do("cancel", chromedp.Click(chromedp.CSS(row+" button.cancel")))
	ka.waitJS("job cancelled", `document.querySelector('`+row+`').dataset.status === 'CANCELLED'`, 30*time.Second)
	var j map[string]any
	tg.Admin("GET", "/api/v2/recordings/reencrypt/"+job.ID, nil, &j)
	if j["status"] != "CANCELLED" || j["cancelledBy"] != "key-admin-1" {
		t.Fatalf("job after the cancel: %v %v", j["status"], j["cancelledBy"])
	}
	ka.screenshot("jobs-cancelled")
}
