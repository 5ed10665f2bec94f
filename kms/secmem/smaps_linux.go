package secmem

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"
)

// Flags reports, from /proc/self/smaps, whether the mapping holding p is
// excluded from core dumps ("dd") and locked in RAM ("lo"). Tests and
// start-up checks use it to see what the kernel really applied.
func Flags(p []byte) (dontDump, locked bool, err error) {
	if len(p) == 0 {
		return false, false, fmt.Errorf("secmem: empty slice")
	}
	addr := uint64(uintptr(unsafe.Pointer(&p[0])))
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return false, false, fmt.Errorf("secmem: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := mappingRange(line); ok {
			in = lo <= addr && addr < hi
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			for _, fl := range strings.Fields(strings.TrimPrefix(line, "VmFlags:")) {
				dontDump = dontDump || fl == "dd"
				locked = locked || fl == "lo"
			}
			return dontDump, locked, nil
		}
	}
	if err := sc.Err(); err != nil {
		return false, false, fmt.Errorf("secmem: smaps: %w", err)
	}
	return false, false, fmt.Errorf("secmem: no mapping holds %#x", addr)
}

// mappingRange parses the "lo-hi perms ..." header line of a mapping.
func mappingRange(line string) (lo, hi uint64, ok bool) {
	field, _, _ := strings.Cut(line, " ")
	a, b, found := strings.Cut(field, "-")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseUint(a, 16, 64)
	hi, err2 := strconv.ParseUint(b, 16, 64)
	return lo, hi, err1 == nil && err2 == nil
}
