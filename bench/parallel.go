package bench

import (
	"fmt"
	"os"
	"sync"

	"github.com/schollz/progressbar/v3"
)

// forEach calls fn(i) for every i in [0, n) on workers goroutines (at least
// one) and returns when all have returned. With bar, each call advances it
// and the bar is finished at the end.
func forEach(n, workers int, bar *progressbar.ProgressBar, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(workers, 1) {
		wg.Go(func() {
			for i := range next {
				fn(i)
				if bar != nil {
					_ = bar.Add(1)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(os.Stderr)
	}
}
