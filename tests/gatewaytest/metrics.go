package gatewaytest

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape reads the gateway's /metrics at url.
func Scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := AuthGet(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// CounterWith is the value of f's counter with labels.
func CounterWith(f *dto.MetricFamily, labels map[string]string) float64 {
	var v float64
next:
	for _, m := range f.GetMetric() {
		for k, want := range labels {
			ok := false
			for _, lp := range m.GetLabel() {
				ok = ok || (lp.GetName() == k && lp.GetValue() == want)
			}
			if !ok {
				continue next
			}
		}
		v += m.GetCounter().GetValue()
	}
	return v
}
