// Package plot draws a sweep's loss, CPU and RSS against streams as a PNG
// (gonum.org/v1/plot). It is its own package so that only the CLI links
// the plotting library.
package plot

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/mediaseal/mediaseal/bench"
)

// Sweep writes a PNG of three stacked panels: loss %, gateway CPU % and
// RSS per stream (KiB), each against the number of streams.
func Sweep(path string, sw *bench.SweepResult) error {
	panels := []struct {
		title, y string
		v        func(*bench.Result) float64
	}{
		{"Loss", "loss %", func(r *bench.Result) float64 { return 100 * r.LossRatio }},
		{"Gateway CPU", "% of one core", func(r *bench.Result) float64 { return r.GatewayCPU }},
		{"Gateway RSS per stream", "KiB", func(r *bench.Result) float64 { return r.RSSPerStream / 1024 }},
	}
	const w, h = 6 * vg.Inch, 9 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadY: vg.Points(10), PadTop: vg.Points(5), PadBottom: vg.Points(5)}
	for i, pn := range panels {
		p := plot.New()
		p.Title.Text = pn.title
		p.X.Label.Text = "streams"
		p.Y.Label.Text = pn.y
		pts := make(plotter.XYs, 0, len(sw.Steps))
		for _, r := range sw.Steps {
			pts = append(pts, plotter.XY{X: float64(r.Streams), Y: pn.v(r)})
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("plot %s: %w", pn.title, err)
		}
		p.Add(line, points, plotter.NewGrid())
		p.Draw(tiles.At(dc, 0, i))
	}
	return savePNG(path, img)
}
