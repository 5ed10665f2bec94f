package udprx

import (
	"os"
	"runtime"
)

// ReserveProcs makes room in Go's scheduler for the receive loops of the
// Sets New makes. Each io_uring loop keeps an OS thread of its own, and its
// goroutine needs a P every time it wakes, every poll interval while media
// flows. With no more Ps than loops (GOMAXPROCS 1: a process confined to
// one CPU) the loop and every other goroutine (flushes, the API) take turns
// at the scheduler's granularity, milliseconds each, and under load flush
// delays and ingest lag grow to seconds; one P more lets the kernel
// interleave them (docs/bench.md, "Figures moved out of code comments").
// ReserveProcs leaves GOMAXPROCS alone when the environment sets it,
// and returns the value in force and whether it raised it.
func ReserveProcs() (procs int, raised bool) { return reserveProcs(chooseBackend()) }

func reserveProcs(b backend) (int, bool) {
	procs := runtime.GOMAXPROCS(0)
	if b != backendUring || os.Getenv("GOMAXPROCS") != "" {
		return procs, false
	}
	if need := loopsFor(procs) + 1; procs < need {
		runtime.GOMAXPROCS(need)
		return need, true
	}
	return procs, false
}

// loopsFor is how many loops a Set runs with procs Ps: one per two.
func loopsFor(procs int) int { return max(1, procs/2) }
