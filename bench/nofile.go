package bench

import "syscall"

// daemonNoFile is the descriptor limit the bench asks for before it starts
// a daemon: Linux's default nr_open. rtpengine holds about six descriptors
// per call (four ports, its pcap file, ...) and the gateway three per
// stream. Where the hard limit cannot be raised (a container without
// CAP_SYS_RESOURCE), the soft limit is raised to the hard one: a daemon
// short of descriptors refuses calls ("Ran out of ports") far below the
// load asked, and the run would measure the limit, not the daemon.
const daemonNoFile = 1 << 20

// raiseNoFile raises this process's RLIMIT_NOFILE, which the daemons it
// starts inherit, to daemonNoFile where privileges allow and to the hard
// limit otherwise; it returns the soft limit in force. It goes through
// package syscall, so os/exec passes the new limit on instead of the one
// the process started with (often 1,024, which Go raises for itself
// only). startDaemon calls it before every start: two system calls.
func raiseNoFile() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Max < daemonNoFile {
		want := syscall.Rlimit{Cur: daemonNoFile, Max: daemonNoFile}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
			return daemonNoFile
		}
	}
	lim.Cur = min(lim.Max, max(lim.Cur, daemonNoFile))
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	return lim.Cur
}
