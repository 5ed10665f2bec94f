package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// browser is one headless Chromium; each tab opens in its own browser
// context (no shared storage), as two people on two machines would.
type browser struct {
	t         *testing.T
	ctx       context.Context
	artifacts string
	axe       string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := gatewaytest.Chromium(t)
	repo := testenv.RepoRoot(t)
	if out, err := exec.Command("bash", filepath.Join(repo, "scripts", "install-axe.sh")).CombinedOutput(); err != nil {
		t.Fatalf("install axe-core (scripts/install-axe.sh): %v\n%s", err, out)
	}
	axe, err := os.ReadFile(filepath.Join(repo, ".tools", "npm", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	// Screenshots are kept after the test in the gitignored var/.
	art := filepath.Join(repo, "var", "test-artifacts", "console", t.Name())
	if err := os.MkdirAll(art, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("mute-audio", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"), chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	// The first action on a context starts what it stands for (here the
	// browser) for the context's whole life: never under a timeout.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Logf("screenshots in %s", art)
	return &browser{t: t, ctx: bctx, artifacts: art, axe: string(axe)}
}

// tab is a page of the console in its own browser context.
type tab struct {
	b    *browser
	name string
	ctx  context.Context
}

func (b *browser) tab(name string) *tab {
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab for the context's life
		b.t.Fatalf("open a tab for %s: %v", name, err)
	}
	return &tab{b: b, name: name, ctx: ctx}
}

// do runs steps within a bound, failing the test with the step's error.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.b.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.b.t.Fatalf("%s: %s: %v (status line: %q)", tb.name, what, err, tb.statusLine())
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, expr string) T {
	tb.b.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.b.t.Fatalf("%s: eval %s: %v", tb.name, expr, err)
	}
	return v
}

// waitJS waits until a JavaScript predicate is true in the page.
func (tb *tab) waitJS(what, predicate string, within time.Duration) {
	tb.b.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, within+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingTimeout(within))); err != nil {
		tb.b.t.Fatalf("%s: waiting for %s (%s): %v (status line: %q)", tb.name, what, predicate, err, tb.statusLine())
	}
}

func (tb *tab) statusLine() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('status') ? document.getElementById('status').textContent : ''`))
	return s
}

// signIn opens the console and signs in with the principal's client
// credentials (as its owner would type them).
func (tb *tab) signIn(tg *gatewaytest.Gateway, id string) {
	tb.b.t.Helper()
	c, err := auth.ReadCredentials(auth.CredentialsPath(tg.Config().DataDir, id))
	if err != nil {
		tb.b.t.Fatal(err)
	}
	tb.do("sign in as "+id,
		chromedp.Navigate(tg.URL+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#client-id")),
		chromedp.SendKeys(chromedp.CSS("#client-id"), c.ClientID),
		chromedp.SendKeys(chromedp.CSS("#client-secret"), c.ClientSecret),
		chromedp.Click(chromedp.CSS("#signin-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#whoami")))
	// Every section has been probed once sign-in shows one.
	tb.waitJS("a section shown", `document.body.dataset.section !== undefined && document.body.dataset.section !== ''`, 30*time.Second)
}

// open shows a section through the navigation, as a user clicks it.
func (tb *tab) open(section string) {
	tb.b.t.Helper()
	if eval[bool](tb, `location.hash === '#`+section+`' && document.body.dataset.section === '`+section+`'`) {
		return // already shown: the link would not fire a hashchange
	}
	eval[chromedp.Void](tb, `document.getElementById('`+section+`').removeAttribute('aria-busy')`)
	tb.do("open "+section, chromedp.Click(chromedp.CSS(`#nav a[href="#`+section+`"]`)))
	tb.waitJS(section+" loaded", `document.body.dataset.section === '`+section+`' && document.getElementById('`+section+`').getAttribute('aria-busy') === 'false'`, 30*time.Second)
}

// navVisible lists the sections the navigation offers.
func (tb *tab) navVisible() []string {
	return eval[[]string](tb, `[...document.querySelectorAll('#nav li')].filter(li => !li.hidden).map(li => li.dataset.section)`)
}

// screenshot keeps a full-page PNG of the tab (quality 100 is PNG).
func (tb *tab) screenshot(name string) {
	tb.b.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.b.t.Fatalf("%s: screenshot: %v", tb.name, err)
	}
	p := filepath.Join(tb.b.artifacts, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tb.b.t.Fatal(err)
	}
	tb.b.t.Logf("screenshot %s", p)
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// axeCheck runs axe-core (WCAG 2.x A and AA rules) on the page as it is
// now and fails on any serious or critical violation.
func (tb *tab) axeCheck(page string) {
	tb.b.t.Helper()
	if !eval[bool](tb, `typeof window.axe === 'object'`) {
		eval[chromedp.Void](tb, tb.b.axe+"\n;undefined")
	}
	raw := eval[string](tb, `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
		.then(r => JSON.stringify({violations: r.violations, passes: r.passes.length}))`)
	var res struct {
		Violations []axeViolation `json:"violations"`
		Passes     int            `json:"passes"`
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		tb.b.t.Fatal(err)
	}
	if res.Passes == 0 {
		tb.b.t.Fatalf("%s: axe-core checked nothing on %s", tb.name, page)
	}
	var bad []string
	for _, v := range res.Violations {
		line := fmt.Sprintf("%s [%s] %s", v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			line += fmt.Sprintf("\n    %v %s", n.Target, n.HTML)
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, line)
		} else {
			tb.b.t.Logf("%s: axe (%s, not failing): %s", page, v.Impact, line)
		}
	}
	if len(bad) > 0 {
		tb.b.t.Errorf("%s: %s: serious accessibility violations:\n  %s", tb.name, page, strings.Join(bad, "\n  "))
	}
}
