package udprx

import (
	"runtime"
	"testing"
)

func TestReserveProcs(t *testing.T) {
	keep := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(keep) })
	cases := []struct {
		name        string
		env         string
		backend     backend
		procs, want int
		raised      bool
	}{
		{"one CPU, uring loop: one P more", "", backendUring, 1, 2, true},
		{"two Ps, one uring loop: enough", "", backendUring, 2, 2, false},
		{"three Ps, one uring loop: enough", "", backendUring, 3, 3, false},
		{"set by the operator", "1", backendUring, 1, 1, false},
		{"epoll loops keep no thread", "", backendEpoll, 1, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMAXPROCS", tc.env)
			runtime.GOMAXPROCS(tc.procs)
			got, raised := reserveProcs(tc.backend)
			if got != tc.want || raised != tc.raised || runtime.GOMAXPROCS(0) != tc.want {
				t.Fatalf("reserveProcs = %d, %v (GOMAXPROCS now %d), want %d, %v", got, raised, runtime.GOMAXPROCS(0), tc.want, tc.raised)
			}
		})
	}
}
