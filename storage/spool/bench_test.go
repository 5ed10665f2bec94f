package spool

import (
	"fmt"
	"sync"
	"testing"
)

// BenchmarkAppend measures one flush round of many recordings — every file
// appends one second of sealed PCMU (about 9 KiB) from one of 64 flush
// workers, as the gateway's flush pool does — with the group commit and,
// as the baseline in the same run, with one fsync per append:
//
//	go test -run '^$' -bench Append -benchtime 20x ./storage/spool/
func BenchmarkAppend(b *testing.B) {
	for _, files := range []int{100, 2000} {
		for _, mode := range []string{"group", "fsync-per-file"} {
			b.Run(fmt.Sprintf("files=%d/%s", files, mode), func(b *testing.B) {
				var opts []Option
				if mode != "group" {
					opts = append(opts, CommitPerFile())
				}
				s, err := Open(b.TempDir(), 1<<40, opts...)
				if err != nil {
					b.Fatal(err)
				}
				fs := make([]*File, files)
				for i := range fs {
					if fs[i], err = s.create(fmt.Sprintf("r%d", i)); err != nil {
						b.Fatal(err)
					}
				}
				chunk := make([]byte, 9<<10)
				b.SetBytes(int64(files * len(chunk)))
				b.ResetTimer()
				for range b.N {
					work := make(chan *File, files)
					for _, f := range fs {
						work <- f
					}
					close(work)
					var wg sync.WaitGroup
					for range 64 {
						wg.Go(func() {
							for f := range work {
								if err := f.Append(chunk); err != nil {
									b.Error(err)
								}
							}
						})
					}
					wg.Wait()
				}
				b.ReportMetric(float64(s.Commits())/float64(b.N), "commits/round")
			})
		}
	}
}
