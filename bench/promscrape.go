package bench

import (
	"bytes"
	"math"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape is a parsed /metrics page.
type Scrape map[string]*dto.MetricFamily

// ParseScrape parses the text exposition format.
func ParseScrape(b []byte) (Scrape, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	m, err := p.TextToMetricFamilies(bytes.NewReader(b))
	return Scrape(m), err
}

// Sum adds every sample of a counter or gauge whose labels include match.
func (s Scrape) Sum(name string, match map[string]string) float64 {
	f, ok := s[name]
	if !ok {
		return 0
	}
	var v float64
	for _, m := range f.GetMetric() {
		if !labelsMatch(m, match) {
			continue
		}
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Histogram != nil:
			v += float64(m.Histogram.GetSampleCount())
		}
	}
	return v
}

func labelsMatch(m *dto.Metric, match map[string]string) bool {
	for k, want := range match {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == k && lp.GetValue() == want {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Quantile estimates the q-quantile of a histogram (summed over label sets
// matching match) by linear interpolation inside its bucket, in seconds;
// NaN when the histogram is absent or empty.
func (s Scrape) Quantile(name string, q float64, match map[string]string) float64 {
	f, ok := s[name]
	if !ok {
		return math.NaN()
	}
	cum := map[float64]uint64{}
	var total uint64
	for _, m := range f.GetMetric() {
		h := m.GetHistogram()
		if h == nil || !labelsMatch(m, match) {
			continue
		}
		total += h.GetSampleCount()
		for _, b := range h.GetBucket() {
			cum[b.GetUpperBound()] += b.GetCumulativeCount()
		}
	}
	if total == 0 {
		return math.NaN()
	}
	bounds := make([]float64, 0, len(cum))
	for ub := range cum {
		bounds = append(bounds, ub)
	}
	sort.Float64s(bounds)
	rank := q * float64(total)
	prevB, prevC := 0.0, 0.0
	for _, ub := range bounds {
		c := float64(cum[ub])
		if c >= rank {
			if math.IsInf(ub, 1) {
				return prevB // beyond the last finite bucket: report its bound
			}
			if c == prevC {
				return ub
			}
			return prevB + (ub-prevB)*(rank-prevC)/(c-prevC)
		}
		prevB, prevC = ub, c
	}
	return prevB
}

// Mean is a histogram's exact mean (sum / count over matching label sets)
// in seconds; NaN when absent or empty. Unlike Quantile it does not depend
// on the bucket layout.
func (s Scrape) Mean(name string, match map[string]string) float64 {
	f, ok := s[name]
	if !ok {
		return math.NaN()
	}
	var sum float64
	var n uint64
	for _, m := range f.GetMetric() {
		if h := m.GetHistogram(); h != nil && labelsMatch(m, match) {
			sum += h.GetSampleSum()
			n += h.GetSampleCount()
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}
