package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// clockTick is USER_HZ, which Linux fixes at 100 for /proc times.
const clockTick = 100

// CPUSeconds returns the user+system CPU time of process pid.
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may contain spaces: fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	// utime and stime are fields 14 and 15 of stat (12 and 13 after ')').
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times", pid)
	}
	return float64(ut+st) / clockTick, nil
}

// RSSBytes returns the resident set size of process pid.
func RSSBytes(pid int) (int64, error) {
	m, err := readMem(pid)
	return m.rss, err
}

// procMem is a process's resident memory and thread count. anon is the
// part that is not file-backed (heap, stacks): the binary's own pages,
// paged in as code runs for the first time, are a fixed cost that
// the per-stream figure would otherwise spread over the streams.
type procMem struct {
	rss, anon int64
	threads   int
}

// readMem reads /proc/pid/status.
func readMem(pid int) (procMem, error) {
	var m procMem
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	defer f.Close()
	kib := func(v string) int64 {
		kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		return kb << 10
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, v, _ := strings.Cut(sc.Text(), ":")
		switch key {
		case "VmRSS":
			m.rss = kib(v)
		case "RssAnon":
			m.anon = kib(v)
		case "Threads":
			m.threads, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if m.rss == 0 {
		return m, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
	}
	return m, nil
}

// UDPStats sums the kernel's per-socket figures over a set of local ports.
type UDPStats struct {
	Sockets int
	Drops   int64 // datagrams dropped by the kernel (receive buffer full, ...)
	RxQueue int64 // bytes queued for reading now
}

// ReadUDPStats reads /proc/net/udp and /proc/net/udp6 for sockets bound to
// one of ports.
func ReadUDPStats(ports map[uint16]bool) (UDPStats, error) {
	var st UDPStats
	for _, p := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		b, err := os.ReadFile(p)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return st, err
		}
		if err := parseUDP(b, ports, &st); err != nil {
			return st, fmt.Errorf("%s: %w", p, err)
		}
	}
	return st, nil
}

func parseUDP(b []byte, ports map[uint16]bool, st *UDPStats) error {
	lines := strings.Split(string(b), "\n")
	for _, ln := range lines[1:] {
		f := strings.Fields(ln)
		if len(f) < 13 {
			continue
		}
		// local_address is HEXIP:HEXPORT.
		i := strings.LastIndexByte(f[1], ':')
		port, err := strconv.ParseUint(f[1][i+1:], 16, 16)
		if err != nil {
			return err
		}
		if !ports[uint16(port)] {
			continue
		}
		q := strings.SplitN(f[4], ":", 2) // tx_queue:rx_queue
		if len(q) == 2 {
			rx, _ := strconv.ParseInt(q[1], 16, 64)
			st.RxQueue += rx
		}
		d, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
		st.Drops += d
		st.Sockets++
	}
	return nil
}

// LoadAvg returns the 1-minute load average (other users of the machine).
func LoadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return v
}

// startDaemon starts args (under taskset on cpus when set) with stdout and
// stderr in a new file at logPath; exited receives the result of Wait.
func startDaemon(args []string, cpus, logPath string, exited chan<- error) (*exec.Cmd, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	if cpus != "" {
		args = append([]string{"taskset", "-c", cpus}, args...)
	}
	raiseNoFile()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { exited <- cmd.Wait(); logf.Close() }()
	return cmd, nil
}
